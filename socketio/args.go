package socketio

import (
	"encoding/json"
	"fmt"

	"github.com/tomato-code/realtime/socketio/parser"
)

// Args are the arguments of a received event or acknowledgement: raw JSON values exactly as
// the client sent them, and the binary attachments their placeholders refer to. Nothing is
// decoded until asked, and Value gives arguments back for re-emission byte for byte, binary
// included. Args stay valid after the handler returns.
type Args struct {
	elems []json.RawMessage
	atts  [][]byte
}

// NewArgs returns the Args of a JSON array whose binary placeholders refer to attachments, as
// a cluster adapter rebuilds them from another server's answer.
func NewArgs(array json.RawMessage, attachments [][]byte) (Args, error) {
	elems, err := parser.Elements(nil, array)
	if err != nil {
		return Args{}, err
	}
	return Args{elems: elems, atts: attachments}, nil
}

// Len returns the number of arguments.
func (a Args) Len() int { return len(a.elems) }

// Raw returns argument i as it arrived, placeholders included; nil when i is out of range.
func (a Args) Raw(i int) json.RawMessage {
	if i < 0 || i >= len(a.elems) {
		return nil
	}
	return a.elems[i]
}

// Attachments returns the binary attachments of the packet, in placeholder order.
func (a Args) Attachments() [][]byte { return a.atts }

// Bytes returns the binary value of argument i when the argument is a binary value (a Buffer,
// ArrayBuffer or typed array on the JavaScript side).
func (a Args) Bytes(i int) ([]byte, bool) {
	raw := a.Raw(i)
	if raw == nil || len(a.atts) == 0 || raw[0] != '{' {
		return nil, false
	}
	var buf [1]parser.Placeholder
	phs, err := parser.AppendPlaceholders(buf[:0], raw)
	if err != nil || len(phs) != 1 || phs[0].Start != 0 || phs[0].End != len(raw) {
		return nil, false
	}
	if n := phs[0].Num; n >= 0 && n < len(a.atts) {
		return a.atts[n], true
	}
	return nil, false
}

// Decode decodes argument i into v with encoding/json. A binary argument decodes into a
// *[]byte; binary values nested deeper are left as placeholder objects (use Value to pass
// them on, or Bytes and Attachments to read them).
func (a Args) Decode(i int, v any) error {
	raw := a.Raw(i)
	if raw == nil {
		return fmt.Errorf("%w: %d of %d", ErrNoArg, i, len(a.elems))
	}
	if p, ok := v.(*[]byte); ok {
		if b, ok := a.Bytes(i); ok {
			*p = b
			return nil
		}
	}
	return json.Unmarshal(raw, v)
}

// Value returns argument i in a form Emit and Ack send back unchanged: a json.RawMessage, or a
// parser.RawValue carrying the attachments when the packet had some. It returns nil when i is
// out of range.
func (a Args) Value(i int) any {
	raw := a.Raw(i)
	if raw == nil {
		return nil
	}
	if len(a.atts) == 0 {
		return raw
	}
	return parser.RawValue{JSON: raw, Attachments: a.atts}
}

// Values returns every argument as Value does, ready for Emit(event, args.Values()...).
func (a Args) Values() []any {
	vs := make([]any, len(a.elems))
	for i := range a.elems {
		vs[i] = a.Value(i)
	}
	return vs
}

// String returns the arguments as a JSON array, placeholders included, for logs.
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
