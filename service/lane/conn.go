package lane

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/tomato-code/realtime/internal/rawio"
)

// States of a taken-over connection, for Shutdown: only an idle one (waiting for the first
// byte of its next request) may be closed under it.
const (
	stateActive int32 = iota
	stateIdle
	stateClosed
)

// bufSize is the read buffer's size: a small API request, head and body, and a few pipelined
// ones fit. A head that does not fit grows it, up to about twice MaxHeaderBytes.
const bufSize = 4 << 10

// maxKeptBuffer bounds the answer buffers a connection keeps between requests.
const maxKeptBuffer = 64 << 10

// staleness is how far a coarse deadline may lag behind the one it stands for before it is
// set again: setting a deadline per request would cost more than the request's parsing.
const staleness = time.Second

// routeCacheSize is how many distinct request targets a connection remembers with their
// strings and Serves verdict: a backend calls a handful of routes.
const routeCacheSize = 4

// conn is a taken-over connection. Everything but state and nc (set under Lane.mu) belongs to
// the goroutine that serves it.
type conn struct {
	lane  *Lane
	nc    net.Conn
	state atomic.Int32
	// io reads and writes nc with raw system calls (internal/rawio), so that a call arriving
	// after an idle moment does not wake the runtime's monitor thread.
	io net.Conn

	buf  []byte // read buffer: buf[r:w] is read and not consumed
	r, w int
	rerr error // the error of the last read, reported once the buffered bytes are used

	rdl, wdl time.Time // the deadlines set on nc; zero: none
	// now is read once per request, after the handler: the Date header, the write deadline
	// and the next idle deadline are all measured from it.
	now time.Time
	// reqStart is when the current request's first bytes were found incomplete (zero while
	// no request is partly in): its arrival is bounded by RequestTimeout from there.
	reqStart time.Time

	head   head
	routes [routeCacheSize]route
	next   int // the routes slot to replace next
	host   string

	tmpl   http.Request // the first request's context, TLS state and addresses
	req    http.Request
	url    url.URL
	header http.Header
	values [][]string // per Config.Headers: the storage of the values in header
	counts []int
	body   body
	rw     response
	out    []byte
	keys   []string
	date   []byte
	dateAt int64
}

// route is a request target the connection has seen, with its strings interned.
type route struct {
	method, target, path, query string
	force                       bool // a '?' with nothing after it
	serves                      bool
}

// serve serves first, whose connection nc was hijacked with br, and the requests after it.
func (c *conn) serve(nc net.Conn, br *bufio.Reader, first *http.Request) {
	l := c.lane
	defer l.untrack(c)
	var saved []byte
	if hc, ok := nc.(*handedConn); ok {
		// Taken over again after a hand-back: no wrapper on a wrapper.
		nc, saved = hc.Conn, hc.saved
	}
	c.io = rawio.Wrap(nc)
	l.mu.Lock()
	c.nc = nc
	closed := c.state.Load() == stateClosed
	l.mu.Unlock()
	if closed {
		nc.Close()
		return
	}
	n := br.Buffered()
	c.buf = make([]byte, max(bufSize, n+len(saved)))
	b, _ := br.Peek(n)
	c.w = copy(c.buf, b)
	c.w += copy(c.buf[c.w:], saved)

	names := l.cfg.Headers
	c.header = make(http.Header, len(names))
	c.values = make([][]string, len(names))
	c.counts = make([]int, len(names))
	c.rw = response{c: c, header: make(http.Header)}
	c.body.c = c
	c.tmpl = http.Request{
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		URL: &c.url, Header: c.header, Body: &c.body,
		RemoteAddr: first.RemoteAddr, TLS: first.TLS,
	}
	c.tmpl = *c.tmpl.WithContext(first.Context())

	// The hijack lifted net/http's deadlines.
	c.reqStart = time.Now()
	first.Body = &c.body
	c.body.remaining = first.ContentLength
	req := first
	for c.serveOne(req) {
		var handedBack bool
		if req, handedBack = c.nextRequest(); req == nil {
			if handedBack {
				return
			}
			break
		}
		l.requests.Add(1)
	}
	c.close()
}

// serveOne runs the handler for req and writes its answer; it reports whether the
// connection stays open for another request.
func (c *conn) serveOne(req *http.Request) bool {
	c.rw.reset(req)
	if !c.call(req) {
		return false
	}
	c.now = time.Now()
	keep := !req.Close && c.body.remaining == 0 && c.body.err == nil && !c.rw.closeAsked() && !c.lane.shutting.Load()
	c.reqStart = time.Time{}
	return c.answer(req, keep) && keep
}

// call runs the handler, and recovers a panic as net/http does: http.ErrAbortHandler
// silently, anything else logged with its stack. It reports whether the handler returned.
func (c *conn) call(req *http.Request) (returned bool) {
	defer func() {
		if p := recover(); p != nil && p != http.ErrAbortHandler {
			stack := make([]byte, 64<<10)
			stack = stack[:runtime.Stack(stack, false)]
			c.lane.cfg.Logger.Error("lane: panic serving a request", "remote", req.RemoteAddr, "panic", p, "stack", string(stack))
		}
	}()
	c.lane.cfg.Handler.ServeHTTP(&c.rw, req)
	return true
}

// nextRequest reads the next request. It returns nil when there is none: the connection
// failed or is closing, or, with handedBack, it went back to net/http.
func (c *conn) nextRequest() (req *http.Request, handedBack bool) {
	for {
		if c.r < c.w {
			n, v := parse(c.buf[c.r:c.w], &c.head, c.lane.cfg.Headers, c.lane.cfg.MaxHeaderBytes)
			if v == accepted && c.head.contentLength <= c.lane.cfg.MaxBody {
				if req := c.request(); req != nil {
					c.r += n
					return req, false
				}
			}
			if v != needMore {
				c.handBack()
				return nil, true
			}
		}
		if c.rerr != nil || !c.fill() {
			return nil, false
		}
	}
}

// fill reads more of the connection into the buffer. Waiting for a new request it keeps the
// coarse idle deadline; with a request partly in, it bounds the rest by RequestTimeout.
func (c *conn) fill() bool {
	idle := c.r == c.w
	if idle {
		c.r, c.w = 0, 0
		c.head.restart()
		c.state.Store(stateIdle)
		// Shutdown sets shutting before it looks for idle connections: one of the two
		// sees the other.
		if c.lane.shutting.Load() {
			return false
		}
		want := c.now.Add(c.lane.cfg.IdleTimeout)
		if c.rdl.IsZero() || c.rdl.After(want) || want.Sub(c.rdl) > c.lane.idleSlack {
			c.setReadDeadline(want)
		}
	} else {
		c.boundRequest()
		if c.w == len(c.buf) {
			if c.r > 0 {
				c.w = copy(c.buf, c.buf[c.r:c.w])
				c.r = 0
			} else {
				c.buf = append(c.buf, make([]byte, len(c.buf))...)
			}
			c.head.restart() // the head read so far points into bytes that moved
		}
	}
	n, err := c.io.Read(c.buf[c.w:])
	if idle && !c.state.CompareAndSwap(stateIdle, stateActive) {
		return false // closed by Shutdown
	}
	c.w += n
	c.rerr = err
	return n > 0
}

// boundRequest makes sure the read deadline is no later than RequestTimeout after the
// current request began to arrive.
func (c *conn) boundRequest() {
	if c.reqStart.IsZero() {
		c.reqStart = time.Now()
	}
	want := c.reqStart.Add(c.lane.cfg.RequestTimeout)
	if c.rdl.IsZero() || c.rdl.After(want) {
		c.setReadDeadline(want)
	}
}

func (c *conn) setReadDeadline(t time.Time) {
	_ = c.nc.SetReadDeadline(t)
	c.rdl = t
}

// request makes the handler's request of c.head, or returns nil when Serves refuses it. The
// request, its URL and its header map are the connection's, reused; the strings of a target
// seen lately and of header values equal to the last ones are reused too.
func (c *conn) request() *http.Request {
	h := &c.head
	rt := c.route(h)
	if !rt.serves {
		return nil
	}
	req := &c.req
	*req = c.tmpl
	req.Method = rt.method
	c.url = url.URL{Path: rt.path, RawQuery: rt.query, ForceQuery: rt.force}
	req.RequestURI = rt.target
	req.ContentLength = h.contentLength
	req.Close = h.close
	if string(h.host) != c.host {
		c.host = string(h.host)
	}
	req.Host = c.host

	clear(c.header)
	clear(c.counts)
	for _, f := range h.fields {
		vs, k := c.values[f.name], c.counts[f.name]
		if k == len(vs) {
			vs = append(vs, string(f.value))
			c.values[f.name] = vs
		} else if vs[k] != string(f.value) {
			vs[k] = string(f.value)
		}
		c.counts[f.name] = k + 1
	}
	for i, k := range c.counts {
		if k > 0 {
			c.header[c.lane.cfg.Headers[i]] = c.values[i][:k:k]
		}
	}
	c.body = body{c: c, remaining: h.contentLength}
	return req
}

// route finds h's method and target among those the connection has seen, or adds them.
func (c *conn) route(h *head) *route {
	for i := range c.routes {
		rt := &c.routes[i]
		if rt.target != "" && rt.target == string(h.target) && rt.method == string(h.method) {
			return rt
		}
	}
	rt := &c.routes[c.next]
	c.next = (c.next + 1) % routeCacheSize
	target := string(h.target)
	*rt = route{method: method(h.method), target: target, path: target[:h.query]}
	if h.query < len(target) {
		rt.query = target[h.query+1:]
		rt.force = rt.query == ""
	}
	rt.serves = c.lane.cfg.Serves(rt.method, rt.path)
	return rt
}

// method returns net/http's constant for the usual methods.
func method(b []byte) string {
	for _, m := range [...]string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead, http.MethodPatch} {
		if m == string(b) {
			return m
		}
	}
	return string(b)
}

// handBack gives the connection to net/http, with every byte not consumed (from the start of
// the request the lane did not take) to be read first. The lane's deadlines are lifted:
// net/http sets its own.
func (c *conn) handBack() {
	if !c.rdl.IsZero() {
		_ = c.nc.SetReadDeadline(time.Time{})
	}
	if !c.wdl.IsZero() {
		_ = c.nc.SetWriteDeadline(time.Time{})
	}
	c.lane.handbacks.Add(1)
	c.lane.cfg.Fallback.handOff(&handedConn{Conn: c.nc, saved: c.buf[c.r:c.w]})
}

func (c *conn) close() {
	c.state.Store(stateClosed)
	_ = c.nc.Close()
}

// closeIfIdle closes c if it waits for a request; the caller holds Lane.mu.
func (c *conn) closeIfIdle() {
	if c.state.CompareAndSwap(stateIdle, stateClosed) {
		_ = c.nc.Close()
	}
}

// forceClose closes c whatever it does; the caller holds Lane.mu.
func (c *conn) forceClose() {
	c.state.Store(stateClosed)
	if c.nc != nil {
		_ = c.nc.Close()
	}
}

// body is a request's body: ContentLength bytes, from the read buffer first, then from the
// connection.
type body struct {
	c         *conn
	remaining int64
	err       error
}

// Read reads the body. A read from the connection is bounded by the handler's read deadline
// when it set one, else by RequestTimeout from the request's arrival.
func (b *body) Read(p []byte) (int, error) {
	if b.remaining <= 0 {
		return 0, io.EOF
	}
	if b.err != nil {
		return 0, b.err
	}
	c := b.c
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	if c.r == c.w && c.rerr == nil && len(p) < len(c.buf) {
		// A small read: fill the buffer, which may take the next pipelined request too.
		c.r, c.w = 0, 0
		c.bodyDeadline()
		var n int
		n, c.rerr = c.io.Read(c.buf)
		c.w = n
	}
	if c.r < c.w {
		n := copy(p, c.buf[c.r:c.w])
		c.r += n
		b.remaining -= int64(n)
		return n, nil
	}
	if c.rerr != nil {
		b.err = c.rerr
	} else {
		c.bodyDeadline()
		var n int
		n, b.err = c.io.Read(p)
		b.remaining -= int64(n)
		if n > 0 {
			return n, nil
		}
	}
	if b.err == io.EOF {
		b.err = io.ErrUnexpectedEOF
	}
	return 0, b.err
}

// Close does nothing: what the handler leaves unread closes the connection after the answer.
func (b *body) Close() error { return nil }

// bodyDeadline sets the read deadline a read of the body needs, if nc's is not it already.
func (c *conn) bodyDeadline() {
	if c.rw.deadlineSet {
		if !c.rdl.Equal(c.rw.deadline) {
			c.setReadDeadline(c.rw.deadline)
		}
		return
	}
	c.boundRequest()
}
