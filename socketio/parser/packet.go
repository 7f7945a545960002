// Package parser is the Socket.IO protocol 5 packet codec, as pure functions over bytes with no
// I/O, so that it can be fuzzed and benchmarked alone and shared by the server, the Go client and
// the cluster adapters.
//
// A packet travels as one Engine.IO message (the Engine.IO "4" is not part of what this package
// reads or writes):
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// for example 40, 40/admin,{"token":"x"}, 42["hello",1], 2/admin,12["x"], 43456[1,"2"].
// Binary values travel out of band: the JSON holds {"_placeholder":true,"num":<i>} where the
// value was, the packet type becomes BinaryEvent or BinaryAck with the attachment count, and the
// attachments follow as that many binary Engine.IO messages.
//
// Payloads are kept as the JSON text that arrived (placeholders included), never decoded into Go
// values and re-encoded: event arguments can be passed on byte for byte.
package parser

import (
	"encoding/json"
	"errors"
)

// Type is the type of a Socket.IO packet, one ASCII digit on the wire.
type Type byte

// The packet types of Socket.IO protocol 5.
const (
	Connect      Type = iota // client: join a namespace (optional auth object); server: {"sid":...}
	Disconnect               // leave a namespace; no payload
	Event                    // array: event name, then arguments
	Ack                      // array of the acknowledgement's arguments
	ConnectError             // server: {"message":...,"data":...}, joining the namespace failed
	BinaryEvent              // Event with binary attachments
	BinaryAck                // Ack with binary attachments
)

// String returns the protocol's name for t ("CONNECT", "EVENT", ...), or "UNKNOWN".
func (t Type) String() string {
	switch t {
	case Connect:
		return "CONNECT"
	case Disconnect:
		return "DISCONNECT"
	case Event:
		return "EVENT"
	case Ack:
		return "ACK"
	case ConnectError:
		return "CONNECT_ERROR"
	case BinaryEvent:
		return "BINARY_EVENT"
	case BinaryAck:
		return "BINARY_ACK"
	}
	return "UNKNOWN"
}

// Valid reports whether t is one of the seven packet types.
func (t Type) Valid() bool { return t <= BinaryAck }

// NoID is the Packet.ID of a packet that carries no acknowledgement id.
const NoID int64 = -1

// Packet is one Socket.IO packet.
type Packet struct {
	Type Type
	// Namespace is the namespace name, "/" for the main namespace. Empty is written as "/".
	Namespace string
	// ID is the acknowledgement id, or NoID.
	ID int64
	// Data is the JSON payload exactly as received or to be sent, placeholders included; nil
	// when the packet has no payload.
	Data json.RawMessage
	// Attachments are the binary attachments in placeholder order ("num" 0, 1, ...).
	Attachments [][]byte
}

// DefaultMaxAttachments is the attachment limit of a Decoder whose MaxAttachments is zero, as in
// the reference parser.
const DefaultMaxAttachments = 10

// ErrInvalid is wrapped by every decoding error: errors.Is(err, ErrInvalid) tells a protocol
// violation by the peer.
var ErrInvalid = errors.New("socket.io: invalid packet")

type invalidError struct{ msg string }

func invalid(msg string) error            { return &invalidError{msg} }
func (e *invalidError) Error() string     { return "socket.io: invalid packet: " + e.msg }
func (e *invalidError) Is(err error) bool { return err == ErrInvalid }

// The decoding errors. Each wraps ErrInvalid.
var (
	ErrEmpty              = invalid("empty packet")
	ErrUnknownType        = invalid("unknown packet type")
	ErrBadAttachments     = invalid("illegal attachments")
	ErrTooManyAttachments = invalid("too many attachments")
	ErrBadID              = invalid("bad ack id")
	ErrBadJSON            = invalid("payload is not valid JSON")
	ErrBadUTF8            = invalid("payload is not valid UTF-8")
	ErrBadPayload         = invalid("invalid payload for the packet type")
	ErrReservedEvent      = invalid("reserved event name")
	ErrBadPlaceholder     = invalid("placeholder refers to no attachment")
	ErrUnexpectedBinary   = invalid("binary message while no attachment is awaited")
	ErrUnexpectedText     = invalid("text message while attachments are awaited")
)

// reserved are the event names an EVENT may not carry: the reference implementations use them
// for their own events.
var reserved = [...]string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}

// IsReserved reports whether name is an event name that peers may not send (connect,
// connect_error, disconnect, disconnecting, newListener, removeListener).
func IsReserved(name string) bool {
	for _, r := range reserved {
		if name == r {
			return true
		}
	}
	return false
}
