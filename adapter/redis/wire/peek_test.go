package wire

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// skipLikeValue fails t unless skip and value agree on b: the same error text, or success at
// the same offset.
func skipLikeValue(t *testing.T, b []byte) {
	t.Helper()
	dv, ds := decoder{b: b}, decoder{b: b}
	_, verr := dv.value()
	serr := ds.skip()
	switch {
	case (verr == nil) != (serr == nil):
		t.Fatalf("%x: value error %v, skip error %v", b, verr, serr)
	case verr != nil && verr.Error() != serr.Error():
		t.Fatalf("%x: value error %q, skip error %q", b, verr, serr)
	case verr == nil && dv.off != ds.off:
		t.Fatalf("%x: value ends at %d, skip at %d", b, dv.off, ds.off)
	}
}

func TestSkipLikeValue(t *testing.T) {
	t.Parallel()
	cases := []string{
		"", "c1", "92", "dc ffff 00", "df ffffffff", "c4 05 0102", "db ffffffff 61", "c7 05 ff 0102030405",
		"c7 0c ff 0102", "c8 000c ff 0102", "cf 0001", "d4 00", "d8 01 0102", "ca 0000", "d9", "de 0001 a161",
		strings.Repeat("91", MaxDepth+1) + "c0", strings.Repeat("91", MaxDepth) + "c0",
		strings.Repeat("81c0", MaxDepth) + "c0", strings.Repeat("81c0", MaxDepth+1) + "c0",
	}
	for _, v := range broadcastVectors {
		cases = append(cases, v.hex)
	}
	cases = append(cases, "d40000", "d7000000018bcfe56800", "c7030001ff02", "c70cffffffffff0000000000000001", "c0c2c3",
		"7fe0ccffcd0102d0ffd3"+strings.Repeat("00", 8))
	for _, h := range cases {
		skipLikeValue(t, unhex(t, h))
	}
}

// Node's captures: the uid and options PeekBroadcast reads are those of the full decode.
func TestPeekBroadcastVectors(t *testing.T) {
	t.Parallel()
	for _, c := range broadcastVectors {
		raw := unhex(t, c.hex)
		full, err := DecodeBroadcast(raw)
		if err != nil {
			t.Fatal(err)
		}
		uid, opts, err := PeekBroadcast(raw)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if uid != c.want.UID || !reflect.DeepEqual(opts, full.Opts) {
			t.Errorf("%s: peeked %q %#v, want %q %#v", c.name, uid, opts, c.want.UID, full.Opts)
		}
	}
}

func TestPeekBroadcastRejects(t *testing.T) {
	t.Parallel()
	packet := Map{{"type", int64(2)}, {"data", []any{"e"}}}
	for name, v := range map[string]any{
		"a map":            Map{{"a", int64(1)}},
		"two elements":     []any{"u", Map{}},
		"packet not a map": []any{"u", int64(3), Map{}},
		"opts missing":     []any{"u", packet, nil},
		"rooms a string":   []any{"u", packet, Map{{"rooms", "abc"}}},
		"rooms hold a map": []any{"u", packet, Map{{"rooms", []any{Map{}}}}},
		"except a number":  []any{"u", packet, Map{{"rooms", []any{"r"}}, {"except", int64(1)}}},
		"rooms hold NaN":   []any{"u", packet, Map{{"rooms", []any{"r", math.NaN()}}}},
	} {
		raw, err := Append(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := PeekBroadcast(raw); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error = %v, want ErrMalformed", name, err)
		}
	}
	for _, h := range []string{
		"", "c1", "93", "93a178808000", // nothing, never used, truncated, trailing byte
		"93a178" + "81a464617461c1" + "80",                      // unknown type byte inside the packet
		"93a178" + "81a464617461dc0010" + "80",                  // packet array longer than the input
		"93a178" + strings.Repeat("91", MaxDepth) + "c0" + "80", // packet too deep
		"94a1788080c1", // a fourth element that does not decode
	} {
		if _, _, err := PeekBroadcast(unhex(t, h)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error = %v, want ErrMalformed", h, err)
		}
	}
}

// Packet contents are not examined: a broadcast whose packet the full decode refuses still
// yields its rooms.
func TestPeekBroadcastIgnoresPacketContents(t *testing.T) {
	t.Parallel()
	raw, err := Append(nil, []any{"u", Map{{"type", int64(0)}, {"nsp", nil}}, Map{{"rooms", []any{"a", int64(7), "a"}}}, "extra"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeBroadcast(raw); !errors.Is(err, ErrMalformed) {
		t.Fatalf("DecodeBroadcast error = %v, want ErrMalformed", err)
	}
	uid, opts, err := PeekBroadcast(raw)
	if err != nil || uid != "u" || !reflect.DeepEqual(opts.Rooms, []string{"a", "7"}) {
		t.Fatalf("PeekBroadcast = %q %#v %v", uid, opts, err)
	}
}

// BroadcastUID agrees with the full decode on Node's captures, and says no to what is not
// [string, ...] without decoding anything large.
func TestBroadcastUID(t *testing.T) {
	t.Parallel()
	for _, c := range broadcastVectors {
		uid, ok := BroadcastUID(unhex(t, c.hex))
		if !ok || uid != c.want.UID {
			t.Errorf("%s: %q %v, want %q", c.name, uid, ok, c.want.UID)
		}
	}
	for name, v := range map[string]any{
		"a map":          Map{{"a", int64(1)}},
		"two elements":   []any{"u", Map{}},
		"a number uid":   []any{int64(7), Map{}, Map{}},
		"a map uid":      []any{Map{{"a", int64(1)}}, Map{}, Map{}},
		"an empty array": []any{},
	} {
		b, err := Append(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if uid, ok := BroadcastUID(b); ok {
			t.Errorf("%s: got uid %q", name, uid)
		}
	}
	for _, b := range [][]byte{nil, {0x93}, {0x93, 0xa5, 'a'}, {0x93, 0xd9}} {
		if uid, ok := BroadcastUID(b); ok {
			t.Errorf("truncated % x: got uid %q", b, uid)
		}
	}
}
