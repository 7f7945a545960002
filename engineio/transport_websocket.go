package engineio

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/tomato-code/realtime/engineio/packet"
)

// Close codes the server sends (RFC 6455 §7.4.1).
const (
	closeNormal       = ws.StatusNormalClosure
	closeProtocol     = ws.StatusProtocolError
	closeInvalidData  = ws.StatusInvalidFramePayloadData
	closeMessageLarge = ws.StatusMessageTooBig
	closeInternal     = ws.StatusInternalServerError
)

// wsSocket is what a wsConn writes to and closes: the net.Conn of the handshake, or the
// rawSock that took its socket over (Linux, ReadPoller).
type wsSocket interface {
	Write(b []byte) (int, error)
	SetWriteDeadline(t time.Time) error
	Close() error
}

// errPollerFailed wraps the error of a poller that failed (poller_linux.go): its connections
// close with 1011, the server's own failure, rather than 1000.
var errPollerFailed = errors.New("engineio: websocket poller failed")

// wsConn is one websocket connection: the current transport of a session, or the one a
// polling session is being upgraded to. It is read in one of two ways (Config.ReadMode): by a
// goroutine of its own (rd), or by a poller that parses what arrives and queues the frames in
// in (see wsinbound.go and poller_linux.go).
type wsConn struct {
	conn      wsSocket
	rc        syscall.RawConn // nil when conn offers no raw access to its socket
	closeOnce sync.Once
	// probing is true while the connection is a polling session's upgrade candidate. Only the
	// goroutine that handles the connection's frames touches it once reading has started.
	// (Beside closeOnce, in its padding.)
	probing bool
	// wmu is held while a batch is partly written: a pool worker that found the socket full
	// hands it, locked, to the goroutine that writes the rest. Writes outside the writer
	// (pong, close frame) take it, so that they never land inside a frame.
	wmu  sync.Mutex
	sess *Session

	rd *frameReader // ReadGoroutine
	in *inbound     // ReadPoller
}

// upgradeConn takes the connection of a websocket handshake request: it checks r, hijacks the
// connection and answers a bad request as gobwas/ws's UpgradeHTTP does. The 101 response is
// the caller's to write (writeHandshake), with what must follow it. The bufio pair net/http
// hijacked with the connection is dropped: only bytes it had already read are kept, returned
// as pending for startReading (not in the wsConn, which would carry the slice for the
// connection's life).
func (srv *Server) upgradeConn(w http.ResponseWriter, r *http.Request) (c *wsConn, accept [acceptLen]byte, pending []byte, err error) {
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		if errors.Is(err, http.ErrNotSupported) {
			err = ws.ErrNotHijacker
		}
		body := err.Error()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, body)
		return nil, accept, nil, err
	}
	if accept, err = checkUpgrade(r); err != nil {
		conn.Write(rejectionResponse(err))
		conn.Close()
		return nil, accept, nil, err
	}
	c = &wsConn{conn: conn}
	if sc, ok := conn.(syscall.Conn); ok {
		c.rc, _ = sc.SyscallConn()
	}
	if c.rc != nil && srv.cfg.ReadMode == ReadPoller {
		// Set before c is shared: whoever closes c must see it.
		c.in = srv.pollers.newInbound(c)
	}
	return c, accept, buffered(rw), nil
}

// writeHandshake writes the 101 response with accept and, when open is not nil, the frame of
// open's open packet after it in the same write. The caller holds c.wmu or has not shared c
// yet.
func (c *wsConn) writeHandshake(accept *[acceptLen]byte, open *Session) error {
	bp := handshakeBufs.Get().(*[]byte)
	b := append101((*bp)[:0], accept)
	if open != nil {
		b = open.srv.appendOpenFrame(b, open)
	}
	_, err := c.conn.Write(b)
	*bp = b[:0]
	handshakeBufs.Put(bp)
	return err
}

// startReading makes s read c, by a poller when the read mode and the connection allow it,
// else by a goroutine of its own.
func (s *Session) startReading(c *wsConn, pending []byte, probing bool) {
	c.sess, c.probing = s, probing
	if c.in != nil {
		s.srv.pollers.attach(c.in, pending)
		return
	}
	// Without a poller, c.conn is the net.Conn the handshake came on.
	c.rd = newFrameReader(c.conn.(net.Conn), pending, s.srv.cfg.MaxPayload)
	go s.readLoop(c)
}

func buffered(rw *bufio.ReadWriter) []byte {
	if rw == nil || rw.Reader.Buffered() == 0 {
		return nil
	}
	b, _ := rw.Reader.Peek(rw.Reader.Buffered())
	return b
}

// close sends a close frame with code, best effort, and closes the connection. It runs on its
// own goroutine: a peer that does not read must not hold up whoever closes. A poller stops
// watching the connection first, while its descriptor is surely still open.
func (c *wsConn) close(code ws.StatusCode) {
	c.closeOnce.Do(func() {
		if c.in != nil {
			c.in.detach()
		}
		go func() {
			// The deadline also ends a writer stuck on a client that does not read, which
			// may hold wmu; set again once wmu is ours, since a pong written meanwhile
			// clears it.
			c.conn.SetWriteDeadline(time.Now().Add(time.Second))
			c.wmu.Lock()
			c.conn.SetWriteDeadline(time.Now().Add(time.Second))
			c.conn.Write(controlFrame(ws.OpClose, ws.NewCloseFrameBody(code, "")))
			c.wmu.Unlock()
			c.conn.Close()
		}()
	})
}

// writeFrame writes one frame from the read side (pong, probe answer). It never lands inside
// the writer's frames: net.Conn writes are atomic, and wmu covers a batch left half written.
func (c *wsConn) writeFrame(f []byte, timeout time.Duration) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.conn.SetWriteDeadline(time.Now().Add(timeout))
	_, err := c.conn.Write(f)
	c.conn.SetWriteDeadline(time.Time{}) // the writer's writes have no deadline (see onTimer)
	return err
}

// openWebSocket opens a websocket-only session. Its open packet is not queued: it goes out
// in the write of the 101 response, and the session's writer starts only after that write.
func (srv *Server) openWebSocket(w http.ResponseWriter, r *http.Request) {
	c, accept, pending, err := srv.upgradeConn(w, r)
	if err != nil {
		return
	}
	// Held from before c is shared: a close frame (a session closed during OnOpen) must not
	// overtake the 101.
	c.wmu.Lock()
	s := srv.createSession(r, c, false)
	err = c.writeHandshake(&accept, s)
	c.wmu.Unlock()
	if err != nil {
		s.writeFailed(c, err)
		return
	}
	s.mu.Lock()
	s.writing = false
	if len(s.queue) > 0 || s.state == stateClosing {
		s.kickLocked() // sent during OnOpen, or a close that waited for the open packet
	}
	s.mu.Unlock()
	s.startReading(c, pending, false)
}

// readLoop is the ReadGoroutine read path: it reads c until it fails or the session stops
// reading it.
func (s *Session) readLoop(c *wsConn) {
	for {
		op, payload, err := c.rd.next()
		if err != nil {
			s.wsFailed(c, err)
			return
		}
		if !s.onFrame(c, op, payload, c.rd.owned) {
			return
		}
	}
}

// onFrame handles one control frame or complete data message read from c, on whichever read
// path; frames of one connection are handled one at a time, in order. owned tells that
// payload may be kept rather than copied. It returns false when c must no longer be read.
func (s *Session) onFrame(c *wsConn, op ws.OpCode, payload []byte, owned bool) bool {
	var p packet.Packet
	switch op {
	case ws.OpPing:
		if err := c.writeFrame(controlFrame(ws.OpPong, payload), s.srv.writeTimeout()); err != nil {
			s.wsFailed(c, err)
			return false
		}
		return true
	case ws.OpPong:
		return true
	case ws.OpClose:
		s.wsFailed(c, io.EOF)
		return false
	case ws.OpText:
		if !utf8.Valid(payload) {
			s.wsFailed(c, errInvalidUTF8)
			return false
		}
		var err error
		if p, err = packet.Decode(payload, false); err != nil {
			s.wsFailed(c, err)
			return false
		}
	default: // binary
		p = packet.Packet{Type: packet.Message, Data: payload, Binary: true}
	}
	if c.probing {
		if c.probing = s.probeStep(c, p); !c.probing {
			return s.currentWS(c) // upgraded: c is now the session's transport
		}
		return true
	}
	if p.Type == packet.Message && !owned {
		// The payload lives in a read buffer: the handler gets its own copy.
		p.Data = append(make([]byte, 0, len(p.Data)), p.Data...)
	}
	return s.receive(p)
}

func (s *Session) currentWS(c *wsConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ws == c && s.state != stateClosed
}

// wsFailed handles the end of c: the session ends if c was its transport; an upgrade
// candidate is just dropped.
func (s *Session) wsFailed(c *wsConn, err error) {
	code := closeNormal
	switch {
	case errors.Is(err, errFrameTooLarge):
		code = closeMessageLarge
	case errors.Is(err, errProtocol):
		code = closeProtocol
	case errors.Is(err, errInvalidUTF8):
		code = closeInvalidData
	case errors.Is(err, errPollerFailed):
		code = closeInternal
	}
	s.mu.Lock()
	current := s.ws == c
	s.mu.Unlock()
	if !current {
		s.abortUpgrade(c, code)
		return
	}
	reason := ReasonTransportError
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed):
		reason, err = ReasonTransportClose, nil
	case errors.Is(err, packet.ErrInvalid):
		reason = ReasonParseError
		code = closeProtocol
	}
	c.close(code)
	s.terminate(reason, err, msgClose, false)
}

// writeTimeout bounds the writes of the read loop (pong, probe answer) to a client that does
// not read.
func (srv *Server) writeTimeout() time.Duration {
	return srv.cfg.PingInterval + srv.cfg.PingTimeout
}
