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
//
// Args is an alias of parser.Args, the one implementation the server's socketio.Args shares, so
// that client and server read arguments the same way; see parser.Args for its methods.
type Args = parser.Args

// newArgs splits a payload array into arguments; skipFirst drops the event name. An empty
// payload (an ACK without data) is no arguments.
func newArgs(data json.RawMessage, attachments [][]byte, skipFirst bool) (Args, error) {
	if len(data) == 0 {
		return parser.ArgsOf(nil, attachments), nil
	}
	elems, err := parser.Elements(nil, data)
	if err != nil {
		return Args{}, err
	}
	if skipFirst && len(elems) > 0 {
		elems = elems[1:]
	}
	return parser.ArgsOf(elems, attachments), nil
}

// ErrNoArgument is returned by Args.Decode for an index past the last argument. It is
// parser.ErrNoArgument, shared with the server's socketio.ErrNoArg.
var ErrNoArgument = parser.ErrNoArgument

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
