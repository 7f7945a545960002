// Package lane serves the keep-alive connections of a busy internal HTTP API without
// net/http's per-request machinery.
//
// net/http spends a large share of a small request's CPU on work that a backend calling the
// same few routes over and over does not need: a general request parser (textproto, a header
// map of every header), a goroutine per request that watches the connection for the client
// going away (started, then stopped with an extra read and two deadline changes), a read
// deadline set per request, and a response that clones its header map and goes through a
// chunking writer. A Lane takes a connection over from net/http at its first request that
// Config.Serves accepts (TakeOver, called by the handler net/http runs), and from then on
// reads that connection's requests itself, on the same goroutine, with a parser that accepts
// only a strict, well-formed subset of HTTP/1.1. Whatever it does not accept (another path,
// a malformed or unusual request) goes back to net/http through a Listener, with the bytes
// already read replayed first, so that net/http answers it exactly as it would have.
//
// In the common case a request costs the lane one read system call that returns it (between
// sequential requests, also the read that finds nothing yet and parks the goroutine, as in
// any Go server) and its answer one write; the lane allocates nothing per request, starts no
// goroutine and changes no deadline (the connection keeps a coarse idle deadline, refreshed
// when it is more than about a second stale).
package lane

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Config.
const (
	DefaultMaxBody        = 1 << 20
	DefaultMaxHeaderBytes = 64 << 10
	DefaultIdleTimeout    = 2 * time.Minute
	DefaultRequestTimeout = 30 * time.Second
)

// Config configures a Lane.
type Config struct {
	// Handler serves the requests the lane reads. Required. The lane hands it the same
	// *http.Request (URL and Header included) and the same ResponseWriter for every request
	// of a connection, reset in between, so that a request costs no allocation: the handler
	// must not keep r, r.URL, r.Header, r.Body or w, nor use them from another goroutine,
	// after it returns. Its requests carry the context of the connection's first request
	// (http.ServerContextKey and http.LocalAddrContextKey are in it), which is not cancelled
	// when the client goes away during a request: a handler that waits learns of it only when
	// it writes its answer.
	Handler http.Handler
	// Serves reports whether the lane serves a request of this method and URL.Path (the
	// lane's own parser takes only paths that need no unescaping). Required.
	Serves func(method, path string) bool
	// Headers are the canonical names (as http.CanonicalHeaderKey writes them) of the
	// request headers the handler reads. The lane checks the syntax of every other header
	// and skips it, so that it allocates nothing for headers nobody reads. Host,
	// Content-Length and Connection are read by the lane itself and are not in r.Header.
	Headers []string
	// MaxBody is the largest Content-Length the lane serves; a request announcing more goes
	// to net/http, so that the handler's own limit answers it as it does there. Default
	// 1 MiB.
	MaxBody int64
	// MaxHeaderBytes bounds a request's head (request line and headers, final CRLF
	// included); a larger head goes to net/http, which answers 431 beyond its own limit.
	// Default 64 KiB.
	MaxHeaderBytes int
	// IdleTimeout closes a connection that sends nothing for this long between requests.
	// Default 2 minutes.
	IdleTimeout time.Duration
	// RequestTimeout bounds the arrival of a request once its first byte is in, head and
	// body (a handler's SetReadDeadline replaces it for the body), and the writing of an
	// answer to a client that does not read. Default 30 seconds.
	RequestTimeout time.Duration
	// Fallback receives the connections the lane hands back to net/http; serve it with an
	// http.Server configured as the one that serves the connections before the lane takes
	// them. Required.
	Fallback *Listener
	// Logger receives the panics of Handler. Default slog.Default().
	Logger *slog.Logger
}

// Lane serves taken-over connections; see the package documentation.
type Lane struct {
	cfg Config
	// idleSlack and writeSlack are how stale the coarse idle and write deadlines may grow
	// before they are set again: a second, or a quarter of a shorter timeout.
	idleSlack, writeSlack time.Duration

	mu       sync.Mutex
	conns    map[*conn]struct{}
	shutting atomic.Bool   // set under mu
	idle     chan struct{} // closed by the last connection to end during a shutdown; made under mu

	takeovers atomic.Uint64
	requests  atomic.Uint64
	handbacks atomic.Uint64
}

// Stats counts what a Lane did since New.
type Stats struct {
	// Takeovers counts connections taken from net/http.
	Takeovers uint64
	// Requests counts requests the lane read itself: every request served on a taken-over
	// connection after the one that net/http read and TakeOver was called with.
	Requests uint64
	// Handbacks counts connections given back to net/http through Config.Fallback.
	Handbacks uint64
	// Open is the number of connections the lane holds now.
	Open int
}

// New returns a Lane for cfg. It panics when Handler, Serves or Fallback is missing: a lane
// without them could neither serve nor give back what it takes.
func New(cfg Config) *Lane {
	if cfg.Handler == nil || cfg.Serves == nil || cfg.Fallback == nil {
		panic("lane: Config needs Handler, Serves and Fallback")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Lane{cfg: cfg, conns: make(map[*conn]struct{}),
		idleSlack: min(staleness, cfg.IdleTimeout/4), writeSlack: min(staleness, cfg.RequestTimeout/4)}
}

// Stats returns the counters of l.
func (l *Lane) Stats() Stats {
	l.mu.Lock()
	open := len(l.conns)
	l.mu.Unlock()
	return Stats{Takeovers: l.takeovers.Load(), Requests: l.requests.Load(), Handbacks: l.handbacks.Load(), Open: open}
}

// TakeOver serves r and the following requests of its connection, and reports whether it
// did. Call it from the handler net/http runs, before anything reads r's body. It declines
// (false, nothing done: serve r as usual) a request the lane would not have accepted on its
// own (not HTTP/1.1, Connection: close, a Transfer-Encoding, an Expect or Upgrade header, a
// Content-Length beyond MaxBody, a method and path Serves refuses), a connection that cannot
// be hijacked, and everything once Shutdown or Close was called. Otherwise it hijacks the
// connection and returns once the connection is closed or handed back to net/http, on the
// goroutine it was called on: a taken-over connection costs no goroutine of its own.
func (l *Lane) TakeOver(w http.ResponseWriter, r *http.Request) bool {
	if r.ProtoMajor != 1 || r.ProtoMinor != 1 || r.Close || len(r.TransferEncoding) > 0 ||
		r.ContentLength < 0 || r.ContentLength > l.cfg.MaxBody ||
		r.Header["Expect"] != nil || r.Header["Upgrade"] != nil || !l.cfg.Serves(r.Method, r.URL.Path) {
		return false
	}
	c := &conn{lane: l}
	if !l.track(c) {
		return false
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		l.untrack(c)
		return false
	}
	l.takeovers.Add(1)
	c.serve(nc, brw.Reader, r)
	return true
}

// track registers c unless the lane is shutting down.
func (l *Lane) track(c *conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shutting.Load() {
		return false
	}
	l.conns[c] = struct{}{}
	return true
}

// untrack forgets c, and wakes Shutdown when c was the last.
func (l *Lane) untrack(c *conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.conns, c)
	if len(l.conns) == 0 && l.idle != nil {
		close(l.idle)
		l.idle = nil
	}
}

// Shutdown stops taking connections over, closes the connections that wait for their next
// request, and waits until the requests in progress are answered and their connections
// closed, or until ctx ends; then it closes what is left and returns ctx.Err().
func (l *Lane) Shutdown(ctx context.Context) error {
	l.mu.Lock()
	l.shutting.Store(true)
	for c := range l.conns {
		c.closeIfIdle()
	}
	if len(l.conns) == 0 {
		l.mu.Unlock()
		return nil
	}
	if l.idle == nil {
		l.idle = make(chan struct{})
	}
	idle := l.idle
	l.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		l.Close()
		return ctx.Err()
	}
}

// Close stops taking connections over and closes every taken-over connection at once,
// whatever it is doing. A handler still running finishes on its own; its answer is lost.
func (l *Lane) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.shutting.Store(true)
	for c := range l.conns {
		c.forceClose()
	}
	return nil
}
