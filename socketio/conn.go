package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tomato-code/realtime/engineio"
	"github.com/tomato-code/realtime/socketio/parser"
)

// session is what the socket layer uses of an Engine.IO session. *engineio.Session implements
// it; tests and benchmarks substitute in-memory fakes.
type session interface {
	Send(msgs ...*engineio.Message) error
	Writable() bool
	Close()
	Transport() string
	Handshake() *engineio.HandshakeInfo
	// RemoteAddr is Handshake().RemoteAddr without building the HandshakeInfo: an Engine.IO
	// session builds one per call, and the address is read at every connect.
	RemoteAddr() string
}

// conn is the Socket.IO side of one Engine.IO session (socket.io's "Client"): it decodes the
// session's messages, routes packets to the sockets of the namespaces the client joined, and
// serialises every handler of those sockets.
//
// Handler serialisation: at most one goroutine at a time "runs" the connection (running). The
// session's message path enters and waits for that; anything else that needs handlers to run
// (a server-side Disconnect) queues a task and runs the queue itself only when nobody runs the
// connection. Whoever runs it drains the queue before leaving. So handlers never overlap, come
// in order, and a handler that disconnects its own socket does not deadlock.
//
// A CONNECT whose adapter must confirm the socket's rooms first (JoinAwaiter) lends the turn to
// a goroutine that waits, then finishes the connect and handles the packets held meanwhile
// (lend, resume): the session's message path is not held up, so it still sees the session
// end and can end the wait.
type conn struct {
	srv  *Server
	sess session

	mu      sync.Mutex
	running bool
	closed  bool        // the session ended
	reason  abortReason // why we closed the session ourselves, given to the sockets
	first   *Socket     // the first joined namespace's socket (most clients join one); more in extra
	timer   *time.Timer // the connect timeout, nil once stopped

	// extra holds what few connections need; nil until one does. It is set once, by
	// CompareAndSwap, so that the message path reads it without the lock.
	extra atomic.Pointer[connExtra]
}

// connExtra is the part of a conn that most connections never use. An idle server holds a
// conn per client: without these fields it fits the 64-byte size class rather than 128.
type connExtra struct {
	// dec is used by the session's message path only. It is borrowed from decoders for each
	// message and kept only while a packet waits for its attachments.
	dec *parser.Decoder

	// Guarded by the conn's mu.
	idle    sync.Cond // signalled when running turns false
	pending []task
	more    []*Socket // joined namespaces after the first, in join order

	// While a CONNECT waits for its rooms (lend): lent is set, the packets that arrive
	// meanwhile wait in held, and stopWait ends the wait.
	lent     bool
	held     []*parser.Packet
	stopWait context.CancelFunc
}

// maxHeld bounds the packets held while a CONNECT waits for its rooms. A client has no reason
// to send more than a few (the CONNECTs of other namespaces); beyond, the message path waits
// for the turn, which holds up this connection's reads and lets TCP slow the client down.
const maxHeld = 64

// extraOf returns c.extra, allocating it on first use.
func (c *conn) extraOf() *connExtra {
	if x := c.extra.Load(); x != nil {
		return x
	}
	x := &connExtra{}
	x.idle.L = &c.mu
	if !c.extra.CompareAndSwap(nil, x) {
		return c.extra.Load()
	}
	return x
}

// abortReason is the reason a conn closed its session with (abort), one of a few: a byte
// rather than the string.
type abortReason uint8

const (
	abortNone abortReason = iota
	abortParseError
	abortForced
)

var abortReasons = [...]string{abortNone: "", abortParseError: ReasonParseError, abortForced: ReasonForcedServerClose}

// decoders holds the decoders of connections between messages.
var decoders = sync.Pool{New: func() any { return new(parser.Decoder) }}

// task is deferred handler work: the disconnect sequence of a socket.
type task struct {
	s      *Socket
	reason string
}

func (srv *Server) newConn(sess session) *conn {
	c := &conn{srv: srv, sess: sess}
	c.mu.Lock() // the timer may fire before the assignment is seen otherwise
	c.timer = time.AfterFunc(srv.cfg.ConnectTimeout, c.connectTimeout)
	c.mu.Unlock()
	return c
}

// stopTimerLocked stops the connect timeout and lets the timer go: a connection keeps it (and
// the callback it holds, about 130 bytes) only until its first socket connects.
func (c *conn) stopTimerLocked() {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}

// enter waits until nobody runs the connection and takes the turn.
func (c *conn) enter() {
	c.mu.Lock()
	for c.running {
		// Waiting is rare (a disconnect from another goroutine meeting the message path),
		// so the condition variable is in extra.
		c.extraOf().idle.Wait()
	}
	c.running = true
	c.mu.Unlock()
}

// leave runs the queued tasks, then gives the turn up.
func (c *conn) leave() {
	c.mu.Lock()
	x := c.extra.Load() // nil: no task was ever queued and nobody ever waited
	if x != nil {
		for len(x.pending) > 0 {
			t := x.pending[0]
			x.pending[0] = task{}
			x.pending = x.pending[1:]
			c.mu.Unlock()
			t.s.finishClose(t.reason)
			c.mu.Lock()
		}
		x.pending = nil
	}
	c.running = false
	if x != nil {
		x.idle.Broadcast()
	}
	c.mu.Unlock()
}

// submit queues t and runs it now unless someone runs the connection (who then will).
func (c *conn) submit(t task) {
	c.mu.Lock()
	x := c.extraOf()
	x.pending = append(x.pending, t)
	if c.running {
		c.mu.Unlock()
		return
	}
	c.running = true
	c.mu.Unlock()
	c.leave()
}

// OnMessage implements engineio.SessionHandler.
func (c *conn) OnMessage(data []byte, binary bool) {
	var d *parser.Decoder
	x := c.extra.Load()
	if x != nil {
		d = x.dec
	}
	if d == nil {
		d = decoders.Get().(*parser.Decoder)
		d.MaxAttachments = c.srv.cfg.MaxAttachments
	}
	p, err := d.Decode(data, binary)
	if d.Waiting() {
		c.extraOf().dec = d
	} else {
		if x != nil {
			x.dec = nil
		}
		decoders.Put(d)
	}
	if err != nil {
		c.abort(abortParseError)
		return
	}
	if p == nil {
		return // waiting for attachments
	}
	if !c.enterOrHold(p) {
		return
	}
	if c.handle(p) {
		c.leave()
	}
}

// enterOrHold takes the turn as enter does, or, while a CONNECT waits for its rooms, holds p to
// be handled after it and reports false.
func (c *conn) enterOrHold(p *parser.Packet) bool {
	c.mu.Lock()
	if x := c.extra.Load(); x != nil && x.lent && len(x.held) < maxHeld {
		x.held = append(x.held, p)
		c.mu.Unlock()
		return false
	}
	for c.running {
		c.extraOf().idle.Wait()
	}
	c.running = true
	c.mu.Unlock()
	return true
}

// OnClose implements engineio.SessionHandler: every socket disconnects with the session's
// reason (or ours, when we closed it).
func (c *conn) OnClose(reason string, _ error) {
	c.mu.Lock()
	// Before taking the turn, which a CONNECT waiting for its rooms holds: that wait ends
	// now, and the CONNECT, seeing closed, sends no reply.
	c.closed = true
	if x := c.extra.Load(); x != nil && x.stopWait != nil {
		x.stopWait()
	}
	c.mu.Unlock()
	c.enter()
	c.mu.Lock()
	c.stopTimerLocked()
	if c.reason != abortNone {
		reason = abortReasons[c.reason]
	}
	sockets := c.socketsLocked()
	c.mu.Unlock()
	for _, s := range sockets {
		if s.state.CompareAndSwap(stateConnected, stateDisconnecting) {
			s.finishClose(reason)
		}
	}
	c.leave()
}

// abort closes the session because of the client; the sockets get the reason.
func (c *conn) abort(reason abortReason) {
	c.mu.Lock()
	if c.reason == abortNone {
		c.reason = reason
	}
	c.mu.Unlock()
	c.sess.Close()
}

func (c *conn) connectTimeout() {
	c.mu.Lock()
	idle := c.first == nil && !c.closed
	c.mu.Unlock()
	if idle {
		c.abort(abortForced)
	}
}

func (c *conn) socketFor(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.first == nil || c.first.ns.name == nsp {
		return c.first // first is nil only when there are none
	}
	if x := c.extra.Load(); x != nil {
		for _, s := range x.more {
			if s.ns.name == nsp {
				return s
			}
		}
	}
	return nil
}

// socketsLocked returns a copy of the list of joined namespaces' sockets, in join order.
// c.mu is held.
func (c *conn) socketsLocked() []*Socket {
	if c.first == nil {
		return nil
	}
	list := []*Socket{c.first}
	if x := c.extra.Load(); x != nil {
		list = append(list, x.more...)
	}
	return list
}

// addSocketLocked adds s to the joined namespaces' sockets. c.mu is held.
func (c *conn) addSocketLocked(s *Socket) {
	if c.first == nil {
		c.first = s
		return
	}
	x := c.extraOf()
	x.more = append(x.more, s)
}

func (c *conn) removeSocket(s *Socket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	x := c.extra.Load()
	if c.first == s {
		// The next in join order takes the first place.
		c.first = nil
		if x != nil && len(x.more) > 0 {
			c.first = x.more[0]
			x.more = slices.Delete(x.more, 0, 1)
		}
		return
	}
	if x != nil {
		if i := slices.Index(x.more, s); i >= 0 {
			x.more = slices.Delete(x.more, i, i+1)
		}
	}
}

// handle routes one decoded packet. It runs with the turn held, and reports whether the caller
// still holds it: false when a CONNECT lent it to the goroutine that waits for its rooms.
func (c *conn) handle(p *parser.Packet) bool {
	switch p.Type {
	case parser.Connect:
		if c.socketFor(p.Namespace) != nil {
			c.abort(abortForced) // a second CONNECT for a joined namespace
			return true
		}
		return c.connect(p)
	case parser.ConnectError:
		c.abort(abortForced) // only servers send it
	default:
		s := c.socketFor(p.Namespace)
		if s == nil {
			c.abort(abortForced) // a namespace the client has not joined
			return true
		}
		s.onPacket(p)
	}
	return true
}

var invalidNamespace = json.RawMessage(`{"message":"Invalid namespace"}`)

// connect runs the CONNECT of a namespace: lookup, middleware, then the socket joins (accept),
// at once or, when its adapter must confirm its rooms first, after lending the turn to the
// goroutine that waits (then it reports false, as handle does).
func (c *conn) connect(p *parser.Packet) bool {
	s := &Socket{conn: c}
	if auth := p.Data; len(auth) > 0 {
		s.auth.Store(&auth)
	}
	ns := c.srv.lookup(p.Namespace, s)
	if ns == nil {
		c.sendPacket(&parser.Packet{Type: parser.ConnectError, Namespace: p.Namespace, ID: parser.NoID, Data: invalidNamespace})
		return true
	}
	s.id, s.ns = newSocketID(), ns
	if err := ns.runMiddleware(s); err != nil {
		ns.adapter.DelAll(s) // rooms the middleware may have joined
		c.sendPacket(&parser.Packet{Type: parser.ConnectError, Namespace: ns.name, ID: parser.NoID, Data: connectErrorData(err)})
		ns.pending.Add(-1)
		return true
	}
	if w, ok := ns.adapter.(JoinAwaiter); ok && w.JoinsPending(s) {
		c.lend(ns, s, w)
		return false
	}
	c.accept(ns, s)
	return true
}

// lend hands the turn to a goroutine that waits until the adapter confirms the rooms of s,
// then accepts s and handles the packets held meanwhile (resume).
//
// Waiting here instead would hold up the goroutine that delivers the session's messages. That
// one is the connection's own (a ReadPoller delivery, which starts another worker for other
// connections when it blocks; the read goroutine; the polling POST), so no other client would
// wait, but the session could not deliver its own end meanwhile: a client that went away
// would still get its CONNECT reply and connection handlers, up to JoinWaitTimeout later.
func (c *conn) lend(ns *Namespace, s *Socket, w JoinAwaiter) {
	ctx, cancel := context.WithTimeout(context.Background(), c.srv.cfg.JoinWaitTimeout)
	c.mu.Lock()
	x := c.extraOf()
	x.lent, x.stopWait = true, cancel
	if c.closed {
		cancel()
	}
	c.mu.Unlock()
	go func() {
		_ = w.AwaitJoined(ctx, s) // the socket connects whatever the answer: the adapter logs it
		cancel()
		c.mu.Lock()
		x.stopWait = nil
		c.mu.Unlock()
		c.accept(ns, s)
		c.resume()
	}()
}

// resume ends a lent turn: the held packets are handled in order, then the turn is given up,
// unless one of them lends it again.
func (c *conn) resume() {
	x := c.extra.Load() // set by lend
	for {
		c.mu.Lock()
		if len(x.held) == 0 || c.closed {
			x.lent, x.held = false, nil
			c.mu.Unlock()
			c.leave()
			return
		}
		p := x.held[0]
		x.held[0] = nil
		x.held = x.held[1:]
		c.mu.Unlock()
		if !c.handle(p) {
			return
		}
	}
}

// accept connects s, which passed the middleware of ns: unless the session ended, the socket
// is listed, the CONNECT reply goes out and the connection handlers run.
func (c *conn) accept(ns *Namespace, s *Socket) {
	defer ns.pending.Add(-1)
	if c.srv.cfg.DiscardAuth {
		s.auth.Store(nil)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		ns.adapter.DelAll(s)
		return
	}
	c.addSocketLocked(s)
	c.stopTimerLocked()
	c.mu.Unlock()
	// The CONNECT reply goes out before the socket can be targeted by broadcasts, so that
	// the client sees it first.
	data := make([]byte, 0, 32)
	data = append(data, `{"sid":`...)
	data = parser.AppendString(data, s.id)
	data = append(data, '}')
	c.sendPacket(&parser.Packet{Type: parser.Connect, Namespace: ns.name, ID: parser.NoID, Data: data})
	s.state.Store(stateConnected)
	ns.addSocket(s)
	ns.runConnection(s)
}

// connectErrorData is the CONNECT_ERROR payload for a middleware error.
func connectErrorData(err error) json.RawMessage {
	msg := err.Error()
	var data any
	var ce *ConnectError
	if errors.As(err, &ce) {
		msg, data = ce.Message, ce.Data
	}
	b := append([]byte(`{"message":`), parser.AppendString(nil, msg)...)
	if data != nil {
		var atts [][]byte
		enc, atts, err := parser.AppendValue(nil, atts, data)
		if err == nil && len(atts) == 0 {
			b = append(append(b, `,"data":`...), enc...)
		}
	}
	return append(b, '}')
}

// disconnectAll disconnects every socket of the client, then closes the session.
func (c *conn) disconnectAll() {
	c.mu.Lock()
	sockets := c.socketsLocked()
	c.mu.Unlock()
	for _, s := range sockets {
		s.serverDisconnect()
	}
	c.abort(abortForced)
}

// sendPacket encodes p and queues it, with its attachments, on the session.
func (c *conn) sendPacket(p *parser.Packet) error {
	text := parser.AppendText(make([]byte, 0, parser.TextLen(p)), p)
	if len(p.Attachments) == 0 {
		return c.sess.Send(engineio.NewTextMessage(text))
	}
	msgs := make([]*engineio.Message, 1, 1+len(p.Attachments))
	msgs[0] = engineio.NewTextMessage(text)
	for _, a := range p.Attachments {
		msgs = append(msgs, engineio.NewBinaryMessage(a))
	}
	return c.sess.Send(msgs...)
}
