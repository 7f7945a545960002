package engineio

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tomato-code/realtime/engineio/packet"
)

var (
	errPollOverlap  = errors.New("engineio: overlapping polling requests")
	errPollGone     = errors.New("engineio: poll request closed prematurely")
	errPostGone     = errors.New("engineio: data request closed prematurely")
	errBinaryPost   = errors.New("engineio: binary POST body (application/octet-stream) in protocol 4")
	errBodyTooLarge = errors.New("engineio: POST body larger than MaxPayload")
)

// servePoll answers a polling GET: at once with everything queued, or when something is
// queued, the upgrade needs the poll released, or the session ends. The first GET of a
// session is its handshake and finds the open packet queued.
func (s *Session) servePoll(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.getActive {
		s.mu.Unlock()
		// The reference answers the intruder 400, closes the session, and the first GET
		// receives the close packet.
		writeStatus(w, http.StatusBadRequest)
		s.terminate(ReasonTransportError, errPollOverlap, msgClose, false)
		return
	}
	if s.state == stateClosed {
		lingering := s.lingering
		s.lingering = false
		s.mu.Unlock()
		if lingering {
			s.srv.sessions.compareAndDelete(s)
			writePayload(w, nil, msgNoop)
			return
		}
		writeError(w, CodeUnknownSid, "")
		return
	}
	if s.ws != nil { // upgraded since ServeHTTP looked: a transport mismatch after all
		s.mu.Unlock()
		writeError(w, CodeBadRequest, "")
		return
	}
	s.getActive = true
	// Once the probe is answered, a GET (pending or new) is released with a noop only after
	// probeRelease, as the reference does with its 100 ms tick: the upgrade packet usually
	// follows the probe at once, and a GET that the upgrade overtakes must get 400, as any
	// polling request after the upgrade does. engine.io-client never sees that 400: it sends
	// the upgrade packet only after its pending GET has returned.
	var probeWait <-chan time.Time
	var end *Message // a packet after the batch: close or noop
	finishing := false
	for {
		if s.state == stateClosed {
			end = s.poll.end
			break
		}
		if s.ws != nil {
			s.getActive = false
			s.mu.Unlock()
			writeError(w, CodeBadRequest, "")
			return
		}
		if len(s.queue) > 0 {
			break
		}
		if s.state == stateClosing {
			// A graceful close sends what was queued first and the close packet in the next
			// response, as the reference does (Socket.close waits for "drain"; the transport
			// then buffers the close for its next GET). In one payload, socket.io-client would
			// act on the close before the packets it carries: it decodes them a tick later,
			// so a Socket.IO DISCONNECT ahead of the close would be lost and the client would
			// reconnect.
			end, finishing = msgClose, true
			break
		}
		if s.probed && probeWait == nil {
			t := time.NewTimer(probeRelease)
			defer t.Stop()
			probeWait = t.C
		}
		s.mu.Unlock()
		select {
		case <-s.poll.wake:
		case <-probeWait:
			s.mu.Lock()
			if s.probed && s.ws == nil && len(s.queue) == 0 && s.state == stateOpen {
				end = msgNoop
				goto done
			}
			probeWait = nil // the upgrade was abandoned: a new probe starts a new wait
			continue
		case <-r.Context().Done():
			s.mu.Lock()
			s.getActive = false
			s.mu.Unlock()
			s.terminate(ReasonTransportError, errPollGone, msgClose, false)
			return
		}
		s.mu.Lock()
	}
done:
	batch := s.queue
	if s.state == stateClosed {
		batch = nil
	}
	s.queue, s.queued = nil, 0
	s.getActive = false
	reason := s.closeReason.String()
	s.mu.Unlock()

	writePayload(w, batch, end)
	clear(batch)
	if finishing {
		s.terminate(reason, nil, msgClose, false)
	}
}

// writePayload writes a GET response: the polling records of batch and end, separated by
// 0x1e, straight from each message's shared encoding.
func writePayload(w http.ResponseWriter, batch []*Message, end *Message) {
	n := 0
	for _, m := range batch {
		n += len(m.pollRecord()) + 1
	}
	if end != nil {
		n += len(end.pollRecord()) + 1
	}
	if n > 0 {
		n-- // separators go between records
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(n))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	sep := []byte{packet.Separator}
	first := true
	for _, m := range batch {
		if !first {
			w.Write(sep)
		}
		first = false
		w.Write(m.pollRecord())
	}
	if end != nil {
		if !first {
			w.Write(sep)
		}
		w.Write(end.pollRecord())
	}
}

// servePost receives a polling POST: a payload of packets separated by 0x1e.
func (s *Session) servePost(w http.ResponseWriter, r *http.Request) {
	// A body that stalls would hold this goroutine and its connection for as long as the
	// client keeps the connection open (a slow client, or a slowloris attack), and nothing
	// else bounds that when the http.Server has no ReadTimeout. A POST slower than this loses
	// nothing: the session would have timed out waiting for the pong it carries. net/http
	// clears the deadline once the body has been read to its end.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.srv.cfg.PingInterval + s.srv.cfg.PingTimeout))
	if r.Header.Get("Content-Type") == "application/octet-stream" {
		writeStatus(w, http.StatusBadRequest)
		s.terminate(ReasonTransportError, errBinaryPost, msgClose, false)
		return
	}
	s.mu.Lock()
	if s.postActive {
		s.mu.Unlock()
		writeStatus(w, http.StatusBadRequest)
		s.terminate(ReasonTransportError, errPollOverlap, msgClose, false)
		return
	}
	s.postActive = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.postActive = false
		s.mu.Unlock()
	}()

	max := s.srv.cfg.MaxPayload
	if r.ContentLength > max {
		// As the reference: refuse the body, keep the session.
		writeStatus(w, http.StatusRequestEntityTooLarge)
		return
	}
	body, err := readBody(r.Body, r.ContentLength, max)
	if errors.Is(err, errBodyTooLarge) {
		writeStatus(w, http.StatusRequestEntityTooLarge)
		return
	}
	if err != nil {
		s.terminate(ReasonTransportError, errPostGone, msgClose, false)
		return
	}
	// Text packets alias body; it is never reused, so each message's data belongs to the
	// handler as the SessionHandler contract says.
	err = packet.DecodePayload(body, func(p packet.Packet) error {
		if !s.receive(p) {
			return errStopReading
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStopReading) {
		writeError(w, CodeBadRequest, "")
		s.terminate(ReasonParseError, err, msgClose, false)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "ok")
}

// probeRelease is how long a GET that arrives during an upgrade waits before the noop.
const probeRelease = 100 * time.Millisecond

var errStopReading = errors.New("engineio: session ended")

// readBody reads a POST body of at most max bytes, into one exactly sized slice when the
// length is announced.
func readBody(body io.Reader, length, max int64) ([]byte, error) {
	if length >= 0 {
		b := make([]byte, length)
		if _, err := io.ReadFull(body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(body, max+1))
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, errBodyTooLarge
	}
	return buf.Bytes(), nil
}

// openPolling opens a polling session: the handshake GET is its first poll and finds the
// open packet queued.
func (srv *Server) openPolling(w http.ResponseWriter, r *http.Request) {
	s := srv.newSession(r, nil)
	s.servePoll(w, r)
}
