package redis

import (
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Health is the state of a Cluster's connection to Redis.
type Health struct {
	// Ready is true when both the subscriber connection (subscribed to every channel) and
	// the publisher answer. A node that is not ready still serves its local sockets.
	Ready bool `json:"ready"`
	// Subscribed: the subscriber connection is up and its subscriptions confirmed.
	Subscribed bool `json:"subscribed"`
	// Publishing: the last publish or probe succeeded.
	Publishing bool `json:"publishing"`
	// LastError is the most recent Redis error, "" when none since the last recovery.
	LastError string `json:"lastError,omitempty"`
	// Since is when Ready last changed.
	Since time.Time `json:"since"`
}

// Stats are counters since the Cluster started, for metrics.
type Stats struct {
	// Published messages (broadcasts, requests, responses) that Redis accepted.
	Published uint64 `json:"published"`
	// PublishFailed messages were sent to Redis but failed (connection lost while sending).
	PublishFailed uint64 `json:"publishFailed"`
	// PublishDropped messages never went out: the publish queue was full.
	PublishDropped uint64 `json:"publishDropped"`
	// QueuedBytes are the bytes waiting in the publish queue now.
	QueuedBytes uint64 `json:"queuedBytes"`
	// Received messages from Redis, on every channel.
	Received uint64 `json:"received"`
	// Malformed received messages, dropped. A broadcast for rooms this node does not hold is
	// checked only up to its options (see the package documentation), so a bad packet in it
	// is not counted.
	Malformed uint64 `json:"malformed"`
	// ReceiveDropped received messages dropped because the handling queue was full.
	ReceiveDropped uint64 `json:"receiveDropped"`
	// Reconnects of the subscriber connection.
	Reconnects uint64 `json:"reconnects"`
	// Skipped broadcasts reached no local socket and were dropped without decoding their
	// packet: for a room this node does not hold, or this node's own coming back. With the
	// pattern subscription most broadcasts a node receives are skipped.
	Skipped uint64 `json:"skipped"`
	// JoinWaitTimeouts counts the sockets that connected before Redis confirmed the
	// subscriptions of their rooms, within socketio.Config.JoinWaitTimeout (SubscribeRooms).
	JoinWaitTimeouts uint64 `json:"joinWaitTimeouts"`
}

type counters struct {
	published, publishFailed, publishDropped, queuedBytes atomic.Uint64
	received, malformed, receiveDropped, reconnects       atomic.Uint64
	skipped, joinWaitTimeouts                             atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Published: c.published.Load(), PublishFailed: c.publishFailed.Load(),
		PublishDropped: c.publishDropped.Load(), QueuedBytes: c.queuedBytes.Load(),
		Received: c.received.Load(), Malformed: c.malformed.Load(),
		ReceiveDropped: c.receiveDropped.Load(), Reconnects: c.reconnects.Load(),
		Skipped: c.skipped.Load(), JoinWaitTimeouts: c.joinWaitTimeouts.Load(),
	}
}

// healthState tracks the two halves of the connection and logs the transitions of the whole
// once each: a flapping Redis does not flood the log with one line per failed attempt.
type healthState struct {
	log *slog.Logger

	mu         sync.Mutex
	subscribed bool
	publishing bool
	lastErr    string
	since      time.Time
	everReady  bool
	changed    chan struct{} // closed and replaced on every change of Ready
}

func newHealthState(log *slog.Logger) *healthState {
	return &healthState{log: log, since: time.Now(), changed: make(chan struct{})}
}

func (h *healthState) setSubscribed(ok bool, err error) { h.set(&h.subscribed, ok, err, "subscriber") }
func (h *healthState) setPublishing(ok bool, err error) { h.set(&h.publishing, ok, err, "publisher") }

func (h *healthState) set(part *bool, ok bool, err error, name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	wasReady := h.subscribed && h.publishing
	*part = ok
	if err != nil {
		h.lastErr = name + ": " + err.Error()
	}
	ready := h.subscribed && h.publishing
	if ready == wasReady {
		return
	}
	h.since = time.Now()
	close(h.changed)
	h.changed = make(chan struct{})
	switch {
	case ready:
		if h.everReady {
			h.log.Info("redis adapter: Redis reachable again, cluster resumed")
		} else {
			h.log.Debug("redis adapter: connected to Redis")
		}
		h.everReady = true
		h.lastErr = ""
	default:
		h.log.Warn("redis adapter: Redis unreachable; local delivery continues, reconnecting", "err", h.lastErr)
	}
}

func (h *healthState) get() Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	return Health{Ready: h.subscribed && h.publishing, Subscribed: h.subscribed, Publishing: h.publishing,
		LastError: h.lastErr, Since: h.since}
}

// wait returns the channel closed at the next change of Ready, and whether it is ready now.
func (h *healthState) wait() (<-chan struct{}, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.changed, h.subscribed && h.publishing
}

// backoff is an exponential delay with jitter, for reconnect attempts.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	// Up to 25% less, so that the nodes of a cluster do not reconnect in lockstep.
	return b.cur - time.Duration(rand.Int64N(int64(b.cur)/4+1))
}

func (b *backoff) reset() { b.cur = 0 }
