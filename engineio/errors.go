package engineio

import "errors"

// Close reasons passed to SessionHandler.OnClose. They are Engine.IO's names, plus
// ReasonWriteQueueFull.
const (
	ReasonTransportClose = "transport close"      // the client closed the connection or sent a close packet
	ReasonTransportError = "transport error"      // a protocol violation or a network error
	ReasonPingTimeout    = "ping timeout"         // no pong within PingTimeout
	ReasonParseError     = "parse error"          // an undecodable packet
	ReasonForcedClose    = "forced close"         // Session.Close
	ReasonServerShutdown = "server shutting down" // Server.Shutdown
	ReasonWriteQueueFull = "write queue full"     // the client did not read fast enough
)

// Errors returned by a Session and passed to OnClose.
var (
	// ErrSessionClosed is returned by Send once the session is closing or closed.
	ErrSessionClosed = errors.New("engineio: session closed")
	// ErrWriteQueueFull is returned by the Send that overflowed the session's write queue;
	// the session is closed with ReasonWriteQueueFull.
	ErrWriteQueueFull = errors.New("engineio: write queue full")
	// ErrServerClosed is returned by Shutdown when called a second time.
	ErrServerClosed = errors.New("engineio: server closed")
)

// Engine.IO error codes of the JSON body {"code":N,"message":...} that answers a bad request.
const (
	CodeUnknownTransport    = 0
	CodeUnknownSid          = 1
	CodeBadHandshakeMethod  = 2
	CodeBadRequest          = 3
	CodeForbidden           = 4
	CodeUnsupportedProtocol = 5
)

var codeMessages = [...]string{
	CodeUnknownTransport:    "Transport unknown",
	CodeUnknownSid:          "Session ID unknown",
	CodeBadHandshakeMethod:  "Bad handshake method",
	CodeBadRequest:          "Bad request",
	CodeForbidden:           "Forbidden",
	CodeUnsupportedProtocol: "Unsupported protocol version",
}
