// Package loop holds the load tool's client connections: each one a WebSocket-only Engine.IO
// session with a Socket.IO connection to the main namespace, authenticated with a minted JWT.
//
// A Set drives its connections from a few event loops (one per usable CPU by default) on
// Linux's epoll: no goroutine and no buffer per connection, one shared read buffer per loop, and
// a receive path that scans each frame for the load tool's stamp without decoding JSON and
// without allocating. That keeps the client lean enough that the server, not the client, is what
// a run measures; the load package checks it by measuring the client's own CPU.
package loop

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/tomato-code/realtime/bench/internal/stats"
)

// MaxPhases bounds the phase numbers a stamp may carry; stamps with a larger phase count as
// unstamped events.
const MaxPhases = 16

// UserDigits is the width of the zero-padded connection index in a user id, so that every
// user:{id} room name has the same length and the emit requests can be patched in place.
const UserDigits = 7

// UserID returns the user id of the connection with global index i: prefix followed by i in
// UserDigits digits.
func UserID(prefix string, i int) string {
	return fmt.Sprintf("%s%0*d", prefix, UserDigits, i)
}

// Config describes a set of connections.
type Config struct {
	// Targets are the servers' addresses (IPv4 host:port); the connection with global index i
	// goes to Targets[i%len(Targets)].
	Targets []netip.AddrPort
	// Sources are the local addresses the connections bind before connecting, used in turn
	// (Sources[i%len(Sources)]): one address has only about 28,000 ephemeral ports. Empty means
	// the kernel's choice.
	Sources []netip.Addr
	// Secret is the HS256 secret of the tokens.
	Secret []byte
	// UserPrefix starts every user id (see UserID). Defaults to "u".
	UserPrefix string
	// RestaurantID, when set, goes into every token, so that every socket joins
	// restaurant:{RestaurantID}.
	RestaurantID string
	// TokenTTL is the lifetime of the tokens. Defaults to one hour.
	TokenTTL time.Duration
	// Loops is the number of event loops. Defaults to GOMAXPROCS.
	Loops int
	// ImmediateACKs keeps the kernel's default of acknowledging small segments at once when
	// they are read. By default a connection switches to delayed ACKs (TCP_QUICKACK off) once
	// it is up, which makes each delivery cheaper for the client.
	ImmediateACKs bool
}

// Stats is a snapshot of a set's counters.
type Stats struct {
	// Opened counts connections started; Connected those whose Socket.IO CONNECT was accepted
	// and that are still open; Failed those that never got that far; Dropped those that closed
	// after connecting.
	Opened    int64 `json:"opened"`
	Connected int64 `json:"connected"`
	Failed    int64 `json:"failed"`
	Dropped   int64 `json:"dropped"`
	// Pings counts Engine.IO pings answered.
	Pings int64 `json:"pings"`
	// Events counts Socket.IO events received; Unstamped those without a stamp of a known
	// phase.
	Events    int64 `json:"events"`
	Unstamped int64 `json:"unstamped"`
	// Bytes counts bytes read.
	Bytes int64 `json:"bytes"`
	// ConnectLatency is, in microseconds, the time from socket() to the Socket.IO CONNECT reply.
	ConnectLatency stats.Histogram `json:"connect_latency"`
	// Phases holds, per phase number, the end-to-end latency in microseconds of every stamped
	// event received: from the stamp's send time to the read that brought the frame.
	Phases []stats.Histogram `json:"phases"`
	// Down lists the global indices of connections that failed or dropped (at most 1,000).
	Down []int `json:"down,omitempty"`
	// Errors counts failures and drops by reason.
	Errors map[string]int64 `json:"errors,omitempty"`
}

// Merge adds o's counters to s.
func (s *Stats) Merge(o Stats) {
	s.Opened += o.Opened
	s.Connected += o.Connected
	s.Failed += o.Failed
	s.Dropped += o.Dropped
	s.Pings += o.Pings
	s.Events += o.Events
	s.Unstamped += o.Unstamped
	s.Bytes += o.Bytes
	s.ConnectLatency = s.ConnectLatency.Merge(o.ConnectLatency)
	for len(s.Phases) < len(o.Phases) {
		s.Phases = append(s.Phases, stats.Histogram{})
	}
	for i, h := range o.Phases {
		s.Phases[i] = s.Phases[i].Merge(h)
	}
	for _, d := range o.Down {
		if len(s.Down) >= maxDown {
			break
		}
		s.Down = append(s.Down, d)
	}
	for k, v := range o.Errors {
		if s.Errors == nil {
			s.Errors = make(map[string]int64)
		}
		s.Errors[k] += v
	}
}

const maxDown = 1000
