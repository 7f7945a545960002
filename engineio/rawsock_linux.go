package engineio

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// rawSock is the socket of a websocket connection read by a poller, once taken from its
// net.Conn (take). A net.Conn costs about 700 bytes per connection that an idle websocket does
// not need: the netFD and two addresses on the heap (~350 B), and the runtime's poll
// descriptor (~320 B, allocated outside the heap and kept by the runtime for reuse). The
// poller reads the socket with epoll already; writes rarely wait, and when one does, the
// poller also watches the socket for room (poller.watchWrite). So the connection keeps only
// the descriptor: take duplicates it and closes the net.Conn, whose poll descriptor then
// serves the next accepted connection.
//
// What the net.Conn guaranteed, rawSock keeps:
//   - The descriptor is never closed during a system call on it, so that its number cannot
//     be reused under a read, write or epoll_ctl: every call holds mu shared, Close holds it
//     exclusively.
//   - Writes are atomic: a write holds wlock until all of it is written, waits included, so
//     frames of several writers never interleave.
//   - A write deadline ends a write that waits too long; Close ends it at once.
type rawSock struct {
	fd     int32
	closed atomic.Bool
	// armed tells that the socket is in its poller's write set (added once, re-armed for each
	// wait: EPOLLONESHOT). Guarded by wlock.
	armed    bool
	mu       sync.RWMutex
	wlock    sync.Mutex
	deadline atomic.Int64               // write deadline in Unix nanoseconds; 0: none
	waiting  atomic.Pointer[sockWaiter] // the writer waiting for room, if any
	in       *inbound                   // whose poller watches for room
}

// errUnwatched ends a write that would have to wait after the connection left its poller: it
// is being closed, and nothing would wake the writer.
var errUnwatched = errors.New("engineio: socket full and no longer watched (connection closing)")

// errReadWait is returned to a read callback that asked to wait: the poller's never do, since
// the poller itself waits for the socket.
var errReadWait = errors.New("engineio: a raw socket read cannot wait")

// sockWaiter wakes a writer that waits for room: its poller does (room to write), and so do
// Close and a new deadline. Wakes may be spurious (a pooled waiter woken late by a previous
// user's waker): the writer then just tries again.
type sockWaiter struct{ ch chan struct{} }

var waiterPool = sync.Pool{New: func() any { return &sockWaiter{ch: make(chan struct{}, 1)} }}

func (w *sockWaiter) wake() {
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

// take makes s own conn's socket through a duplicate of its descriptor, and closes conn. It
// fails, conn untouched, when the descriptor cannot be duplicated (none left): the connection
// then keeps its net.Conn.
func (s *rawSock) take(conn net.Conn, rc syscall.RawConn) error {
	fd := -1
	var derr error
	err := rc.Control(func(sysfd uintptr) {
		fd, derr = unix.FcntlInt(sysfd, unix.F_DUPFD_CLOEXEC, 0)
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return err
	}
	s.fd = int32(fd)
	conn.Close()
	return nil
}

// wake wakes the waiting writer, if any.
func (s *rawSock) wake() {
	if w := s.waiting.Load(); w != nil {
		w.wake()
	}
}

// Close ends a waiting write and closes the descriptor as soon as no system call uses it.
func (s *rawSock) Close() error {
	if s.closed.Swap(true) {
		return net.ErrClosed
	}
	s.wake()
	s.mu.Lock()
	err := unix.Close(int(s.fd))
	s.fd = -1
	s.mu.Unlock()
	if err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}

// SetWriteDeadline bounds the current and later writes, as net.Conn's does.
func (s *rawSock) SetWriteDeadline(t time.Time) error {
	var d int64
	if !t.IsZero() {
		d = t.UnixNano()
	}
	s.deadline.Store(d)
	s.wake() // a waiting writer measures its wait again
	return nil
}

// check tells whether a write may go on: not after Close, nor after the deadline.
func (s *rawSock) check() error {
	if s.closed.Load() {
		return net.ErrClosed
	}
	if d := s.deadline.Load(); d != 0 && time.Now().UnixNano() >= d {
		return os.ErrDeadlineExceeded
	}
	return nil
}

// Write writes all of b, waiting for room as needed.
func (s *rawSock) Write(b []byte) (int, error) {
	s.wlock.Lock()
	defer s.wlock.Unlock()
	n := 0
	for {
		if err := s.check(); err != nil {
			return n, err
		}
		s.mu.RLock()
		if s.fd < 0 {
			s.mu.RUnlock()
			return n, net.ErrClosed
		}
		m, err := unix.Write(int(s.fd), b[n:])
		s.mu.RUnlock()
		if m > 0 {
			n += m
		}
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := s.waitRoom(); err != nil {
				return n, err
			}
		case err != nil:
			return n, os.NewSyscallError("write", err)
		case n == len(b):
			return n, nil
		}
	}
}

// waitRoom waits until the socket may take more, the deadline passes or s is closed; wlock is
// held.
func (s *rawSock) waitRoom() error {
	w := waiterPool.Get().(*sockWaiter)
	s.waiting.Store(w)
	defer func() {
		s.waiting.Store(nil)
		select {
		case <-w.ch:
		default:
		}
		waiterPool.Put(w)
	}()
	// Checked once w is published: a Close or deadline set from now on wakes it.
	if err := s.check(); err != nil {
		return err
	}
	if err := s.in.watchWrite(); err != nil {
		return err
	}
	var expired <-chan time.Time
	if d := s.deadline.Load(); d != 0 {
		t := time.NewTimer(time.Until(time.Unix(0, d)))
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-w.ch:
		return nil
	case <-expired:
		return os.ErrDeadlineExceeded
	}
}

// rawConn is s as a syscall.RawConn, the way wsConn reaches its socket for vectored writes,
// reads and epoll registrations (see wsConn.rc).
type rawConn rawSock

// Control runs f with the descriptor, which stays open meanwhile.
func (c *rawConn) Control(f func(fd uintptr)) error {
	s := (*rawSock)(c)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.fd < 0 {
		return net.ErrClosed
	}
	f(uintptr(s.fd))
	return nil
}

// Read runs f with the descriptor once. f must not ask to wait (return false): the poller is
// what waits for the socket to be readable.
func (c *rawConn) Read(f func(fd uintptr) bool) error {
	s := (*rawSock)(c)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.fd < 0 {
		return net.ErrClosed
	}
	if !f(uintptr(s.fd)) {
		return errReadWait
	}
	return nil
}

// Write runs f with the descriptor until f reports that it is done, waiting for room each
// time f returns false; no other write runs meanwhile.
func (c *rawConn) Write(f func(fd uintptr) bool) error {
	s := (*rawSock)(c)
	s.wlock.Lock()
	defer s.wlock.Unlock()
	for {
		if err := s.check(); err != nil {
			return err
		}
		s.mu.RLock()
		if s.fd < 0 {
			s.mu.RUnlock()
			return net.ErrClosed
		}
		done := f(uintptr(s.fd))
		s.mu.RUnlock()
		if done {
			return nil
		}
		if err := s.waitRoom(); err != nil {
			return err
		}
	}
}
