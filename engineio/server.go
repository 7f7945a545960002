package engineio

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server is an Engine.IO server. It implements http.Handler; mount it at the path the clients
// use, e.g. "/engine.io/" or "/socket.io/", with a trailing slash. The path itself is not
// checked: every request that reaches the handler is an Engine.IO request.
type Server struct {
	cfg  Config
	cors *corsPolicy

	sessions *sessionTable
	count    atomic.Int64

	pollers  pollerGroup  // ReadPoller: the pollers of the websocket connections
	writers  writerPool   // the writers of the websocket connections with raw access
	delivery deliveryPool // the goroutines that hand their frames to the sessions
	wheel    *wheel       // the sessions' heartbeat deadlines

	shuttingDown atomic.Bool
	drainOnce    sync.Once
	drained      chan struct{} // closed when the last session ends during Shutdown
}

// NewServer returns a server for cfg. cfg.OnOpen is required.
func NewServer(cfg Config) *Server {
	if cfg.OnOpen == nil {
		panic("engineio: Config.OnOpen is required")
	}
	cfg = cfg.withDefaults()
	srv := &Server{cfg: cfg, cors: newCORSPolicy(cfg.CORS), sessions: newSessionTable(), drained: make(chan struct{}), wheel: newWheel(&cfg)}
	srv.pollers.log = cfg.Logger
	return srv
}

// ServeHTTP answers the Engine.IO requests: handshakes, polling GETs and POSTs, and websocket
// upgrades. Bad requests get the reference's answers: 400 (403 when AllowRequest refuses) with
// {"code":N,"message":...}, or a raw 400 for websocket upgrades.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if srv.cors != nil && srv.cors.apply(w, r) {
		return // preflight answered
	}
	q := r.URL.Query()
	transport := q.Get("transport")
	upgrade := transport == TransportWebSocket && isWebSocketUpgrade(r)
	fail := writeError
	if upgrade {
		fail = writeUpgradeError
	}

	// The checks and their order are the reference's (protocol-notes §7).
	if !srv.cfg.transportEnabled(transport) {
		fail(w, CodeUnknownTransport, "")
		return
	}
	if invalidHeaderValue(r.Header.Get("Origin")) {
		fail(w, CodeBadRequest, "")
		return
	}
	if sid := q.Get("sid"); sid != "" {
		s, ok := srv.sessions.load(sid)
		if !ok {
			fail(w, CodeUnknownSid, "")
			return
		}
		if s.pongOverdue() {
			fail(w, CodeUnknownSid, "")
			return
		}
		if !upgrade && s.Transport() != transport {
			fail(w, CodeBadRequest, "")
			return
		}
		if q.Get("EIO") != "4" {
			fail(w, CodeBadRequest, "")
			return
		}
		switch {
		case upgrade:
			s.serveUpgrade(w, r)
		case r.Method == http.MethodGet:
			s.servePoll(w, r)
		case r.Method == http.MethodPost:
			s.servePost(w, r)
		default:
			writeStatus(w, http.StatusInternalServerError)
		}
		return
	}
	if r.Method != http.MethodGet {
		fail(w, CodeBadHandshakeMethod, "")
		return
	}
	if transport == TransportWebSocket && !upgrade {
		fail(w, CodeBadRequest, "")
		return
	}
	if srv.cfg.AllowRequest != nil {
		if err := srv.cfg.AllowRequest(r); err != nil {
			fail(w, CodeForbidden, err.Error())
			return
		}
	}
	if q.Get("EIO") != "4" {
		fail(w, CodeUnsupportedProtocol, "")
		return
	}
	if srv.shuttingDown.Load() {
		if upgrade {
			writeUpgradeError(w, CodeBadRequest, "Server shutting down")
		} else {
			writeJSONError(w, http.StatusServiceUnavailable, CodeBadRequest, "Server shutting down")
		}
		return
	}
	if upgrade {
		srv.openWebSocket(w, r)
	} else {
		srv.openPolling(w, r)
	}
}

// isWebSocketUpgrade reports whether r asks for a websocket, as Node's "upgrade" event does.
func isWebSocketUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		if hasToken(v, "websocket") {
			return true
		}
	}
	return false
}

// invalidHeaderValue mirrors the reference's check of the Origin header: only tab, printable
// ASCII and bytes >= 0x80 are allowed.
func invalidHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\t' && (c < 0x20 || c == 0x7f) {
			return true
		}
	}
	return false
}

// register adds a new session; it returns false when the server is shutting down.
func (srv *Server) register(s *Session) {
	srv.count.Add(1)
	srv.sessions.store(s)
}

// lingerTime is how long the sid of a session closed by the client still answers one GET.
const lingerTime = time.Second

// remove forgets a session that has ended. A lingering one stays findable for lingerTime, but
// no longer counts.
func (srv *Server) remove(s *Session, linger bool) {
	if linger {
		time.AfterFunc(lingerTime, func() { srv.sessions.compareAndDelete(s) })
	} else if !srv.sessions.compareAndDelete(s) {
		return
	}
	if srv.count.Add(-1) == 0 && srv.shuttingDown.Load() {
		srv.drainOnce.Do(func() { close(srv.drained) })
	}
}

// Shutdown stops accepting new sessions (handshakes get 503 with {"code":3,...}), closes every
// session with "server shutting down" once its queued messages are written, and waits until
// they have all ended or ctx ends. When ctx ends first it closes the remaining sessions at once
// and returns ctx.Err(). Requests of existing sessions are still served while it runs, so that
// polling clients receive their last messages. A second call returns ErrServerClosed.
func (srv *Server) Shutdown(ctx context.Context) error {
	if !srv.shuttingDown.CompareAndSwap(false, true) {
		return ErrServerClosed
	}
	srv.sessions.each(func(s *Session) { s.closeGracefully(ReasonServerShutdown) })
	if srv.count.Load() == 0 {
		return nil
	}
	select {
	case <-srv.drained:
		return nil
	case <-ctx.Done():
		srv.sessions.each(func(s *Session) { s.terminate(ReasonServerShutdown, nil, msgClose, false) })
		return ctx.Err()
	}
}

// SessionCount returns the number of open sessions.
func (srv *Server) SessionCount() int { return int(srv.count.Load()) }

// newSession creates a session, lets OnOpen attach its handler and registers it. The open
// packet is the first thing queued, so it is the first thing the client receives. ws is the
// session's websocket, nil for a session opened over polling.
func (srv *Server) newSession(r *http.Request, ws *wsConn) *Session {
	return srv.createSession(r, ws, true)
}

// createSession is newSession; without queueOpen the caller writes the open packet itself,
// before anything queued: the session is left with writing set, so that no writer starts
// until the caller clears it.
func (srv *Server) createSession(r *http.Request, ws *wsConn, queueOpen bool) *Session {
	s := &Session{
		hb:  wheelEntry{slot: -1},
		srv: srv,
		id:  newSID(),
		ws:  ws,
	}
	s.hs, s.hsFlags = makeHandshake(r, time.Now(), srv.cfg.KeepHeaders)
	if ws == nil {
		s.poll = &pollState{wake: make(chan struct{}, 1)}
	}
	if queueOpen {
		s.queue = append(s.queue, srv.openPacket(s))
		s.queued = s.queue[0].size()
	} else {
		s.writing = true
	}
	srv.register(s)
	if srv.shuttingDown.Load() {
		// Shutdown may have ranged over the sessions before this one was stored. It may
		// also have found it, and be closing it now: hence the lock.
		s.mu.Lock()
		if s.state == stateOpen {
			s.state = stateClosing
			s.closeReason = reasonOf(ReasonServerShutdown)
		}
		s.mu.Unlock()
	}

	// Holding recvMu during OnOpen keeps every other callback, OnClose included, after it.
	s.recvMu.Lock()
	h := srv.cfg.OnOpen(s)
	if h == nil {
		h = nopHandler{}
	}
	s.handler = h
	s.recvMu.Unlock()
	s.startHeartbeat()
	if s.closePending.Load() {
		s.fireClose()
	}
	return s
}

type nopHandler struct{}

func (nopHandler) OnMessage([]byte, bool) {}
func (nopHandler) OnClose(string, error)  {}
