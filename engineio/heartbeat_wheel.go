package engineio

import (
	"sync"
	"time"
)

// clockStart is the origin of nanotime.
var clockStart = time.Now()

// nanotime returns the time since clockStart, from the monotonic clock.
func nanotime() int64 { return int64(time.Since(clockStart)) }

// wheel is the timer of every session of a Server: a hashed timing wheel whose goroutine
// ticks while sessions are armed and handles, once per tick, every session whose deadline has
// passed. A session costs two pointers and an index in it, against about 150 bytes for a
// time.Timer of its own, and a batch of due sessions costs one wake-up instead of one
// goroutine each. Deadlines are met within one tick (Config.PingInterval and PingTimeout over
// 100, between 1 ms and 100 ms).
type wheel struct {
	tick int64 // nanoseconds

	mu      sync.Mutex
	slots   [wheelSlots]*Session // doubly linked lists, through Session.hb
	last    int64                // the last tick handled: deadlines up to last*tick are done
	armed   int
	running bool          // the goroutine ticks
	idle    chan struct{} // capacity 1: the last armed session left, the goroutine may stop
}

// wheelSlots × tick is the span the wheel covers in one turn: longer deadlines wait in their
// slot while the wheel turns, and are looked at once per turn.
const wheelSlots = 512

// wheelEntry is a session's place in the wheel, guarded by the wheel's lock.
type wheelEntry struct {
	next, prev *Session
	due        int64 // the session's deadline as last armed (Session.due is under the session's lock)
	slot       int32 // -1: not armed
}

func newWheel(cfg *Config) *wheel {
	tick := min(cfg.PingInterval, cfg.PingTimeout) / 100
	tick = min(max(tick, time.Millisecond), 100*time.Millisecond)
	return &wheel{tick: int64(tick), last: nanotime() / int64(tick), idle: make(chan struct{}, 1)}
}

// arm sets s's deadline to due (nanotime), replacing any earlier one.
func (w *wheel) arm(s *Session, due int64) {
	// A deadline goes to the first tick at or after it, and never to a tick already handled.
	k := max((due+w.tick-1)/w.tick, 0)
	w.mu.Lock()
	k = max(k, w.last+1)
	w.unlinkLocked(s)
	i := int32(k % wheelSlots)
	s.hb.slot, s.hb.due, s.hb.prev, s.hb.next = i, due, nil, w.slots[i]
	if s.hb.next != nil {
		s.hb.next.hb.prev = s
	}
	w.slots[i] = s
	w.armed++
	start := !w.running
	w.running = true
	w.mu.Unlock()
	if start {
		go w.run()
	}
}

// disarm removes s's deadline.
func (w *wheel) disarm(s *Session) {
	w.mu.Lock()
	w.unlinkLocked(s)
	if w.armed == 0 && w.running {
		select {
		case w.idle <- struct{}{}:
		default:
		}
	}
	w.mu.Unlock()
}

func (w *wheel) unlinkLocked(s *Session) {
	if s.hb.slot < 0 {
		return
	}
	if s.hb.prev != nil {
		s.hb.prev.hb.next = s.hb.next
	} else {
		w.slots[s.hb.slot] = s.hb.next
	}
	if s.hb.next != nil {
		s.hb.next.hb.prev = s.hb.prev
	}
	s.hb.next, s.hb.prev, s.hb.slot = nil, nil, -1
	w.armed--
}

// run ticks until no session is armed.
func (w *wheel) run() {
	t := time.NewTicker(time.Duration(w.tick))
	defer t.Stop()
	var due []*Session
	for {
		select {
		case <-t.C:
		case <-w.idle:
			w.mu.Lock()
			stop := w.armed == 0
			if stop {
				w.running = false
			}
			w.mu.Unlock()
			if stop {
				return
			}
			continue
		}
		now := nanotime()
		w.mu.Lock()
		k := now / w.tick
		// A tick late by more than a turn looks at every slot once.
		for j := w.last + 1; j <= k && j <= w.last+wheelSlots; j++ {
			for s := w.slots[j%wheelSlots]; s != nil; {
				next := s.hb.next
				if s.hb.due <= now {
					w.unlinkLocked(s)
					due = append(due, s)
				}
				s = next
			}
		}
		w.last = k
		if w.armed == 0 && len(due) == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		// The sessions' locks are taken outside the wheel's: onTimer re-arms through it.
		for i, s := range due {
			s.onTimer()
			due[i] = nil
		}
		if cap(due) > 4096 {
			due = nil // a wave of deadlines is over: do not keep its slice
		}
		due = due[:0]
	}
}
