package client

import (
	"bytes"
	"sync"

	"github.com/tomato-code/realtime/socketio/parser"
)

// Conn is one Engine.IO connection to a server. It carries the sockets of any number of
// namespaces (Socket.IO multiplexing); get them with Socket.
type Conn struct {
	eng *engine
	raw func([]byte, bool) bool
	dec parser.Decoder // read goroutine only

	mu      sync.Mutex
	sockets map[string]*Socket
	closed  bool
	cerr    *CloseError
}

func newConn(e *engine) *Conn {
	return &Conn{eng: e, raw: e.cfg.onRaw, sockets: make(map[string]*Socket)}
}

// Socket returns the socket of namespace nsp ("/" or "" for the main namespace), creating it
// when there is none or the previous one has ended. A new socket is not connected yet:
// register its handlers with On, then call Connect.
func (c *Conn) Socket(nsp string) *Socket {
	if nsp == "" {
		nsp = "/"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.sockets[nsp]; s != nil && !s.ended() {
		return s
	}
	s := newSocket(c, nsp)
	if c.closed {
		s.end(c.cerr.Reason, c.cerr.Err, nil)
	} else {
		c.sockets[nsp] = s
	}
	return s
}

// drop forgets s if it is still the socket of its namespace.
func (c *Conn) drop(s *Socket) {
	c.mu.Lock()
	if c.sockets[s.nsp] == s {
		delete(c.sockets, s.nsp)
	}
	c.mu.Unlock()
}

// ID returns the Engine.IO session id.
func (c *Conn) ID() string { return c.eng.info.SID }

// Transport returns the name of the transport in use: "websocket" or "polling" (which changes
// to "websocket" once an upgrade completed).
func (c *Conn) Transport() string { return c.eng.transportName() }

// PingInterval returns the heartbeat interval the server announced.
func (c *Conn) PingInterval() int64 { return c.eng.info.PingInterval }

// Close closes the connection and every socket on it, with reason "io client disconnect".
// It does not wait for the read goroutine to finish: use Done for that.
func (c *Conn) Close() error {
	c.eng.close(ReasonClientDisconnect, nil)
	return nil
}

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.eng.done }

// Err returns nil while the connection is open and a *CloseError saying why it ended after.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cerr == nil {
		return nil
	}
	return c.cerr
}

// Stats are a connection's counters.
type Stats struct {
	// PingsReceived counts the server's heartbeats (each answered with a pong).
	PingsReceived uint64
	// MessagesReceived and MessagesSent count Engine.IO messages: one per Socket.IO packet plus
	// one per binary attachment.
	MessagesReceived, MessagesSent uint64
}

// Stats returns the connection's counters.
func (c *Conn) Stats() Stats {
	return Stats{
		PingsReceived:    c.eng.pings.Load(),
		MessagesReceived: c.eng.received.Load(),
		MessagesSent:     c.eng.sent.Load(),
	}
}

// onMessage decodes one Engine.IO message and hands the packet to its namespace's socket. It
// runs on the read goroutine.
func (c *Conn) onMessage(data []byte, binary bool) {
	if c.raw != nil && c.raw(data, binary) {
		return
	}
	// The transport reuses its buffer, and a decoded packet (and the handler arguments made
	// from it) keeps referring to the bytes: give them their own copy.
	p, err := c.dec.Decode(bytes.Clone(data), binary)
	if err != nil {
		c.eng.close(ReasonParseError, err)
		return
	}
	if p == nil {
		return // waiting for attachments
	}
	c.mu.Lock()
	s := c.sockets[p.Namespace]
	c.mu.Unlock()
	if s != nil {
		s.onPacket(p)
	}
}

// onClose ends every socket with the connection's reason.
func (c *Conn) onClose(reason DisconnectReason, err error) {
	c.mu.Lock()
	c.closed = true
	c.cerr = &CloseError{Reason: reason, Err: err}
	sockets := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		sockets = append(sockets, s)
	}
	clear(c.sockets)
	c.mu.Unlock()
	for _, s := range sockets {
		s.end(reason, err, nil)
	}
}
