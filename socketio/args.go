package socketio

import (
	"encoding/json"

	"github.com/tomato-code/realtime/socketio/parser"
)

// Args are the arguments of a received event or acknowledgement: raw JSON values exactly as
// the client sent them, and the binary attachments their placeholders refer to. Nothing is
// decoded until asked, and Values gives the arguments back for re-emission byte for byte,
// binary included. Args stay valid after the handler returns.
//
// Args is an alias of parser.Args, the one implementation the Go client's client.Args shares,
// so that server and client read arguments the same way; see parser.Args for its methods.
type Args = parser.Args

// NewArgs returns the Args of a JSON array whose binary placeholders refer to attachments, as
// a cluster adapter rebuilds them from another server's answer.
func NewArgs(array json.RawMessage, attachments [][]byte) (Args, error) {
	elems, err := parser.Elements(nil, array)
	if err != nil {
		return Args{}, err
	}
	return parser.ArgsOf(elems, attachments), nil
}
