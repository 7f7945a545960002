package engineio

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"slices"
	"time"
)

// Transport names, as they appear in the transport query parameter.
const (
	TransportPolling   = "polling"
	TransportWebSocket = "websocket"
)

// Config configures a Server. The zero value of each field means its default.
type Config struct {
	// PingInterval is the time between two server pings. Default 25s.
	PingInterval time.Duration
	// PingTimeout is how long the server waits for the pong after a ping before it closes
	// the session with "ping timeout". Default 20s.
	PingTimeout time.Duration
	// UpgradeTimeout bounds a polling -> websocket upgrade; an upgrade not completed in time
	// is abandoned and the session stays on polling. Default 10s.
	UpgradeTimeout time.Duration
	// MaxPayload is the maxPayload advertised in the handshake, in bytes. A larger POST body
	// is answered 413; a larger websocket message closes the connection. Default 1,000,000.
	MaxPayload int64
	// Transports lists the enabled transports. Default {"polling", "websocket"}.
	Transports []string
	// AllowRequest, when set, vets each handshake request; a non-nil error refuses it with
	// 403 {"code":4,"message":err.Error()}.
	AllowRequest func(r *http.Request) error
	// CORS, when set, adds CORS headers to polling responses and answers preflights.
	// Nil: no CORS headers.
	CORS *CORS
	// WriteQueueBytes bounds the bytes queued for one session and not yet written; a Send
	// that would exceed it closes the session with reason "write queue full".
	// Default 4 MiB.
	WriteQueueBytes int
	// ReadMode selects how websocket connections are read: ReadPoller (the default) or
	// ReadGoroutine.
	ReadMode ReadMode
	// KeepHeaders, when not nil, names the request headers that a session keeps of its
	// handshake (HandshakeInfo.Header, HeaderValue; names match without regard to case); the
	// others are dropped when the session opens. Nil keeps them all, as Node.js does. Kept
	// headers cost their bytes for the session's life and may carry credentials (cookies): a
	// server that does not read them can keep none with an empty, non-nil list.
	// HandshakeInfo.CrossOrigin is set either way.
	KeepHeaders []string
	// Logger receives what the server reports on its own, such as a websocket poller that
	// failed. Default slog.Default().
	Logger *slog.Logger
	// OnOpen is called for every new session and returns the handler of its events.
	// Required. A nil handler discards the session's messages.
	OnOpen func(s *Session) SessionHandler
}

// ReadMode selects the read path of websocket connections. Both deliver the same frames in the
// same order to the same handlers; they differ in what an idle connection costs.
type ReadMode uint8

const (
	// ReadPoller watches the connections' sockets with epoll from a few poller goroutines (one
	// per CPU, started with the first websocket and stopped with the last): an idle connection
	// holds no goroutine and no buffer. It applies on Linux to connections that expose their
	// file descriptor (plain TCP, not TLS terminated in process); others are read as with
	// ReadGoroutine. Such a connection keeps its socket but not its net.Conn (about 0.7 KiB
	// less per connection): the server duplicates the descriptor at the upgrade and closes the
	// net.Conn, so closing the net.Conn a listener returned does not close the websocket.
	ReadPoller ReadMode = iota
	// ReadGoroutine reads each connection on a goroutine of its own, parked in the runtime's
	// poller while the connection is idle (a few KiB of stack, no buffer). Portable.
	ReadGoroutine
)

// String returns "poller" or "goroutine".
func (m ReadMode) String() string {
	if m == ReadGoroutine {
		return "goroutine"
	}
	return "poller"
}

// MarshalText returns the name String returns.
func (m ReadMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText accepts "poller" or "goroutine", so that a ReadMode can be a flag
// (flag.TextVar) or come from an environment variable.
func (m *ReadMode) UnmarshalText(b []byte) error {
	switch string(b) {
	case "poller":
		*m = ReadPoller
	case "goroutine":
		*m = ReadGoroutine
	default:
		return fmt.Errorf("engineio: unknown read mode %q (want poller or goroutine)", b)
	}
	return nil
}

// Defaults, applied to the zero fields of a Config.
const (
	DefaultPingInterval    = 25 * time.Second
	DefaultPingTimeout     = 20 * time.Second
	DefaultUpgradeTimeout  = 10 * time.Second
	DefaultMaxPayload      = 1_000_000
	DefaultWriteQueueBytes = 4 << 20
)

func (c Config) withDefaults() Config {
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = DefaultPingTimeout
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	if len(c.Transports) == 0 {
		c.Transports = []string{TransportPolling, TransportWebSocket}
	} else {
		c.Transports = append([]string(nil), c.Transports...)
	}
	if c.WriteQueueBytes <= 0 {
		c.WriteQueueBytes = DefaultWriteQueueBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.KeepHeaders != nil {
		// Canonical, as net/http keys r.Header, and each once: sessions look the names up.
		keep := make([]string, 0, len(c.KeepHeaders))
		for _, name := range c.KeepHeaders {
			if name = textproto.CanonicalMIMEHeaderKey(name); !slices.Contains(keep, name) {
				keep = append(keep, name)
			}
		}
		c.KeepHeaders = keep
	}
	return c
}

func (c *Config) transportEnabled(name string) bool {
	for _, t := range c.Transports {
		if t == name {
			return true
		}
	}
	return false
}

// SessionHandler receives the events of one session. See the package documentation for which
// goroutine calls what.
type SessionHandler interface {
	// OnMessage receives one message. data is owned by the callee: the session never touches
	// it again.
	OnMessage(data []byte, binary bool)
	// OnClose is called exactly once, after the last OnMessage, with the close reason (one of
	// the Reason constants) and the error that caused it, if any.
	OnClose(reason string, err error)
}
