package engineio

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/tomato-code/realtime/engineio/packet"
)

// serveUpgrade takes a websocket opened for a polling session (transport=websocket&sid=...).
// The client probes it with "2probe", the server answers "3probe" and releases the pending
// GET with a noop (after probeRelease, see servePoll), the client sends "5" and the websocket
// becomes the transport; what was queued meanwhile is flushed on it, in order. A second
// websocket for a session that is upgrading or upgraded is closed, and so is the candidate
// when UpgradeTimeout passes first.
func (s *Session) serveUpgrade(w http.ResponseWriter, r *http.Request) {
	c, accept, pending, err := s.srv.upgradeConn(w, r)
	if err != nil {
		return
	}
	// The candidate's place is taken before its 101 goes out: a client opens another
	// websocket as soon as the first one's 101 arrives, and the first must stay the
	// candidate however late its goroutine runs again (the official suite's "ignores
	// WebSocket connection with same sid after upgrade" timed out once when the second
	// took the place). c.wmu is held from then to the end of the 101, so that closing the
	// candidate meanwhile (the session ends, the upgrade times out) writes its close frame
	// after the 101, not before it; c is new, so nobody holding s.mu waits for its wmu.
	c.wmu.Lock()
	s.mu.Lock()
	candidate := s.state == stateOpen && s.ws == nil && s.poll != nil && s.poll.probe == nil
	if candidate {
		s.poll.probe = c
		s.poll.upgradeTimer = time.AfterFunc(s.srv.cfg.UpgradeTimeout, func() { s.abortUpgrade(c, closeNormal) })
	}
	s.mu.Unlock()
	err = c.writeHandshake(&accept, nil)
	c.wmu.Unlock()
	if hook := upgradeWritten.Load(); hook != nil {
		(*hook)()
	}
	if err != nil || !candidate {
		s.abortUpgrade(c, closeNormal) // closes c, and frees the place if c has it
		return
	}
	s.startReading(c, pending, true)
}

// upgradeWritten, when set (by tests), runs after an upgrade's 101 is written: a test holds
// one upgrade there to open another websocket for the same session meanwhile.
var upgradeWritten atomic.Pointer[func()]

// probeStep handles one packet on an upgrade candidate and reports whether the probing goes on.
// When it returns false, the upgrade either completed (c is now the transport) or was aborted.
func (s *Session) probeStep(c *wsConn, p packet.Packet) bool {
	switch {
	case p.Type == packet.Ping && string(p.Data) == "probe":
		if err := c.writeFrame(msgProbe.wsFrame(), s.srv.writeTimeout()); err != nil {
			s.abortUpgrade(c, closeNormal)
			return false
		}
		s.mu.Lock()
		if s.probeLocked() == c {
			s.probed = true
			s.wakePollLocked() // the pending GET starts its way to the noop
		}
		s.mu.Unlock()
		return true
	case p.Type == packet.Upgrade:
		s.completeUpgrade(c)
		return false
	default:
		s.abortUpgrade(c, closeNormal)
		return false
	}
}

func (s *Session) completeUpgrade(c *wsConn) {
	s.mu.Lock()
	if s.probeLocked() != c || s.state == stateClosed {
		s.mu.Unlock()
		c.close(closeNormal)
		return
	}
	s.poll.probe, s.probed = nil, false
	s.poll.upgradeTimer.Stop()
	s.ws = c
	s.wakePollLocked() // a GET still pending ends with a noop
	if len(s.queue) > 0 || s.state == stateClosing {
		s.kickLocked() // the writer also finishes a graceful close that waited for a GET
	}
	s.mu.Unlock()
}

// abortUpgrade drops an upgrade candidate: the session stays on polling.
func (s *Session) abortUpgrade(c *wsConn, code ws.StatusCode) {
	s.mu.Lock()
	if s.probeLocked() == c {
		s.poll.probe, s.probed = nil, false
		s.poll.upgradeTimer.Stop()
	}
	s.mu.Unlock()
	c.close(code)
}
