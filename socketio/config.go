package socketio

import (
	"time"

	"github.com/tomato-code/realtime/engineio"
)

// Config configures a Server. The zero value of each field means its default.
type Config struct {
	// Engine configures the Engine.IO layer: heartbeat (PingInterval 25s, PingTimeout 20s),
	// MaxPayload (1,000,000 bytes), transports, CORS, AllowRequest, write queue bound. See
	// engineio.Config for each default. Its OnOpen is set by the Server and must be nil.
	Engine engineio.Config
	// ConnectTimeout closes an Engine.IO session that has joined no namespace this long after
	// it opened. Default 45s.
	ConnectTimeout time.Duration
	// MaxAttachments is the largest number of binary attachments a client packet may
	// announce; a packet with more closes the connection. Default 10.
	MaxAttachments int
	// Adapter makes each namespace's adapter. Default: NewMemoryAdapter (one server).
	Adapter AdapterFactory
	// CleanupEmptyChildNamespaces removes a namespace created by a dynamic matcher (OfFunc,
	// OfRegexp) when its last socket leaves, closing its adapter. Default false: children
	// stay, as in Node.js.
	CleanupEmptyChildNamespaces bool
	// OnBroadcast, when set, is told what became of each broadcast on this server: called
	// once per namespace a broadcast (or a broadcast with acknowledgements) is delivered to
	// locally, whether it was emitted here or came from another server through the adapter,
	// on the goroutine that delivered it, before Emit returns for local emits. It must be
	// quick and must not block: a metrics counter, not I/O.
	OnBroadcast func(namespace string, d Delivery)
	// DiscardAuth makes each socket's Auth (and Handshake().Auth) read {} once the
	// namespace's middleware has accepted the socket: the CONNECT's auth object, often a
	// bearer token, is then not kept for the socket's life, and its bytes (the whole CONNECT
	// message) are freed. The middleware still reads it. Default false, as in Node.js.
	DiscardAuth bool
	// JoinWaitTimeout bounds how long a socket's CONNECT reply waits for an adapter that
	// implements JoinAwaiter to confirm the rooms the middleware joined; after it the socket
	// connects anyway. Default 2s.
	JoinWaitTimeout time.Duration
}

// Delivery is what a broadcast did on this server, for Config.OnBroadcast.
type Delivery struct {
	// Queued is the number of local sockets whose write queue took the packet.
	Queued int
	// VolatileSkipped is the number of local sockets a volatile packet was dropped for,
	// because their transport could not take it at once.
	VolatileSkipped int
}

// DefaultConnectTimeout is the ConnectTimeout of a zero Config, socket.io's default.
const DefaultConnectTimeout = 45 * time.Second

// DefaultJoinWaitTimeout is the JoinWaitTimeout of a zero Config: far beyond a broker's round
// trip, short enough that a handshake does not look hung when the broker is slow.
const DefaultJoinWaitTimeout = 2 * time.Second

func (c Config) withDefaults() Config {
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.JoinWaitTimeout <= 0 {
		c.JoinWaitTimeout = DefaultJoinWaitTimeout
	}
	if c.Adapter == nil {
		c.Adapter = func(ns LocalNamespace) Adapter { return NewMemoryAdapter(ns) }
	}
	return c
}
