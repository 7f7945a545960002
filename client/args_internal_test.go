package client

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tomato-code/realtime/socketio/parser"
)

func TestArgs(t *testing.T) {
	data := json.RawMessage(`["ev", 1, {"_placeholder":true,"num":1}, {"a":{"_placeholder":true,"num":0}}, "s"]`)
	atts := [][]byte{{0xa}, {0xb, 0xc}}
	a, err := newArgs(data, atts, true)
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 4 {
		t.Fatalf("Len %d", a.Len())
	}
	if b, ok := a.Bytes(1); !ok || !bytes.Equal(b, []byte{0xb, 0xc}) {
		t.Errorf("Bytes(1) = %v %v", b, ok)
	}
	for _, i := range []int{0, 2, 3, -1, 4} {
		if b, ok := a.Bytes(i); ok {
			t.Errorf("Bytes(%d) = %v, want not binary", i, b)
		}
	}
	var n int
	if err := a.Decode(0, &n); err != nil || n != 1 {
		t.Errorf("Decode(0) = %d %v", n, err)
	}
	var b []byte
	if err := a.Decode(1, &b); err != nil || !bytes.Equal(b, []byte{0xb, 0xc}) {
		t.Errorf("Decode(1) = %v %v", b, err)
	}
	if err := a.Decode(1, &n); err == nil {
		t.Error("Decode of a binary argument into *int succeeded")
	}
	if err := a.Decode(9, &n); err != ErrNoArgument {
		t.Errorf("Decode(9): %v", err)
	}
	if got := a.String(); got != `[1,{"_placeholder":true,"num":1},{"a":{"_placeholder":true,"num":0}},"s"]` {
		t.Errorf("String %s", got)
	}

	// Value passes an argument on: its placeholders are renumbered for the new packet and its
	// attachments come along.
	payload, out, err := encodeArgs(nil, []any{a.Value(2), a.Value(1)})
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"a":{"_placeholder":true,"num":0}},{"_placeholder":true,"num":1}]`; string(payload) != want {
		t.Errorf("forwarded payload %s, want %s", payload, want)
	}
	if len(out) != 2 || !bytes.Equal(out[0], []byte{0xa}) || !bytes.Equal(out[1], []byte{0xb, 0xc}) {
		t.Errorf("forwarded attachments %v", out)
	}
}

func TestEncodeArgs(t *testing.T) {
	ev := "name"
	payload, atts, err := encodeArgs(&ev, []any{[]byte{1}, map[string]any{"k": []byte{2}}, json.RawMessage(`{"z":1,"a":2}`), "é<"})
	if err != nil {
		t.Fatal(err)
	}
	want := `["name",{"_placeholder":true,"num":0},{"k":{"_placeholder":true,"num":1}},{"z":1,"a":2},"é<"]`
	if string(payload) != want || len(atts) != 2 {
		t.Errorf("got %s %v, want %s", payload, atts, want)
	}
	p := &parser.Packet{Type: parser.Event, Namespace: "/x", ID: 7, Data: payload, Attachments: atts}
	if got := string(parser.AppendText(nil, p)); got != "52-/x,7"+want {
		t.Errorf("packet text %s", got)
	}
	if _, err := marshalAuth(map[string]any{"b": []byte{1}}); err == nil {
		t.Error("binary auth accepted")
	}
}
