package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex: %v", err)
	}
	return b
}

// The measured examples of protocol/redis-adapter.md 4.1 plus the format boundaries.
func TestAppendLikeNotepack(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		v    any
		hex  string
	}{
		{"12.0", 12.0, "0c"},
		{"-0", math.Copysign(0, -1), "00"},
		{"128", int64(128), "cc80"},
		{"-33", int64(-33), "d0df"},
		{"-32", int64(-32), "e0"},
		{"2^32", int64(1 << 32), "cf0000000100000000"},
		{"2^32 as float", float64(1 << 32), "cf0000000100000000"},
		{"65535", 65535, "cdffff"},
		{"-129", int64(-129), "d1ff7f"},
		{"-2^31", int64(math.MinInt32), "d280000000"},
		{"-2^31-1", int64(math.MinInt32) - 1, "d3ffffffff7fffffff"},
		{"max uint64", uint64(math.MaxUint64), "cfffffffffffffffff"},
		{"1.5", 1.5, "cb3ff8000000000000"},
		{"NaN", math.NaN(), "cb7ff8000000000000"},
		{"+Inf", math.Inf(1), "cb7ff0000000000000"},
		{"1e300 stays float", 1e300, "cb7e37e43c8800759c"},
		{"float32 as float64", float32(0.5), "cb3fe0000000000000"},
		{"Date(0)", Timestamp{}, "d6ff00000000"},
		{"Date(1700000000123)", Timestamp{Sec: 1700000000, Nsec: 123000000}, "d7ff1d5353006553f100"},
		{"Date before 1970", Timestamp{Sec: -1, Nsec: 999000000}, "c70cff3b8b87c0ffffffffffffffff"},
		{"{a:undefined,b:1}", Map{{"a", Undefined{}}, {"b", int64(1)}}, "81a16201"},
		{"undefined in array", []any{Undefined{}}, "91c0"},
		{"str8", strings.Repeat("x", 32), "d920" + strings.Repeat("78", 32)},
		{"bin8", []byte{1, 2}, "c4020102"},
		{"empty map", Map{}, "80"},
		{"empty list", []string{}, "90"},
		{"bools and nil", []any{true, false, nil}, "93c3c2c0"},
		{"ext", Ext{Type: 5, Data: []byte{1, 2, 3}}, "c7030501020 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := Append(nil, c.v)
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, c.hex); !bytes.Equal(got, want) {
				t.Fatalf("Append(%v) = %x, want %x", c.v, got, want)
			}
		})
	}
}

func TestAppendRejectsUnknownTypes(t *testing.T) {
	t.Parallel()
	dst := []byte{0x90}
	out, err := Append(dst, []any{struct{}{}})
	if err == nil {
		t.Fatal("Append of a struct succeeded")
	}
	if !bytes.Equal(out, dst) {
		t.Fatalf("Append left %x after an error, want %x", out, dst)
	}
}

func TestDecodeLikeNotepack(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		hex  string
		want any
	}{
		{"fixint", "7f", int64(127)},
		{"negative fixint", "ff", int64(-1)},
		{"i64", "d3ffffffffffffffff", int64(-1)},
		{"u64 above int64", "cf8000000000000000", uint64(1 << 63)},
		{"float32", "ca3fc00000", 1.5},
		{"nil", "c0", nil},
		{"timestamp 32", "d6ff6553f100", Timestamp{Sec: 1700000000}},
		{"timestamp 64", "d7ff1d5353006553f100", Timestamp{Sec: 1700000000, Nsec: 123000000}},
		{"timestamp 96", "c70cff3b8b87c0ffffffffffffffff", Timestamp{Sec: -1, Nsec: 999000000}},
		{"legacy undefined", "d40000", Undefined{}},
		{"legacy date", "d70000000000000003e8", Timestamp{Sec: 1}},
		{"legacy negative date", "d700ffffffffffffffff", Timestamp{Sec: -1, Nsec: 999000000}},
		{"legacy ArrayBuffer", "c7020001ff", []byte{1, 0xff}},
		{"other ext", "d50a0102", Ext{Type: 10, Data: []byte{1, 2}}},
		{"ext16 type -1 is not a date", "c80001ff07", Ext{Type: -1, Data: []byte{7}}},
		{"invalid UTF-8 repaired", "a3e282ff", "\ufffd\ufffd"},
		{"map keys become property names", "8401a1610ba162c0a163c3a164", Map{{"1", "a"}, {"11", "b"}, {"null", "c"}, {"true", "d"}}},
		{"repeated key keeps first position, last value", "83a17801a17902a17803", Map{{"x", int64(3)}, {"y", int64(2)}}},
		{"array-index keys first", "83a16201a13202a13103", Map{{"1", int64(3)}, {"2", int64(2)}, {"b", int64(1)}}},
		{"__proto__ is not an own property", "82a95f5f70726f746f5f5f80a16101", Map{{"a", int64(1)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decode(unhex(t, c.hex))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Decode(%s) = %#v, want %#v", c.hex, got, c.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, h := range []string{
		"",                                      // nothing
		"c1",                                    // never used
		"0000",                                  // trailing byte
		"92",                                    // truncated array
		"dc ffff 00",                            // array longer than the input
		"df ffffffff",                           // map longer than the input
		"c4 05 0102",                            // truncated bin
		"db ffffffff 61",                        // truncated str
		"c7 05 ff 0102030405",                   // timestamp 96 of the wrong size
		"cf 0001",                               // truncated integer
		strings.Repeat("91", MaxDepth+1) + "c0", // too deep
	} {
		_, err := Decode(unhex(t, h))
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("Decode(%s) error = %v, want ErrMalformed", h, err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	v := []any{
		"text", int64(-5), uint64(math.MaxUint64), 2.25, []byte{0, 1}, nil, true,
		Map{{"k", []any{Map{}, []any{}}}}, Timestamp{Sec: 1 << 33, Nsec: 5},
		Timestamp{Sec: -100}, Ext{Type: 3, Data: make([]byte, 300)},
	}
	b, err := Append(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, v) {
		t.Fatalf("round trip = %#v, want %#v", got, v)
	}
}

func TestTimestampJSMillis(t *testing.T) {
	t.Parallel()
	cases := []struct {
		ts   Timestamp
		ms   int64
		ok   bool
		text string
	}{
		{Timestamp{Sec: 1700000000, Nsec: 123000000}, 1700000000123, true, "2023-11-14T22:13:20.123Z"},
		{Timestamp{Sec: 1700000000}, 1700000000000, true, "2023-11-14T22:13:20.000Z"},
		{Timestamp{Sec: -1, Nsec: 999000000}, -1, true, "1969-12-31T23:59:59.999Z"},
		// notepack's float arithmetic rounds 999.999999 ms up at this magnitude, as Node does.
		{Timestamp{Sec: 1700000000, Nsec: 999999999}, 1700000001000, true, "2023-11-14T22:13:21.000Z"},
		{Timestamp{Sec: 253402300800}, 253402300800000, true, "+010000-01-01T00:00:00.000Z"},
		{Timestamp{Sec: -62198755200}, -62198755200000, true, "-000001-01-01T00:00:00.000Z"},
		{Timestamp{Sec: 8.64e12 + 1}, 0, false, "null"},
	}
	for _, c := range cases {
		ms, ok := c.ts.JSMillis()
		if ms != c.ms || ok != c.ok {
			t.Errorf("%+v.JSMillis() = %d, %v; want %d, %v", c.ts, ms, ok, c.ms, c.ok)
		}
		text, _, err := ToSocketIO(c.ts)
		if err != nil {
			t.Fatal(err)
		}
		want := c.text
		if c.ok {
			want = `"` + want + `"`
		}
		if string(text) != want {
			t.Errorf("ToSocketIO(%+v) = %s, want %s", c.ts, text, want)
		}
	}
}

func TestJSNumber(t *testing.T) {
	t.Parallel()
	cases := map[float64]string{
		1.5: "1.5", 0.1: "0.1", 1e20: "100000000000000000000", 1e21: "1e+21", 1.5e-7: "1.5e-7",
		0.000001: "0.000001", -2.5e-10: "-2.5e-10", 123456789.125: "123456789.125",
		1.7976931348623157e308: "1.7976931348623157e+308", 5e-324: "5e-324", 100: "100",
		float64(float32(0.1)): "0.10000000149011612",
	}
	for f, want := range cases {
		if got := string(appendJSNumber(nil, f)); got != want {
			t.Errorf("appendJSNumber(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestDecodeUTF8LikeWHATWG(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"e282":     "\ufffd",             // truncated sequence: one replacement
		"eda080":   "\ufffd\ufffd\ufffd", // encoded surrogate: three
		"f4908080": "\ufffd\ufffd\ufffd\ufffd",
		"61ff62":   "a\ufffdb",
		"c3a9":     "é",
	}
	for h, want := range cases {
		if got := decodeUTF8(unhex(t, h)); got != want {
			t.Errorf("decodeUTF8(%s) = %q, want %q", h, got, want)
		}
	}
}

// What a node encodes, every node can decode: at each nesting level around MaxDepth, the
// encoders (the values path and the broadcast's direct path) accept exactly what the
// decoders read back. An encoder that allowed one level more published broadcasts that the
// other Go nodes dropped as malformed, while the sender saw no error.
func TestEncodersStopWhereDecodersDo(t *testing.T) {
	nested := func(n int, inner any) any {
		v := inner
		for range n {
			v = []any{v}
		}
		return v
	}
	for n := MaxDepth - 5; n <= MaxDepth+1; n++ {
		for _, inner := range []any{int64(1), []any{}, Map{}} {
			b, err := Append(nil, nested(n, inner))
			if err != nil {
				continue
			}
			if _, err := Decode(b); err != nil {
				t.Errorf("%d levels around %T: Append accepted it, Decode says %v", n, inner, err)
			}
		}
		// Inside a broadcast the data sits at depth 2 ([uid, {data}]); its event name adds none.
		for _, inner := range []string{"1", "[]", "{}"} {
			data := `["e",` + strings.Repeat("[", n) + inner + strings.Repeat("]", n) + "]"
			msg, err := AppendBroadcast(nil, Broadcast{UID: "u", Packet: Packet{Nsp: "/", Data: []byte(data)}})
			if err != nil {
				continue
			}
			if _, err := DecodeBroadcast(msg); err != nil {
				t.Errorf("data nested %d levels around %s: AppendBroadcast accepted it, DecodeBroadcast says %v", n, inner, err)
			}
		}
	}
	// The bound still admits what it should: MaxDepth levels of arrays, and no more.
	if _, err := Append(nil, nested(MaxDepth, int64(1))); err != nil {
		t.Errorf("MaxDepth levels refused: %v", err)
	}
	if _, err := Append(nil, nested(MaxDepth+1, int64(1))); err == nil {
		t.Errorf("MaxDepth+1 levels accepted")
	}
}
