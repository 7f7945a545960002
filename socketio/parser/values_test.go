package parser

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

func TestAppendEvent(t *testing.T) {
	t.Parallel()
	type point struct {
		X int    `json:"x"`
		S string `json:"s"`
	}
	tests := []struct {
		name   string
		values []any
		want   string
		atts   int
	}{
		{"auth", []any{json.RawMessage(`{"token":"123"}`)}, `["auth",{"token":"123"}]`, 0},
		{"auth", []any{json.RawMessage(`{}`)}, `["auth",{}]`, 0},
		{"e", nil, `["e"]`, 0},
		{"e", []any{nil, true, false, 1, int64(-2), uint(3), 1.5, float32(0.1), 1e21, 1e-7, 100.0}, `["e",null,true,false,1,-2,3,1.5,0.1,1e+21,1e-7,100]`, 0},
		{"e", []any{"<a&b>\u2028\"\\\n\x01é😀"}, `["e","<a&b>` + "\u2028" + `\"\\\n\u0001é😀"]`, 0},
		{"e", []any{"bad\xffutf8"}, `["e","bad\ufffdutf8"]`, 0},
		{"bin", []any{[]byte{1}, map[string]any{"b": []byte{2}, "a": []any{[]byte{3}, "x"}}}, `["bin",{"_placeholder":true,"num":0},{"a":[{"_placeholder":true,"num":1},"x"],"b":{"_placeholder":true,"num":2}}]`, 3},
		{"nilbytes", []any{[]byte(nil), []byte{}}, `["nilbytes",null,{"_placeholder":true,"num":0}]`, 1},
		{"struct", []any{point{1, "<"}, &point{2, "y"}}, `["struct",{"x":1,"s":"<"},{"x":2,"s":"y"}]`, 0},
	}
	for _, tt := range tests {
		got, atts, err := AppendEvent(nil, nil, tt.name, tt.values...)
		if err != nil || string(got) != tt.want || len(atts) != tt.atts {
			t.Errorf("AppendEvent(%q, %v) = %s, %d attachments, %v; want %s, %d", tt.name, tt.values, got, len(atts), err, tt.want, tt.atts)
		}
		if !Valid(got) {
			t.Errorf("invalid JSON %s", got)
		}
	}
	got, atts, err := AppendEvent(nil, nil, "m", map[string][]byte{"k": {9}}, [][]byte{{1}, {2}})
	if err != nil || string(got) != `["m",{"k":{"_placeholder":true,"num":0}},[{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]]` || len(atts) != 3 || atts[0][0] != 9 || atts[2][0] != 2 {
		t.Errorf("binary containers: %s %v %v", got, atts, err)
	}
}

func TestAppendValueErrors(t *testing.T) {
	t.Parallel()
	for _, v := range []any{math.NaN(), math.Inf(1), make(chan int), json.RawMessage(`{`), RawValue{JSON: []byte(`[{"_placeholder":true,"num":1}]`), Attachments: [][]byte{{1}}}} {
		if _, _, err := AppendValue(nil, nil, v); err == nil {
			t.Errorf("AppendValue(%v) succeeded", v)
		}
	}
	cyclic := []any{nil}
	cyclic[0] = cyclic
	if _, _, err := AppendValue(nil, nil, cyclic); !errors.Is(err, ErrUnsupportedValue) {
		t.Errorf("cyclic value: %v", err)
	}
}

// TestRawValueReemit re-emits received arguments: the conformance suite's message-back.
func TestRawValueReemit(t *testing.T) {
	t.Parallel()
	var d Decoder
	d.Decode([]byte(`52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), false)
	d.Decode([]byte{1, 2, 3}, true)
	p, err := d.Decode([]byte{4, 5, 6}, true)
	if err != nil {
		t.Fatal(err)
	}
	elems, _ := Elements(nil, p.Data)
	var vals []any
	for _, e := range elems[1:] {
		vals = append(vals, RawValue{JSON: e, Attachments: p.Attachments})
	}
	data, atts, err := AppendEvent(nil, nil, "message-back", vals...)
	if err != nil {
		t.Fatal(err)
	}
	out := AppendText(nil, &Packet{Type: Event, Namespace: "/", ID: NoID, Data: data, Attachments: atts})
	if want := `52-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`; string(out) != want {
		t.Fatalf("got %s, want %s", out, want)
	}
	if len(atts) != 2 || atts[0][0] != 1 || atts[1][0] != 4 {
		t.Fatalf("attachments %v", atts)
	}

	// Reordered and nested: placeholders are renumbered in document order.
	data, atts, err = AppendArray(nil, [][]byte{{9}}, []byte{8}, RawValue{JSON: []byte(`{"b":{"num":1,"_placeholder":true},"a":{"_placeholder":true,"num":0}}`), Attachments: [][]byte{{1}, {2}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"_placeholder":true,"num":1},{"b":{"_placeholder":true,"num":2},"a":{"_placeholder":true,"num":3}}]`; string(data) != want {
		t.Fatalf("got %s, want %s", data, want)
	}
	if len(atts) != 4 || atts[1][0] != 8 || atts[2][0] != 2 || atts[3][0] != 1 {
		t.Fatalf("attachments %v", atts)
	}
}

func BenchmarkAppendEvent(b *testing.B) {
	buf := make([]byte, 0, 512)
	args := []any{"hello", 42, true, json.RawMessage(`{"id":"5f1c0e","status":"delivered"}`)}
	b.ReportAllocs()
	for b.Loop() {
		buf, _, _ = AppendEvent(buf[:0], nil, "order:update", args...)
	}
}

// TrustedJSON is written without the syntax check: the test gives it text that a
// json.RawMessage would not pass, to show the check is skipped, and the cases it still refuses.
func TestAppendTrustedJSON(t *testing.T) {
	t.Parallel()
	got, atts, err := AppendEvent(nil, nil, "e", TrustedJSON(`{"id":7,"b":{"_placeholder":true,"num":0}}`), TrustedJSON(nil))
	if err != nil || string(got) != `["e",{"id":7,"b":{"_placeholder":true,"num":0}},null]` || len(atts) != 0 {
		t.Errorf("trusted: %s, %d attachments, %v", got, len(atts), err)
	}
	got, _, err = AppendValue(nil, nil, TrustedJSON(`{`))
	if err != nil || string(got) != `{` {
		t.Errorf("trusted text is checked: %s %v", got, err)
	}
	if _, _, err := AppendValue(nil, nil, json.RawMessage(`{`)); !errors.Is(err, ErrInvalidRawJSON) {
		t.Errorf("json.RawMessage is no longer checked: %v", err)
	}
	if _, _, err := AppendValue(nil, nil, TrustedJSON{}); !errors.Is(err, ErrInvalidRawJSON) {
		t.Errorf("empty TrustedJSON: %v", err)
	}
}
