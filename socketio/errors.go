package socketio

import (
	"errors"

	"github.com/tomato-code/realtime/engineio"
	"github.com/tomato-code/realtime/socketio/parser"
)

// Disconnect reasons, as Socket.IO names them. OnDisconnecting and OnDisconnect handlers receive
// one of these.
const (
	// ReasonClientNamespaceDisconnect: the client left the namespace (socket.disconnect()).
	ReasonClientNamespaceDisconnect = "client namespace disconnect"
	// ReasonServerNamespaceDisconnect: the server called Socket.Disconnect.
	ReasonServerNamespaceDisconnect = "server namespace disconnect"
	// ReasonTransportClose: the client closed the connection.
	ReasonTransportClose = engineio.ReasonTransportClose
	// ReasonTransportError: the connection failed.
	ReasonTransportError = engineio.ReasonTransportError
	// ReasonPingTimeout: the client did not answer a ping in time.
	ReasonPingTimeout = engineio.ReasonPingTimeout
	// ReasonParseError: the client sent something that is not a valid Engine.IO or Socket.IO
	// packet; its connection was closed.
	ReasonParseError = engineio.ReasonParseError
	// ReasonForcedClose: the Engine.IO session was closed on the server side
	// (engineio.Session.Close).
	ReasonForcedClose = engineio.ReasonForcedClose
	// ReasonServerShutdown: the server is shutting down (Server.Shutdown).
	ReasonServerShutdown = engineio.ReasonServerShutdown
	// ReasonForcedServerClose: the server closed the connection because the client broke the
	// Socket.IO state machine (a second CONNECT, a packet for a namespace it has not joined)
	// or joined no namespace within ConnectTimeout.
	ReasonForcedServerClose = "forced server close"
	// ReasonWriteQueueFull: the client did not read fast enough and its write queue overflowed.
	ReasonWriteQueueFull = engineio.ReasonWriteQueueFull
)

// ConnectError refuses a connection with data for the client. Returned by a Middleware, it
// becomes the CONNECT_ERROR payload {"message":Message,"data":Data}: the client's
// connect_error event receives an Error whose message is Message and whose data is Data. Any
// other error refuses with {"message":err.Error()}.
type ConnectError struct {
	Message string
	// Data is encoded as JSON; nil leaves "data" out.
	Data any
}

func (e *ConnectError) Error() string { return e.Message }

// Errors returned by the package.
var (
	// ErrDisconnected: the socket is disconnected, or got disconnected while an
	// acknowledgement was awaited.
	ErrDisconnected = errors.New("socketio: socket disconnected")
	// ErrReservedEvent: the event name is reserved by the protocol (connect, connect_error,
	// disconnect, disconnecting, newListener, removeListener).
	ErrReservedEvent = errors.New("socketio: reserved event name")
	// ErrAckSent: the acknowledgement was already sent; the second call sends nothing.
	ErrAckSent = errors.New("socketio: acknowledgement already sent")
	// ErrNoArg: an argument index is out of range. It is parser.ErrNoArgument, the error of
	// the Args implementation the server shares with the client (client.ErrNoArgument).
	ErrNoArg = parser.ErrNoArgument
	// ErrAckTimeout wraps the context error when not every expected acknowledgement arrived.
	ErrAckTimeout = errors.New("socketio: not all acknowledgements arrived")
)
