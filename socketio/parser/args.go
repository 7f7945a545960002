package parser

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Args are the arguments of a received event or acknowledgement: each one's JSON text exactly
// as it arrived, binary values still written as placeholders, and the attachments those
// placeholders refer to. Nothing is decoded until asked, and Value gives an argument back for
// re-emission byte for byte, binary included. Args never refer to a decoder's buffers, so they
// stay valid after a handler returns.
//
// The server (socketio.Args) and the Go client (client.Args) both hand out this type, so that
// the two read arguments the same way.
type Args struct {
	elems []json.RawMessage
	atts  [][]byte
}

// ErrNoArgument is returned by Args.Decode for an index outside the arguments. It is returned
// as it is, not wrapped, so that callers comparing with == keep working.
var ErrNoArgument = errors.New("socket.io: no such argument")

// ArgsOf returns the Args made of elems, the elements of a payload array as Elements splits it
// (an event's without its name), whose placeholders refer to attachments. The slices are kept,
// not copied: callers hand over memory nothing else writes to.
func ArgsOf(elems []json.RawMessage, attachments [][]byte) Args {
	return Args{elems: elems, atts: attachments}
}

// Len returns the number of arguments.
func (a Args) Len() int { return len(a.elems) }

// Raw returns argument i as it arrived, placeholders included; nil when there is no argument i.
func (a Args) Raw(i int) json.RawMessage {
	if i < 0 || i >= len(a.elems) {
		return nil
	}
	return a.elems[i]
}

// Attachments returns the binary attachments of the packet, in placeholder order.
func (a Args) Attachments() [][]byte { return a.atts }

// Bytes returns argument i when it is a binary value (a Buffer, ArrayBuffer or typed array on
// the JavaScript side), that is when its JSON is exactly one placeholder.
func (a Args) Bytes(i int) ([]byte, bool) {
	raw := a.Raw(i)
	if len(raw) == 0 || raw[0] != '{' || len(a.atts) == 0 {
		return nil, false
	}
	var buf [1]Placeholder
	phs, err := AppendPlaceholders(buf[:0], raw)
	if err != nil || len(phs) != 1 || phs[0].Start != 0 || phs[0].End != len(raw) {
		return nil, false
	}
	if n := phs[0].Num; n >= 0 && n < len(a.atts) {
		return a.atts[n], true
	}
	return nil, false
}

// Decode stores argument i in v with encoding/json, except that a binary argument goes into a
// *[]byte or *any directly; decoding a binary argument into anything else is an error rather
// than a silently decoded placeholder object. Binary values nested deeper stay placeholder
// objects (use Value to pass them on, or Bytes and Attachments to read them).
func (a Args) Decode(i int, v any) error {
	raw := a.Raw(i)
	if raw == nil {
		return ErrNoArgument
	}
	if b, ok := a.Bytes(i); ok {
		switch p := v.(type) {
		case *[]byte:
			*p = b
			return nil
		case *any:
			*p = b
			return nil
		}
		return fmt.Errorf("socket.io: argument %d is binary; decode it into *[]byte", i)
	}
	return json.Unmarshal(raw, v)
}

// Value returns argument i with the attachments its placeholders refer to, in the form the
// encoder (and so Emit and Ack) sends on unchanged, placeholders renumbered for the new packet.
// It is the zero RawValue, which the encoder writes as null, when there is no argument i.
func (a Args) Value(i int) RawValue {
	raw := a.Raw(i)
	if raw == nil {
		return RawValue{}
	}
	return RawValue{JSON: raw, Attachments: a.atts}
}

// Values returns every argument as Value does, ready for Emit(event, args.Values()...). When
// the packet had no attachments the values are json.RawMessage instead: they encode the same,
// and box in half the memory of a RawValue on this per-event path.
func (a Args) Values() []any {
	vs := make([]any, len(a.elems))
	for i, e := range a.elems {
		if len(a.atts) == 0 {
			vs[i] = e
		} else {
			vs[i] = RawValue{JSON: e, Attachments: a.atts}
		}
	}
	return vs
}

// String returns the arguments as a JSON array, placeholders included, for logs and tests.
func (a Args) String() string {
	b := []byte{'['}
	for i, e := range a.elems {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e...)
	}
	return string(append(b, ']'))
}
