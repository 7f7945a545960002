package wire

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestFromSocketIO(t *testing.T) {
	t.Parallel()
	got, err := FromSocketIO([]byte(` ["e", {"b":{"_placeholder":true,"num":1},"10":1,"2":[{"_placeholder":true,"num":0}],"b":2}, 12.0, 1e3, -0, 0.5, 18446744073709551615, 1e400, "\ud83d\ude00\u0041"] `),
		[][]byte{{1}, {2}})
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"e", Map{{"2", []any{[]byte{1}}}, {"10", int64(1)}, {"b", int64(2)}}, int64(12), int64(1000), int64(0), 0.5,
		uint64(18446744073709551615), jsonInf(), "😀A"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
	for _, bad := range []string{
		`["e",{"_placeholder":true,"num":2}]`, `["e",{"_placeholder":true,"num":-1}]`,
		`["e",{"_placeholder":true,"num":"0"}]`, `["e",{"_placeholder":true}]`,
		`["e",]`, `["e"`, `[01]`, `["\u00"]`, "[\"a\x01\"]", `{"a" 1}`, `[1.]`, `[-]`, `[1e]`, `tru`, `[] x`,
	} {
		if _, err := FromSocketIO([]byte(bad), [][]byte{{1}, {2}}); !errors.Is(err, ErrMalformed) {
			t.Errorf("FromSocketIO(%s) error = %v, want ErrMalformed", bad, err)
		}
	}
	// A placeholder flag that is not exactly true is an ordinary object, as in socket.io-parser.
	v, err := FromSocketIO([]byte(`[{"_placeholder":1,"num":0}]`), [][]byte{{1}})
	if err != nil || !reflect.DeepEqual(v, []any{Map{{"_placeholder", int64(1)}, {"num", int64(0)}}}) {
		t.Fatalf("non-true placeholder flag: %#v, %v", v, err)
	}
}

func jsonInf() any {
	var f float64
	_ = json.Unmarshal([]byte("1e308"), &f)
	return f * 10
}

func TestToSocketIO(t *testing.T) {
	t.Parallel()
	v := []any{"ev", []byte{1}, Map{{"u", Undefined{}}, {"x", []any{Undefined{}, nil}}, {"t", "q\"\\\n\x01<>&\u2028"}},
		Ext{Type: 7, Data: []byte{2}}, jsonInf(), math.Copysign(0, -1), uint64(1 << 63), 1e21}
	text, atts, err := ToSocketIO(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `["ev",{"_placeholder":true,"num":0},{"x":[null,null],"t":"q\"\\\n\u0001<>&` + "\u2028" + `"},[7,{"_placeholder":true,"num":1}],null,0,9223372036854775808,1e+21]`
	if string(text) != want {
		t.Fatalf("got  %s\nwant %s", text, want)
	}
	if !reflect.DeepEqual(atts, [][]byte{{1}, {2}}) {
		t.Fatalf("attachments %v", atts)
	}
	j, err := ToJSON([]any{[]byte{1, 255}})
	if err != nil || string(j) != `[{"type":"Buffer","data":[1,255]}]` {
		t.Fatalf("ToJSON = %s, %v", j, err)
	}
	// Round trip: Socket.IO data -> values -> Socket.IO data is the identity on canonical JSON.
	in := `["x",{"_placeholder":true,"num":0},{"a":[1,2.5,"s",null,true,{}]}]`
	val, err := FromSocketIO([]byte(in), [][]byte{{9}})
	if err != nil {
		t.Fatal(err)
	}
	out, atts, err := ToSocketIO(val)
	if err != nil || string(out) != in || len(atts) != 1 || atts[0][0] != 9 {
		t.Fatalf("round trip %s %v %v", out, atts, err)
	}
}

func TestFromJSONAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{`{}`, `[]`, `"\/"`, `{"a":{"b":[1,{"c":null}]}}`, `0`, `-1.5e-3`, `"\uD800"`, "\"\xff\""} {
		v, err := FromJSON([]byte(doc))
		if err != nil {
			t.Errorf("FromJSON(%s): %v", doc, err)
			continue
		}
		out, err := ToJSON(v)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if json.Unmarshal([]byte(doc), &a) != nil || json.Unmarshal(out, &b) != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("FromJSON(%s) -> %s, differs from encoding/json", doc, out)
		}
	}
}
