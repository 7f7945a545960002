// Package packet is the Engine.IO protocol 4 codec: packets, websocket frame payloads and
// polling payloads, as pure functions over bytes with no I/O, so that it can be fuzzed and
// benchmarked on its own.
//
// A text packet is its type character followed by its data ("4hello"). Over websocket each
// frame carries one packet: a text frame holds a text packet, a binary frame holds the raw
// bytes of a binary message. Over polling several packets travel in one HTTP body, separated
// by the record separator 0x1e; a binary message is written "b" followed by the standard base64
// of its bytes, without a type character.
package packet

import "errors"

// Type is the type of an Engine.IO packet, carried on the wire as one ASCII digit.
type Type byte

// The packet types of Engine.IO protocol 4.
const (
	Open    Type = '0' // server -> client, JSON handshake data
	Close   Type = '1' // either direction: close the session
	Ping    Type = '2' // server -> client heartbeat; client -> server "probe" during an upgrade
	Pong    Type = '3' // client -> server heartbeat reply; server -> client "probe" reply
	Message Type = '4' // application data, text or binary
	Upgrade Type = '5' // client -> server: the websocket takes over
	Noop    Type = '6' // server -> client: releases a pending poll
)

// Separator joins the packets of a polling payload.
const Separator = 0x1e

// String returns the protocol's name of t ("open", "message", ...), or "unknown".
func (t Type) String() string {
	switch t {
	case Open:
		return "open"
	case Close:
		return "close"
	case Ping:
		return "ping"
	case Pong:
		return "pong"
	case Message:
		return "message"
	case Upgrade:
		return "upgrade"
	case Noop:
		return "noop"
	}
	return "unknown"
}

// Valid reports whether t is one of the seven packet types.
func (t Type) Valid() bool { return t >= Open && t <= Noop }

// Packet is one Engine.IO packet. Binary is only ever set on Message packets: their Data is
// then raw bytes rather than text.
type Packet struct {
	Type   Type
	Data   []byte
	Binary bool
}

// Errors returned by the decoders. Every decoding failure wraps ErrInvalid.
var (
	ErrInvalid     = errors.New("engine.io: invalid packet")
	ErrEmpty       = wrapInvalid("empty packet")
	ErrUnknownType = wrapInvalid("unknown packet type")
	ErrBadBase64   = wrapInvalid("bad base64 in binary packet")
)

type invalidError struct{ msg string }

func wrapInvalid(msg string) error        { return &invalidError{msg} }
func (e *invalidError) Error() string     { return "engine.io: invalid packet: " + e.msg }
func (e *invalidError) Is(err error) bool { return err == ErrInvalid }
