package wire

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
)

// The differential tests run the real notepack.io and socket.io-parser pinned in test/node on
// the same inputs as the Go codec and compare the bytes.

// randomJSON writes a random JSON value biased towards the cases where encoders disagree:
// number boundaries, integral floats, array-index keys, repeated keys, escapes, unicode.
func randomJSON(r *rand.Rand, b *strings.Builder, depth int) {
	k := r.IntN(10)
	if depth > 3 {
		k = r.IntN(6)
	}
	switch k {
	case 0:
		b.WriteString([]string{"null", "true", "false"}[r.IntN(3)])
	case 1, 2:
		nums := []string{"0", "-0", "12.0", "127", "128", "-32", "-33", "255", "256", "65535", "65536",
			"-128", "-129", "-32768", "-32769", "2147483647", "-2147483648", "-2147483649", "4294967295",
			"4294967296", "9007199254740991", "-9007199254740991", "1.5", "0.1", "-2.5e-8", "1e19", "18446744073709549568",
			"-9223372036854775808", "5e-324", "1E3", "12.50", "-0.0"}
		if r.IntN(2) == 0 {
			b.WriteString(nums[r.IntN(len(nums))])
		} else {
			b.WriteString(strconv.FormatFloat((r.Float64()-0.5)*math.Pow(10, float64(r.IntN(30)-10)), 'g', -1, 64))
		}
	case 3, 4:
		strs := []string{"", "a", "é€😀", `q\"\\\n\t\u0001`, "\\u00e9\\ud83d\\ude00", strings.Repeat("x", 31),
			strings.Repeat("y", 32), strings.Repeat("z", 300), "<>&\u2028"}
		b.WriteString(`"` + strs[r.IntN(len(strs))] + `"`)
	case 5:
		b.WriteString(strconv.Itoa(r.IntN(1 << 20)))
	case 6, 7:
		b.WriteByte('[')
		n := r.IntN(5)
		if r.IntN(10) == 0 {
			n = 16 + r.IntN(3)
		}
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			randomJSON(r, b, depth+1)
		}
		b.WriteByte(']')
	default:
		b.WriteByte('{')
		keys := []string{"a", "b", "0", "1", "10", "2", "01", "-1", "4294967294", "4294967295", "__proto__", "type", "é"}
		n := r.IntN(5)
		if r.IntN(10) == 0 {
			n = 17
		}
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			key := keys[r.IntN(len(keys))]
			if n > 5 {
				key = fmt.Sprintf("k%d", i)
			}
			b.WriteString(`"` + key + `":`)
			randomJSON(r, b, depth+1)
		}
		b.WriteByte('}')
	}
}

func TestEncodeAgreesWithNotepack(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	docs := []string{`{"a":1,"a":2,"1":3}`, `[1e400]`, `[-1e400]`}
	for range 400 {
		var b strings.Builder
		randomJSON(r, &b, 0)
		docs = append(docs, b.String())
	}
	input, _ := json.Marshal(docs)
	script := `
const notepack = require("notepack.io");
const docs = ` + string(input) + `;
for (const d of docs) console.log(notepack.encode(JSON.parse(d)).toString("hex"));
`
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lines := strings.Split(strings.TrimSpace(string(testutil.RunNode(ctx, t, script))), "\n")
	if len(lines) != len(docs) {
		t.Fatalf("node printed %d lines for %d documents", len(lines), len(docs))
	}
	for i, doc := range docs {
		v, err := FromJSON([]byte(doc))
		if err != nil {
			t.Errorf("FromJSON(%s): %v", doc, err)
			continue
		}
		got, err := Append(nil, v)
		if err != nil {
			t.Errorf("Append(%s): %v", doc, err)
			continue
		}
		if hex.EncodeToString(got) != lines[i] {
			t.Errorf("document %s\n go   %x\n node %s", doc, got, lines[i])
		}
	}
}

// TestDecodeAgreesWithNode feeds MessagePack made by notepack from JavaScript values (Buffers,
// Dates, undefined, typed arrays, Maps...) and hand-made legacy forms to both sides, and
// compares what a client would receive: socket.io-parser's encoding of the decoded data.
func TestDecodeAgreesWithNode(t *testing.T) {
	t.Parallel()
	exprs := []string{
		`["bin", Buffer.from([1,2,3,255]), new Date(1700000000123), new Date(0), new Uint8Array([9,8])]`,
		`["d", new Date(-1), new Date(-62198755200000), new Date(253402300800000), new Date(8.64e15), new Date(-8.64e15)]`,
		`["u", undefined, {a: undefined, b: [undefined, null]}, NaN, Infinity, -Infinity, -0]`,
		`["n", 2**53, 2**53 + 2, -(2**53), 2**63, 2**64 - 2**11, -(2**63), 0.1, 1e-21, 1e-7, 123e-20, 5e-324]`,
		`["o", {b: 1, 2: "two", 1: "one", a: {z: new Uint16Array([258, 3])}}]`,
		`["m", new Map([[1, 2]]), new Set([1]), {toJSON() { return "j"; }}, [[[[Buffer.alloc(0)]]]]]`,
		`["s", "é€😀", "\u0000\u001f\"\\\u2028<>&", "x".repeat(70000)]`,
		`["big", Buffer.alloc(70000, 7), Array.from({length: 70000}, (_, i) => i % 3)]`,
	}
	raws := []string{
		"92a16cd40000",                         // ["l", legacy undefined]
		"92a16cd7000000018bcfe56800",           // legacy Date
		"92a16cc7030001ff02",                   // legacy ArrayBuffer
		"92a16cd50a0102",                       // ext 10 -> [10, Buffer]
		"92a16cc80001ff07",                     // ext16 of type -1 -> [-1, Buffer]
		"93a16cca3dcccccdca7f800000",           // float32 0.1 and +Inf
		"92a16cc70cffffffffff0000000000000001", // timestamp 96 with ns past a second
		"92a16c83a3616263a178d920616161616161616161616161616161616161616161616161616161616161616101c0a17a", // str8 key, number and nil keys
		"92a16ca4e282ff61", // invalid UTF-8
		"92a16c81c40161c3", // bin key
	}
	script := `
const notepack = require("notepack.io");
const { Encoder } = require("socket.io-parser");
const exprs = ` + mustJSON(exprs) + `;
const raws = ` + mustJSON(raws) + `;
const out = [];
const show = (buf) => {
  const data = notepack.decode(buf);
  const enc = new Encoder().encode({ type: 2, nsp: "/", data });
  const text = enc[0];
  out.push({ text: text.slice(text.indexOf("[")), atts: enc.slice(1).map((b) => Buffer.from(b).toString("hex")) });
};
for (const e of exprs) {
  const buf = notepack.encode(eval(e));
  out.push({ hex: buf.toString("hex") });
  show(buf);
}
for (const r of raws) show(Buffer.from(r, "hex"));
console.log(JSON.stringify(out));
`
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []struct {
		Hex  string   `json:"hex"`
		Text string   `json:"text"`
		Atts []string `json:"atts"`
	}
	if err := json.Unmarshal(testutil.RunNode(ctx, t, script), &out); err != nil {
		t.Fatal(err)
	}
	var inputs []string
	for i := 0; i < 2*len(exprs); i += 2 {
		inputs = append(inputs, out[i].Hex)
	}
	results := []int{}
	for i := 1; i < 2*len(exprs); i += 2 {
		results = append(results, i)
	}
	for i := 2 * len(exprs); i < len(out); i++ {
		results = append(results, i)
	}
	inputs = append(inputs, raws...)
	for n, in := range inputs {
		want := out[results[n]]
		raw, _ := hex.DecodeString(in)
		v, err := Decode(raw)
		if err != nil {
			t.Errorf("input %d: Decode: %v", n, err)
			continue
		}
		text, atts, err := ToSocketIO(v)
		if err != nil {
			t.Errorf("input %d: ToSocketIO: %v", n, err)
			continue
		}
		// Integers beyond 2^53 are written exactly here and as the shortest float by
		// JavaScript; a JavaScript client parses both to the same number.
		if string(text) != want.Text && !sameJSON(text, []byte(want.Text)) {
			t.Errorf("input %d (%.60s):\n go   %.300s\n node %.300s", n, in, text, want.Text)
		}
		var gotAtts []string
		for _, a := range atts {
			gotAtts = append(gotAtts, hex.EncodeToString(a))
		}
		if fmt.Sprint(gotAtts) != fmt.Sprint(want.Atts) {
			t.Errorf("input %d attachments:\n go   %.200v\n node %.200v", n, gotAtts, want.Atts)
		}
		if n < len(exprs) { // values notepack wrote must come back out of Append unchanged
			again, err := Append(nil, v)
			if err != nil || !bytes.Equal(again, raw) {
				t.Errorf("input %d: re-encoding differs (%v):\n go   %.200x\n node %.200s", n, err, again, in)
			}
		}
	}
}

// Node's notepack writes whole numbers from 2^64 up as a wrapped-around uint64 (1e21 arrives
// as a different number); Go writes them as float64, which notepack decodes to the right value.
func TestHugeWholeNumbersStayFloats(t *testing.T) {
	t.Parallel()
	nums := []float64{1e20, 1e21, -1e19, 3.4028234663852886e38}
	var hexes []string
	for _, f := range nums {
		b, err := Append(nil, f)
		if err != nil || b[0] != 0xcb {
			t.Fatalf("Append(%v) = %x, %v; want a float64", f, b, err)
		}
		hexes = append(hexes, hex.EncodeToString(b))
	}
	script := `
const notepack = require("notepack.io");
console.log(JSON.stringify(` + mustJSON(hexes) + `.map((h) => notepack.decode(Buffer.from(h, "hex")))));
`
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []float64
	if err := json.Unmarshal(testutil.RunNode(ctx, t, script), &got); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(nums) {
		t.Fatalf("node decoded %v, want %v", got, nums)
	}
}

func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
