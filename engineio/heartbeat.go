package engineio

import (
	"errors"
	"time"
)

var (
	errClientPing = errors.New("engineio: invalid heartbeat direction (ping from client)")
	errWriteStuck = errors.New("engineio: no write progress for a whole ping interval")
)

// The heartbeat uses one deadline per session, kept by the server's wheel (heartbeat_wheel.go),
// for three purposes: the next ping (PingInterval after the previous pong), the pong
// (PingTimeout after the ping) and the end of a graceful close. The session's fields say which
// one is armed.

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
	s.hbStarted = true
	s.resetTimerLocked(d)
}

// resetTimerLocked moves the deadline to d from now. A firing already under way for an
// earlier deadline sees that due moved and does nothing.
func (s *Session) resetTimerLocked(d time.Duration) {
	s.due = nanotime() + int64(d)
	if s.hbStarted && s.state != stateClosed {
		s.srv.wheel.arm(s, s.due)
	}
}

// onTimer runs on the wheel's goroutine: it must not wait, and the session ends with its
// OnClose on a goroutine of its own.
func (s *Session) onTimer() {
	s.mu.Lock()
	if s.state == stateClosed || nanotime() < s.due {
		s.mu.Unlock()
		return
	}
	switch {
	case s.state == stateClosing:
		reason := s.closeReason.String()
		s.mu.Unlock()
		s.terminate(reason, nil, msgClose, true)
	case s.awaitingPong:
		s.mu.Unlock()
		s.terminate(ReasonPingTimeout, nil, msgClose, true)
	case s.writing && s.writeRounds == s.pingRounds:
		// The same write has been blocked for a whole ping interval: the client does not
		// read (it may still send pongs, which would otherwise keep it alive).
		s.mu.Unlock()
		s.terminate(ReasonTransportError, errWriteStuck, msgClose, true)
	default:
		// Ping even when messages flow: engine.io-client only re-arms its own timeout on pings.
		s.pingRounds = s.writeRounds
		s.awaitingPong = true
		s.refreshed = false
		// The pong is due PingTimeout after the ping was due, not after this late firing:
		// the deadline stays where the client expects it on a loaded machine. A very late
		// firing still leaves the client half the timeout.
		d := time.Duration(s.due + int64(s.srv.cfg.PingTimeout) - nanotime())
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
	overdue := s.state == stateOpen && s.awaitingPong && nanotime() > s.due
	s.mu.Unlock()
	if overdue {
		s.terminate(ReasonPingTimeout, nil, msgClose, false)
	}
	return overdue
}
