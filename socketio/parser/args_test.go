package parser

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestArgs covers what the server (socketio.Args) and the client (client.Args) both rely on:
// they are this type.
func TestArgs(t *testing.T) {
	elems, err := Elements(nil, []byte(`["ev", 1, {"_placeholder":true,"num":1}, {"a":{"_placeholder":true,"num":0}}, "s"]`))
	if err != nil {
		t.Fatal(err)
	}
	atts := [][]byte{{0xa}, {0xb, 0xc}}
	a := ArgsOf(elems[1:], atts)
	if a.Len() != 4 {
		t.Fatalf("Len %d", a.Len())
	}
	if string(a.Raw(0)) != "1" || a.Raw(4) != nil || a.Raw(-1) != nil {
		t.Errorf("Raw(0) %s, Raw(4) %s, Raw(-1) %s", a.Raw(0), a.Raw(4), a.Raw(-1))
	}
	if b, ok := a.Bytes(1); !ok || !bytes.Equal(b, []byte{0xb, 0xc}) {
		t.Errorf("Bytes(1) = %v %v", b, ok)
	}
	for _, i := range []int{0, 2, 3, -1, 4} {
		if b, ok := a.Bytes(i); ok {
			t.Errorf("Bytes(%d) = %v, want not binary", i, b)
		}
	}
	if len(a.Attachments()) != 2 {
		t.Errorf("Attachments %v", a.Attachments())
	}

	var n int
	if err := a.Decode(0, &n); err != nil || n != 1 {
		t.Errorf("Decode(0) = %d %v", n, err)
	}
	var b []byte
	if err := a.Decode(1, &b); err != nil || !bytes.Equal(b, []byte{0xb, 0xc}) {
		t.Errorf("Decode(1) into *[]byte = %v %v", b, err)
	}
	var v any
	if err := a.Decode(1, &v); err != nil || !bytes.Equal(v.([]byte), []byte{0xb, 0xc}) {
		t.Errorf("Decode(1) into *any = %v %v", v, err)
	}
	if err := a.Decode(1, &n); err == nil {
		t.Error("Decode of a binary argument into *int succeeded")
	}
	var m map[string]any
	if err := a.Decode(1, &m); err == nil {
		t.Errorf("Decode of a binary argument into a map succeeded: %v", m)
	}
	// A nested binary value stays a placeholder object.
	if err := a.Decode(2, &m); err != nil || m["a"].(map[string]any)["_placeholder"] != true {
		t.Errorf("Decode(2) = %v %v", m, err)
	}
	for _, i := range []int{4, -1} {
		if err := a.Decode(i, &n); err != ErrNoArgument {
			t.Errorf("Decode(%d): %v, want ErrNoArgument itself", i, err)
		}
	}
	if got := a.String(); got != `[1,{"_placeholder":true,"num":1},{"a":{"_placeholder":true,"num":0}},"s"]` {
		t.Errorf("String %s", got)
	}
	if got := ArgsOf(nil, nil).String(); got != "[]" {
		t.Errorf("String of no arguments %s", got)
	}

	// Value passes an argument on: its placeholders are renumbered for the new packet and its
	// attachments come along; a missing argument goes out as null.
	payload, out, err := AppendArray(nil, nil, a.Value(2), a.Value(1), a.Value(7))
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"a":{"_placeholder":true,"num":0}},{"_placeholder":true,"num":1},null]`; string(payload) != want {
		t.Errorf("forwarded payload %s, want %s", payload, want)
	}
	if len(out) != 2 || !bytes.Equal(out[0], []byte{0xa}) || !bytes.Equal(out[1], []byte{0xb, 0xc}) {
		t.Errorf("forwarded attachments %v", out)
	}
	if v := a.Value(7); v.JSON != nil || v.Attachments != nil {
		t.Errorf("Value(7) = %+v, want the zero RawValue", v)
	}

	// Values re-emits the whole list, placeholders renumbered in the order they now appear.
	payload, out, err = AppendEvent(nil, nil, "ev", a.Values()...)
	if err != nil {
		t.Fatal(err)
	}
	if want := `["ev",1,{"_placeholder":true,"num":0},{"a":{"_placeholder":true,"num":1}},"s"]`; string(payload) != want {
		t.Errorf("re-emitted payload %s, want %s", payload, want)
	}
	if len(out) != 2 || !bytes.Equal(out[0], []byte{0xb, 0xc}) || !bytes.Equal(out[1], []byte{0xa}) {
		t.Errorf("re-emitted attachments %v", out)
	}
}

// TestArgsWithoutAttachments checks that a placeholder-shaped argument of a packet that carried
// no attachments is plain JSON, and that its Value is sent as it is.
func TestArgsWithoutAttachments(t *testing.T) {
	a := ArgsOf([]json.RawMessage{json.RawMessage(`{"_placeholder":true,"num":0}`), json.RawMessage(`"x"`)}, nil)
	if _, ok := a.Bytes(0); ok {
		t.Error("Bytes(0) with no attachments")
	}
	var m map[string]any
	if err := a.Decode(0, &m); err != nil || m["num"] != float64(0) {
		t.Errorf("Decode(0) = %v %v", m, err)
	}
	payload, out, err := AppendArray(nil, nil, a.Values()...)
	if err != nil || string(payload) != `[{"_placeholder":true,"num":0},"x"]` || len(out) != 0 {
		t.Errorf("re-emitted %s %v %v", payload, out, err)
	}
}
