package engineio

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tomato-code/realtime/engineio/packet"
)

type sessionState uint8

const (
	stateOpen    sessionState = iota
	stateClosing              // Close was called: queued messages are written, then the session ends
	stateClosed
)

// Session is one Engine.IO client connection, whatever its transport. Its methods are safe
// for concurrent use.
type Session struct {
	srv     *Server
	id      string
	handler SessionHandler
	// flushFn is s.flushWebSocket, bound (under mu) the first time a writer goroutine starts,
	// so that starting one allocates nothing; sessions written by the pool never bind it.
	flushFn func()

	// mu guards what follows, up to recvMu, and the small fields at the end marked so.
	mu          sync.Mutex
	closeErr    error
	queue       []*Message // written in order by the current transport
	queued      int        // bytes in queue, as Message.size counts them
	ws          *wsConn    // the websocket transport, once it is the current one: nil while polling
	writeRounds uint32     // vectored writes started, to tell a stuck writer (see onTimer)
	pingRounds  uint32     // writeRounds when the last ping was queued

	poll *pollState // sessions opened over polling only

	// Heartbeat (see heartbeat.go).
	due int64      // the deadline, on nanotime's clock; earlier firings are stale
	hb  wheelEntry // guarded by the wheel's lock, not mu

	// recvMu serialises the handler's callbacks: OnOpen, OnMessage and OnClose. Lock order:
	// recvMu, then mu (a callback may call Send); mu is never held while taking recvMu, and
	// never across a callback or a network write.
	recvMu       sync.Mutex
	closePending atomic.Bool // OnClose is due

	// Small fields, together so that they share their padding: every word counts (see
	// TestSessionFitsItsSizeClass).
	closeFired   bool // guarded by recvMu
	state        sessionState
	closeReason  closeReason
	writing      bool // the session is with a writer: queued in the pool, or written (see wswrite.go)
	getActive    bool // polling: a GET is pending
	postActive   bool // polling: a POST is being read
	lingering    bool // closed by the client: the next GET still gets the noop
	probed       bool // the probe was answered: pending GETs are released with noop
	hbStarted    bool // the deadline is kept by the wheel (after OnOpen)
	awaitingPong bool
	refreshed    bool // the pong deadline was extended once already
	hsFlags      handshakeFlags

	// hs is the handshake in its compact form (see Handshake), held by value: no allocation
	// besides the one of its bytes.
	hs handshake
}

// pollState is what a session opened over polling needs for its polls and its upgrade,
// guarded by the session's mu. Sessions opened over websocket, most of them, carry none.
type pollState struct {
	wake         chan struct{} // capacity 1: a pending GET has something to look at
	end          *Message      // what a GET pending at close time answers: close or noop
	probe        *wsConn       // the websocket being upgraded to (see upgrade.go)
	upgradeTimer *time.Timer
}

// probeLocked returns the websocket being upgraded to, or nil.
func (s *Session) probeLocked() *wsConn {
	if s.poll == nil {
		return nil
	}
	return s.poll.probe
}

// closeReason is a close reason (the Reason constants) in one byte rather than a string's 16:
// every session carries one.
type closeReason uint8

// reasons are the close reasons by their closeReason; 0 is none yet.
var reasons = [...]string{"", ReasonTransportClose, ReasonTransportError, ReasonPingTimeout, ReasonParseError,
	ReasonForcedClose, ReasonServerShutdown, ReasonWriteQueueFull}

func reasonOf(reason string) closeReason {
	for i, r := range reasons {
		if r == reason {
			return closeReason(i)
		}
	}
	panic("engineio: unknown close reason " + reason)
}

func (r closeReason) String() string { return reasons[r] }

// ID returns the session id (sid), 20 characters of URL-safe base64 drawn from crypto/rand.
func (s *Session) ID() string { return s.id }

// Transport returns the current transport, "polling" or "websocket". It changes at most once,
// from polling to websocket, when an upgrade completes.
func (s *Session) Transport() string {
	s.mu.Lock()
	ws := s.ws != nil
	s.mu.Unlock()
	if ws {
		return TransportWebSocket
	}
	return TransportPolling
}

// Handshake describes the request that opened the session. The session keeps it in a compact
// form: each call builds a new HandshakeInfo (one allocation, its strings shared with the
// session's), which the caller may keep. RemoteAddr reads the client's address without
// building it.
func (s *Session) Handshake() *HandshakeInfo { return s.hs.info(s.hsFlags) }

// RemoteAddr returns the client's address, Handshake().RemoteAddr, without building the
// HandshakeInfo.
func (s *Session) RemoteAddr() string {
	_, _, addr, _ := s.hs.fields()
	return addr
}

// Send queues msgs, in order and atomically: either all are queued or none (a packet and its
// binary attachments stay together). It never blocks on the network and never calls the
// session's handler. It returns ErrSessionClosed once the session is closing or closed, and
// ErrWriteQueueFull when msgs do not fit in the write queue, in which case the session is
// closed with reason "write queue full".
func (s *Session) Send(msgs ...*Message) error {
	n := 0
	for _, m := range msgs {
		n += m.size()
	}
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrSessionClosed
	}
	if s.queued+n > s.srv.cfg.WriteQueueBytes {
		s.mu.Unlock()
		s.terminate(ReasonWriteQueueFull, ErrWriteQueueFull, msgClose, true)
		return ErrWriteQueueFull
	}
	s.queue = append(s.queue, msgs...)
	s.queued += n
	s.kickLocked()
	s.mu.Unlock()
	return nil
}

// enqueueLocked queues a packet of the protocol itself (ping): it is not refused when the
// queue is full, its size is negligible and the session must keep its heartbeat.
func (s *Session) enqueueLocked(m *Message) {
	s.queue = append(s.queue, m)
	s.queued += m.size()
	s.kickLocked()
}

// kickLocked gets the queue moving: it hands the session to a websocket writer, or wakes a
// pending GET.
func (s *Session) kickLocked() {
	if s.ws != nil {
		if !s.writing {
			s.writing = true
			if rawWrites && s.ws.rc != nil {
				s.srv.writers.push(s)
			} else {
				if s.flushFn == nil {
					s.flushFn = s.flushWebSocket
				}
				go s.flushFn()
			}
		}
		return
	}
	s.wakePollLocked()
}

func (s *Session) wakePollLocked() {
	if s.poll != nil {
		select {
		case s.poll.wake <- struct{}{}:
		default:
		}
	}
}

// Writable reports whether a message sent now would go out at once: nothing is queued and the
// transport is ready (a websocket with no write in progress, or a pending polling GET).
// Volatile emits use it to drop messages rather than queue them.
func (s *Session) Writable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen || len(s.queue) > 0 || s.probeLocked() != nil {
		return false
	}
	if s.ws != nil {
		return !s.writing
	}
	return s.getActive
}

// Close closes the session with reason "forced close" once the messages already queued are
// written, and over polling the close packet too (within PingTimeout at most): queued messages
// go in one poll response and the close packet in the next, as the reference sends them. It
// returns at once; OnClose runs on another goroutine.
func (s *Session) Close() { s.closeGracefully(ReasonForcedClose) }

// CloseError returns the error the session ended with, the one OnClose gets: a transport's
// read or write error, or a protocol violation. It is nil while the session is open, and when
// it ended without one (the client closed it, a timeout, Close).
func (s *Session) CloseError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeErr
}

func (s *Session) closeGracefully(reason string) {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	// Over polling the close packet needs a GET to travel in: without one pending, wait for
	// the next, as the reference does.
	idle := len(s.queue) == 0 && !s.writing && (s.ws != nil || s.getActive)
	if idle {
		s.mu.Unlock()
		s.terminate(reason, nil, msgClose, true)
		return
	}
	s.state = stateClosing
	s.closeReason = reasonOf(reason)
	s.resetTimerLocked(s.srv.cfg.PingTimeout) // bounds the wait for a slow or vanished client
	s.kickLocked()
	s.mu.Unlock()
}

// terminate ends the session at once: queued messages are dropped, a pending GET answers end
// (close, or noop when the client asked to close), the connections are closed and OnClose is
// scheduled. async runs OnClose on a new goroutine rather than on the caller's.
func (s *Session) terminate(reason string, err error, end *Message, async bool) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	s.state = stateClosed
	s.closeReason, s.closeErr = reasonOf(reason), err
	if s.poll != nil {
		s.poll.end = end
	}
	clear(s.queue)
	s.queue, s.queued = nil, 0
	ws, probe := s.ws, s.probeLocked()
	// A client that closes with a POST while its next GET is on the way (the two requests
	// race) gets that GET answered with the noop instead of a 400: the sid lingers briefly.
	s.lingering = end == msgNoop && s.ws == nil && !s.getActive
	lingering := s.lingering
	s.srv.wheel.disarm(s)
	if s.poll != nil {
		s.poll.probe = nil
		if s.poll.upgradeTimer != nil {
			s.poll.upgradeTimer.Stop()
		}
	}
	s.wakePollLocked()
	s.mu.Unlock()

	if ws != nil {
		ws.close(closeNormal)
	}
	if probe != nil {
		probe.close(closeNormal)
	}
	s.srv.remove(s, lingering)
	s.closePending.Store(true)
	if async {
		go s.fireClose()
	} else {
		s.fireClose()
	}
}

// deliver hands one message to the handler, unless the session has ended.
func (s *Session) deliver(data []byte, binary bool) {
	s.recvMu.Lock()
	if !s.closePending.Load() {
		s.handler.OnMessage(data, binary)
	}
	s.recvMu.Unlock()
	if s.closePending.Load() {
		s.fireClose()
	}
}

// fireClose calls OnClose if it is due and no other callback is running. Whoever holds recvMu
// when the session ends calls fireClose again after releasing it, so OnClose is never missed
// and always comes after the last OnMessage.
func (s *Session) fireClose() {
	if !s.recvMu.TryLock() {
		return
	}
	if s.closeFired || s.handler == nil {
		s.recvMu.Unlock()
		return
	}
	s.closeFired = true
	s.mu.Lock()
	reason, err := s.closeReason.String(), s.closeErr
	s.mu.Unlock()
	s.handler.OnClose(reason, err)
	s.recvMu.Unlock()
}

// receive processes one packet that arrived on the current transport. It returns false when
// the transport must stop reading: the session has ended.
func (s *Session) receive(p packet.Packet) bool {
	s.mu.Lock()
	if s.state != stateOpen {
		closed := s.state == stateClosed
		s.mu.Unlock()
		return !closed
	}
	if s.awaitingPong && !s.refreshed && p.Type != packet.Pong {
		// engine.io 6.6: traffic while a pong is awaited extends the deadline, once.
		s.refreshed = true
		s.resetTimerLocked(s.srv.cfg.PingTimeout)
	}
	switch p.Type {
	case packet.Pong:
		if s.awaitingPong {
			s.awaitingPong = false
			s.resetTimerLocked(s.srv.cfg.PingInterval)
		}
		s.mu.Unlock()
	case packet.Ping:
		s.mu.Unlock()
		s.terminate(ReasonTransportError, errClientPing, msgClose, false)
		return false
	case packet.Close:
		s.mu.Unlock()
		s.terminate(ReasonTransportClose, nil, msgNoop, false)
		return false
	case packet.Message:
		s.mu.Unlock()
		s.deliver(p.Data, p.Binary)
	default:
		// open, upgrade and noop from the client are ignored, as the reference does.
		s.mu.Unlock()
	}
	return true
}

// openPacket builds the open packet of a polling session.
func (srv *Server) openPacket(s *Session) *Message {
	return newControl(packet.Open, srv.appendOpenJSON(make([]byte, 0, 128), s))
}

// appendOpenFrame appends the websocket frame of the open packet, which a session opened over
// websocket sends with its 101 response.
func (srv *Server) appendOpenFrame(b []byte, s *Session) []byte {
	var tmp [160]byte
	data := srv.appendOpenJSON(tmp[:0], s)
	return appendPacketFrame(b, packet.Open, data, false)
}

// appendOpenJSON appends the open packet's data: exactly the five keys the protocol suites
// check.
func (srv *Server) appendOpenJSON(b []byte, s *Session) []byte {
	b = append(b, `{"sid":"`...)
	b = append(b, s.id...)
	b = append(b, `","upgrades":[`...)
	if s.ws == nil && srv.cfg.transportEnabled(TransportWebSocket) {
		b = append(b, `"websocket"`...)
	}
	b = append(b, `],"pingInterval":`...)
	b = strconv.AppendInt(b, srv.cfg.PingInterval.Milliseconds(), 10)
	b = append(b, `,"pingTimeout":`...)
	b = strconv.AppendInt(b, srv.cfg.PingTimeout.Milliseconds(), 10)
	b = append(b, `,"maxPayload":`...)
	b = strconv.AppendInt(b, srv.cfg.MaxPayload, 10)
	return append(b, '}')
}
