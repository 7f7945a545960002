package engineio

import (
	"errors"
	"time"
)

var (
	errClientPing = errors.New("engineio: invalid heartbeat direction (ping from client)")
	errWriteStuck = errors.New("engineio: no write progress for a whole ping interval")
)

// The heartbeat uses one timer per session for three deadlines: the next ping (PingInterval
// after the previous pong), the pong (PingTimeout after the ping) and the end of a graceful
// close. The session's fields say which one is armed.

func (s *Session) startHeartbeat() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateClosed {
		return
	}
	d := s.srv.cfg.PingInterval
	if s.state == stateClosing {
		d = s.srv.cfg.PingTimeout
	}
	s.due = time.Now().Add(d)
	s.timer = time.AfterFunc(d, s.onTimer)
}

// resetTimerLocked re-arms the timer. A firing already under way for an earlier deadline sees
// that due moved and does nothing.
func (s *Session) resetTimerLocked(d time.Duration) {
	s.due = time.Now().Add(d)
	if s.timer != nil {
		s.timer.Reset(d)
	}
}

func (s *Session) onTimer() {
	s.mu.Lock()
	if s.state == stateClosed || time.Now().Before(s.due) {
		s.mu.Unlock()
		return
	}
	switch {
	case s.state == stateClosing:
		reason := s.closeReason
		s.mu.Unlock()
		s.terminate(reason, nil, msgClose, false)
	case s.awaitingPong:
		s.mu.Unlock()
		s.terminate(ReasonPingTimeout, nil, msgClose, false)
	case s.writing && s.writeRounds == s.pingRounds:
		// The same write has been blocked for a whole ping interval: the client does not
		// read (it may still send pongs, which would otherwise keep it alive).
		s.mu.Unlock()
		s.terminate(ReasonTransportError, errWriteStuck, msgClose, false)
	default:
		// Ping even when messages flow: engine.io-client only re-arms its own timeout on pings.
		s.pingRounds = s.writeRounds
		s.awaitingPong = true
		s.refreshed = false
		// The pong is due PingTimeout after the ping was due, not after this late firing:
		// the deadline stays where the client expects it on a loaded machine. A very late
		// firing still leaves the client half the timeout.
		d := time.Until(s.due.Add(s.srv.cfg.PingTimeout))
		s.resetTimerLocked(max(d, s.srv.cfg.PingTimeout/2))
		s.enqueueLocked(msgPing)
		s.mu.Unlock()
	}
}

// pongOverdue ends the session if its pong deadline has passed and reports whether it did. A
// request can arrive between the deadline and the timer's firing, which may lag on a loaded
// machine: the session is gone for it all the same.
func (s *Session) pongOverdue() bool {
	s.mu.Lock()
	overdue := s.state == stateOpen && s.awaitingPong && time.Now().After(s.due)
	s.mu.Unlock()
	if overdue {
		s.terminate(ReasonPingTimeout, nil, msgClose, false)
	}
	return overdue
}
