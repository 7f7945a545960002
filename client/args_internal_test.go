package client

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tomato-code/realtime/socketio/parser"
)

// TestNewArgs covers what the client adds to parser.Args (tested there): dropping the event
// name, an ACK without data, and the shared ErrNoArgument.
func TestNewArgs(t *testing.T) {
	data := json.RawMessage(`["ev", 1, {"_placeholder":true,"num":1}, {"a":{"_placeholder":true,"num":0}}, "s"]`)
	atts := [][]byte{{0xa}, {0xb, 0xc}}
	a, err := newArgs(data, atts, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.String(); a.Len() != 4 || got != `[1,{"_placeholder":true,"num":1},{"a":{"_placeholder":true,"num":0}},"s"]` {
		t.Errorf("event args %d %s", a.Len(), got)
	}
	if b, ok := a.Bytes(1); !ok || !bytes.Equal(b, []byte{0xb, 0xc}) {
		t.Errorf("Bytes(1) = %v %v", b, ok)
	}
	var n int
	if err := a.Decode(9, &n); err != ErrNoArgument {
		t.Errorf("Decode(9): %v", err)
	}
	if ack, err := newArgs(data, atts, false); err != nil || ack.Len() != 5 || string(ack.Raw(0)) != `"ev"` {
		t.Errorf("ack args %s %v", ack, err)
	}
	if ack, err := newArgs(nil, nil, false); err != nil || ack.Len() != 0 || ack.String() != "[]" {
		t.Errorf("empty ack args %s %v", ack, err)
	}
	if _, err := newArgs(json.RawMessage(`{}`), nil, false); err == nil {
		t.Error("newArgs of an object")
	}

	// Value passes an argument on through the client's encoder: its placeholders are
	// renumbered for the new packet and its attachments come along.
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
