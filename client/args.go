package client

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tomato-code/realtime/socketio/parser"
)

// Args are the arguments of an event or an acknowledgement as they arrived: each one's JSON
// text, binary values still written as placeholders, and the binary attachments. Args own their
// memory: handlers may keep them.
type Args struct {
	elems       []json.RawMessage
	attachments [][]byte
}

// newArgs splits a payload array into arguments; skipFirst drops the event name.
func newArgs(data json.RawMessage, attachments [][]byte, skipFirst bool) (Args, error) {
	if len(data) == 0 {
		return Args{attachments: attachments}, nil
	}
	elems, err := parser.Elements(nil, data)
	if err != nil {
		return Args{}, err
	}
	if skipFirst && len(elems) > 0 {
		elems = elems[1:]
	}
	return Args{elems: elems, attachments: attachments}, nil
}

// Len returns the number of arguments.
func (a Args) Len() int { return len(a.elems) }

// Raw returns argument i as JSON text (a placeholder object for a binary argument), nil when
// there is no argument i.
func (a Args) Raw(i int) json.RawMessage {
	if i < 0 || i >= len(a.elems) {
		return nil
	}
	return a.elems[i]
}

// Bytes returns argument i when it is a binary value.
func (a Args) Bytes(i int) ([]byte, bool) {
	if i < 0 || i >= len(a.elems) {
		return nil, false
	}
	return a.placeholder(a.elems[i])
}

// placeholder returns the attachment that elem stands for, when elem is exactly a placeholder.
func (a Args) placeholder(elem []byte) ([]byte, bool) {
	if len(elem) == 0 || elem[0] != '{' || len(a.attachments) == 0 {
		return nil, false
	}
	var buf [1]parser.Placeholder
	phs, err := parser.AppendPlaceholders(buf[:0], elem)
	if err != nil || len(phs) != 1 || phs[0].Start != 0 || phs[0].End != len(elem) {
		return nil, false
	}
	if n := phs[0].Num; n >= 0 && n < len(a.attachments) {
		return a.attachments[n], true
	}
	return nil, false
}

// Value returns argument i with the attachments its placeholders refer to, ready to be emitted
// again as it arrived (Emit re-numbers its placeholders). It is the zero RawValue when there is
// no argument i.
func (a Args) Value(i int) parser.RawValue {
	if i < 0 || i >= len(a.elems) {
		return parser.RawValue{}
	}
	return parser.RawValue{JSON: a.elems[i], Attachments: a.attachments}
}

// Attachments returns the binary attachments in placeholder order.
func (a Args) Attachments() [][]byte { return a.attachments }

// ErrNoArgument is returned by Args.Decode for an index past the last argument.
var ErrNoArgument = errors.New("socket.io client: no such argument")

// Decode stores argument i in v: with encoding/json, except that a binary argument goes into a
// *[]byte (or *any) directly.
func (a Args) Decode(i int, v any) error {
	if i < 0 || i >= len(a.elems) {
		return ErrNoArgument
	}
	if b, ok := a.placeholder(a.elems[i]); ok {
		switch p := v.(type) {
		case *[]byte:
			*p = b
			return nil
		case *any:
			*p = b
			return nil
		}
		return fmt.Errorf("socket.io client: argument %d is binary; decode it into *[]byte", i)
	}
	return json.Unmarshal(a.elems[i], v)
}

// String returns the arguments as a JSON array, binary values as placeholders.
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

// encodeArgs builds a payload array with the parser's value encoder: the event name (when event
// is not nil) and args, binary values taken out as attachments.
func encodeArgs(event *string, args []any) (json.RawMessage, [][]byte, error) {
	var (
		b   []byte
		att [][]byte
		err error
	)
	if event != nil {
		b, att, err = parser.AppendEvent(make([]byte, 0, 64), nil, *event, args...)
	} else {
		b, att, err = parser.AppendArray(make([]byte, 0, 32), nil, args...)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("socket.io client: %w", err)
	}
	return b, att, nil
}

// marshalAuth encodes the auth payload of a CONNECT packet, which cannot carry binary.
func marshalAuth(v any) (json.RawMessage, error) {
	b, att, err := parser.AppendValue(nil, nil, v)
	if err != nil {
		return nil, err
	}
	if len(att) > 0 {
		return nil, errors.New("binary values cannot travel in the auth payload")
	}
	return b, nil
}
