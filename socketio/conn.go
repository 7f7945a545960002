package socketio

import (
	"encoding/json"
	"errors"
	"sync"
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
type conn struct {
	srv  *Server
	sess session
	// dec is used by the session's message path only. It is borrowed from decoders for each
	// message and kept only while a packet waits for its attachments: an idle connection
	// does not carry one (48 bytes).
	dec *parser.Decoder

	mu      sync.Mutex
	running bool
	closed  bool       // the session ended
	idle    *sync.Cond // signalled when running turns false; made by the first enter that waits
	pending []task
	sockets []*Socket   // joined namespaces, usually one
	reason  string      // why we closed the session ourselves, given to the sockets
	timer   *time.Timer // the connect timeout, nil once stopped
}

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
		// so connections do not carry a condition variable (56 bytes) until they need one.
		if c.idle == nil {
			c.idle = sync.NewCond(&c.mu)
		}
		c.idle.Wait()
	}
	c.running = true
	c.mu.Unlock()
}

// leave runs the queued tasks, then gives the turn up.
func (c *conn) leave() {
	c.mu.Lock()
	for len(c.pending) > 0 {
		t := c.pending[0]
		c.pending[0] = task{}
		c.pending = c.pending[1:]
		c.mu.Unlock()
		t.s.finishClose(t.reason)
		c.mu.Lock()
	}
	c.pending = nil
	c.running = false
	if c.idle != nil {
		c.idle.Broadcast()
	}
	c.mu.Unlock()
}

// submit queues t and runs it now unless someone runs the connection (who then will).
func (c *conn) submit(t task) {
	c.mu.Lock()
	c.pending = append(c.pending, t)
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
	d := c.dec
	if d == nil {
		d = decoders.Get().(*parser.Decoder)
		d.MaxAttachments = c.srv.cfg.MaxAttachments
	}
	p, err := d.Decode(data, binary)
	if d.Waiting() {
		c.dec = d
	} else {
		c.dec = nil
		decoders.Put(d)
	}
	if err != nil {
		c.abort(ReasonParseError)
		return
	}
	if p == nil {
		return // waiting for attachments
	}
	c.enter()
	c.handle(p)
	c.leave()
}

// OnClose implements engineio.SessionHandler: every socket disconnects with the session's
// reason (or ours, when we closed it).
func (c *conn) OnClose(reason string, _ error) {
	c.enter()
	c.mu.Lock()
	c.stopTimerLocked()
	c.closed = true
	if c.reason != "" {
		reason = c.reason
	}
	sockets := append([]*Socket(nil), c.sockets...)
	c.mu.Unlock()
	for _, s := range sockets {
		if s.state.CompareAndSwap(stateConnected, stateDisconnecting) {
			s.finishClose(reason)
		}
	}
	c.leave()
}

// abort closes the session because of the client; the sockets get reason.
func (c *conn) abort(reason string) {
	c.mu.Lock()
	if c.reason == "" {
		c.reason = reason
	}
	c.mu.Unlock()
	c.sess.Close()
}

func (c *conn) connectTimeout() {
	c.mu.Lock()
	idle := len(c.sockets) == 0 && !c.closed
	c.mu.Unlock()
	if idle {
		c.abort(ReasonForcedServerClose)
	}
}

func (c *conn) socketFor(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sockets {
		if s.ns.name == nsp {
			return s
		}
	}
	return nil
}

func (c *conn) removeSocket(s *Socket) {
	c.mu.Lock()
	for i, x := range c.sockets {
		if x == s {
			c.sockets = append(c.sockets[:i], c.sockets[i+1:]...)
			break
		}
	}
	c.mu.Unlock()
}

// handle routes one decoded packet. It runs with the turn held.
func (c *conn) handle(p *parser.Packet) {
	switch p.Type {
	case parser.Connect:
		if c.socketFor(p.Namespace) != nil {
			c.abort(ReasonForcedServerClose) // a second CONNECT for a joined namespace
			return
		}
		c.connect(p)
	case parser.ConnectError:
		c.abort(ReasonForcedServerClose) // only servers send it
	default:
		s := c.socketFor(p.Namespace)
		if s == nil {
			c.abort(ReasonForcedServerClose) // a namespace the client has not joined
			return
		}
		s.onPacket(p)
	}
}

var invalidNamespace = json.RawMessage(`{"message":"Invalid namespace"}`)

// connect runs the CONNECT of a namespace: lookup, middleware, then the socket joins.
func (c *conn) connect(p *parser.Packet) {
	s := &Socket{conn: c, hs: newHandshake(c.sess.Handshake(), p.Data)}
	ns := c.srv.lookup(p.Namespace, &s.hs)
	if ns == nil {
		c.sendPacket(&parser.Packet{Type: parser.ConnectError, Namespace: p.Namespace, ID: parser.NoID, Data: invalidNamespace})
		return
	}
	defer ns.pending.Add(-1)
	s.id, s.ns = newSocketID(), ns
	if err := ns.runMiddleware(s); err != nil {
		ns.adapter.DelAll(s) // rooms the middleware may have joined
		c.sendPacket(&parser.Packet{Type: parser.ConnectError, Namespace: ns.name, ID: parser.NoID, Data: connectErrorData(err)})
		return
	}
	if c.srv.cfg.DiscardAuth && !joinedRooms(ns.adapter.SocketRooms(s), s.id) {
		s.hs.Auth = noAuth // not yet reachable by other goroutines: in no room, not in c.sockets
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		ns.adapter.DelAll(s)
		return
	}
	c.sockets = append(c.sockets, s)
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

// joinedRooms reports whether rooms, a socket's as its adapter lists them, hold any room
// besides the socket's own id.
func joinedRooms(rooms []string, id string) bool {
	for _, r := range rooms {
		if r != id {
			return true
		}
	}
	return false
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
	sockets := append([]*Socket(nil), c.sockets...)
	c.mu.Unlock()
	for _, s := range sockets {
		s.serverDisconnect()
	}
	c.abort(ReasonForcedServerClose)
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
