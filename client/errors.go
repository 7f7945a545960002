package client

import (
	"encoding/json"
	"errors"
	"strconv"
)

// Errors returned by the client.
var (
	// ErrClosed is returned by calls on a connection or socket that has ended.
	ErrClosed = errors.New("socket.io client: connection closed")
	// ErrNotConnected is returned by emits on a socket that is not connected to its namespace.
	ErrNotConnected = errors.New("socket.io client: socket not connected")
	// ErrReservedEvent is returned when emitting an event name the protocol reserves
	// (connect, disconnect, connect_error, ...).
	ErrReservedEvent = errors.New("socket.io client: reserved event name")
	// ErrWriteQueueFull is returned by emits over polling when more than Dialer.MaxWriteQueue
	// bytes wait to be sent.
	ErrWriteQueueFull = errors.New("socket.io client: write queue full")
)

// ConnectError is the server's refusal of a namespace connection: the CONNECT_ERROR packet.
// Middleware refusals carry the error's message and, when the server set it, its data.
type ConnectError struct {
	Message string
	// Data is the error's data as JSON, nil when the server sent none.
	Data json.RawMessage
}

// Error returns the server's message.
func (e *ConnectError) Error() string { return "socket.io client: connect error: " + e.Message }

// DisconnectReason says why a socket or a connection ended. The values are socket.io-client's.
type DisconnectReason string

// The disconnect reasons.
const (
	// ReasonServerDisconnect: the server disconnected the socket (DISCONNECT packet).
	ReasonServerDisconnect DisconnectReason = "io server disconnect"
	// ReasonClientDisconnect: Socket.Disconnect or Conn.Close was called.
	ReasonClientDisconnect DisconnectReason = "io client disconnect"
	// ReasonPingTimeout: no ping from the server within pingInterval + pingTimeout.
	ReasonPingTimeout DisconnectReason = "ping timeout"
	// ReasonTransportClose: the server closed the connection.
	ReasonTransportClose DisconnectReason = "transport close"
	// ReasonTransportError: the connection failed (read or write error, HTTP error).
	ReasonTransportError DisconnectReason = "transport error"
	// ReasonParseError: the server sent something that is not valid Engine.IO or Socket.IO.
	ReasonParseError DisconnectReason = "parse error"
)

// CloseError tells why a connection ended: its reason and, for transport and parse errors, the
// underlying error.
type CloseError struct {
	Reason DisconnectReason
	Err    error
}

// Error returns the reason and the underlying error.
func (e *CloseError) Error() string {
	if e.Err == nil {
		return "socket.io client: " + string(e.Reason)
	}
	return "socket.io client: " + string(e.Reason) + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *CloseError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrClosed) true for every CloseError.
func (e *CloseError) Is(target error) bool { return target == ErrClosed }

// HandshakeError is an HTTP refusal of the Engine.IO handshake, e.g. a 400
// {"code":5,"message":"Unsupported protocol version"} or a 403 from the server's allowRequest.
type HandshakeError struct {
	Status int
	// Code and Message are the Engine.IO error body's, when the body was one.
	Code    int
	Message string
}

// Error returns the status and the server's message.
func (e *HandshakeError) Error() string {
	msg := "socket.io client: handshake refused: HTTP " + strconv.Itoa(e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}
