package engineio

import (
	"sync"
)

// Session is one Engine.IO client connection, whatever its transport. Its methods are safe
// for concurrent use.
type Session struct {
	srv     *Server
	id      string
	hs      *HandshakeInfo
	handler SessionHandler

	mu        sync.Mutex
	transport string
}

// ID returns the session id (sid), 20 characters of URL-safe base64 drawn from crypto/rand.
func (s *Session) ID() string { return s.id }

// Transport returns the current transport, "polling" or "websocket". It changes at most once,
// from polling to websocket, when an upgrade completes.
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport
}

// Handshake describes the request that opened the session.
func (s *Session) Handshake() *HandshakeInfo { return s.hs }

// Send queues msgs, in order and atomically: either all are queued or none (a packet and its
// binary attachments stay together). It never blocks on the network. It returns
// ErrSessionClosed once the session is closing or closed, and ErrWriteQueueFull when msgs do
// not fit in the write queue, in which case the session is closed with "write queue full".
func (s *Session) Send(msgs ...*Message) error {
	return ErrSessionClosed
}

// Writable reports whether a message sent now would go out at once: nothing is queued and the
// transport is ready. Volatile emits use it to drop messages rather than queue them.
func (s *Session) Writable() bool { return false }

// Close closes the session with reason "forced close" once the messages already queued are
// written. It returns at once; OnClose runs on another goroutine.
func (s *Session) Close() {}
