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

// encodeArgs builds a payload array: the event name (when event is not nil) and args. []byte
// arguments become placeholders and attachments.
func encodeArgs(event *string, args []any) (json.RawMessage, [][]byte, error) {
	b := make([]byte, 0, 64)
	b = append(b, '[')
	var attachments [][]byte
	if event != nil {
		b = appendJSONString(b, *event)
	}
	for i, arg := range args {
		if i > 0 || event != nil {
			b = append(b, ',')
		}
		switch v := arg.(type) {
		case []byte:
			b = parser.AppendPlaceholder(b, len(attachments))
			attachments = append(attachments, v)
		default:
			enc, err := marshalJSON(v)
			if err != nil {
				return nil, nil, fmt.Errorf("socket.io client: argument %d: %w", i, err)
			}
			b = append(b, enc...)
		}
	}
	b = append(b, ']')
	return b, attachments, nil
}

// marshalJSON encodes v, passing json.RawMessage through after checking it.
func marshalJSON(v any) (json.RawMessage, error) {
	switch v := v.(type) {
	case json.RawMessage:
		if !parser.Valid(v) {
			return nil, errors.New("json.RawMessage is not valid JSON")
		}
		return v, nil
	case nil:
		return json.RawMessage("null"), nil
	}
	return json.Marshal(v)
}

// appendJSONString appends s as a JSON string. Plain ASCII, the usual event name, is copied as
// it is; anything else goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			enc, _ := json.Marshal(s) // a string always encodes
			return append(b, enc...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
