package engineio

import (
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tomato-code/realtime/internal/rawio"
)

// rawSock is the socket of a websocket connection read by a poller, once taken from its
// net.Conn (take). A net.Conn costs about 700 bytes per connection that an idle websocket does
// not need: the netFD and two addresses on the heap (~350 B), and the runtime's poll
// descriptor (~320 B, allocated outside the heap and kept by the runtime for reuse). The
// poller reads the socket with epoll already; writes rarely wait, and when one does, the
// poller also watches the socket for room (inbound.watchWrite). So the connection keeps only
// the descriptor: take duplicates it and closes the net.Conn, whose poll descriptor then
// serves the next accepted connection.
//
// What the net.Conn guaranteed, rawSock keeps:
//   - The descriptor is never closed during a system call on it, so that its number cannot
//     be reused under a read, write or epoll_ctl: every call holds a reference (state),
//     and Close closes the descriptor once the calls in progress, all of them non-blocking,
//     have returned.
//   - Writes are atomic: a write holds wlock until all of it is written, waits included, so
//     frames of several writers never interleave.
//   - A write deadline ends a write that waits too long; Close ends it at once.
//
// It lives in its connection's inbound, which is what wsConn holds as its socket (sockConn,
// sockRC): 32 bytes there, where a pointer back would cost 8 more.
type rawSock struct {
	fd       int32
	state    atomic.Uint32 // closedBit, and the number of system calls in progress
	wlock    sync.Mutex
	deadline atomic.Int64               // write deadline in Unix nanoseconds; 0: none
	waiting  atomic.Pointer[sockWaiter] // the writer waiting for room, if any
}

const closedBit = 1 << 31

// acquire takes a reference for a system call; it fails once the socket is closed.
func (s *rawSock) acquire() bool {
	if s.state.Add(1)&closedBit != 0 {
		s.state.Add(^uint32(0))
		return false
	}
	return true
}

func (s *rawSock) release() { s.state.Add(^uint32(0)) }

func (s *rawSock) closed() bool { return s.state.Load()&closedBit != 0 }

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
	d := dups.Get().(*dupCtl)
	err := rc.Control(d.fn)
	fd, derr := d.fd, d.err
	d.err = nil
	dups.Put(d)
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

// dupCtl duplicates a descriptor through a RawConn; pooled with its method value bound once,
// as epollCtl is, so that a handshake does not allocate a closure for it.
type dupCtl struct {
	fd  int
	err error
	fn  func(fd uintptr)
}

var dups = sync.Pool{New: func() any {
	d := new(dupCtl)
	d.fn = d.dup
	return d
}}

func (d *dupCtl) dup(fd uintptr) {
	d.fd, d.err = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
}

// wake wakes the waiting writer, if any.
func (s *rawSock) wake() {
	if w := s.waiting.Load(); w != nil {
		w.wake()
	}
}

// check tells whether a write may go on: not after Close, nor after the deadline.
func (s *rawSock) check() error {
	if s.closed() {
		return net.ErrClosed
	}
	if d := s.deadline.Load(); d != 0 && time.Now().UnixNano() >= d {
		return os.ErrDeadlineExceeded
	}
	return nil
}

// sockConn is a connection's inbound as the wsSocket of its wsConn, once the socket is taken
// from its net.Conn: the writes outside vectored batches (101 response, pong, close frame),
// the write deadline and Close.
type sockConn inbound

// Close ends a waiting write and closes the descriptor once no system call uses it.
func (c *sockConn) Close() error {
	s := &c.sock
	if s.state.Or(closedBit)&closedBit != 0 {
		return net.ErrClosed
	}
	s.wake()
	// The calls in progress do not wait (reads and writes of a non-blocking socket,
	// epoll_ctl): they end within microseconds.
	for s.state.Load() != closedBit {
		runtime.Gosched()
	}
	if err := unix.Close(int(s.fd)); err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}

// SetWriteDeadline bounds the current and later writes, as net.Conn's does.
func (c *sockConn) SetWriteDeadline(t time.Time) error {
	var d int64
	if !t.IsZero() {
		d = t.UnixNano()
	}
	c.sock.deadline.Store(d)
	c.sock.wake() // a waiting writer measures its wait again
	return nil
}

// Write writes all of b, waiting for room as needed, through sockRC.Write.
func (c *sockConn) Write(b []byte) (int, error) {
	w := byteWrites.Get().(*byteWrite)
	w.b, w.n, w.err = b, 0, nil
	err := (*sockRC)(c).Write(w.fn)
	n := w.n
	if err == nil && w.err != nil {
		err = os.NewSyscallError("write", w.err)
	}
	w.b, w.err = nil, nil
	byteWrites.Put(w)
	return n, err
}

// byteWrite is the state of one sockConn.Write: pooled, with its method value bound once, it
// costs no allocation per write (one per handshake, for the 101 response).
type byteWrite struct {
	b   []byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

var byteWrites = sync.Pool{New: func() any {
	w := new(byteWrite)
	w.fn = w.write
	return w
}}

// write writes what remains of w.b; it returns false when the socket is full.
func (w *byteWrite) write(fd uintptr) bool {
	for w.n < len(w.b) {
		m, err := rawio.WriteFD(int(fd), w.b[w.n:])
		switch err {
		case nil:
			w.n += m
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			w.err = err
			return true
		}
	}
	return true
}

// waitRoom waits until the socket may take more, the write deadline passes or the socket is
// closed; the caller holds sock.wlock.
func (in *inbound) waitRoom() error {
	s := &in.sock
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
	if err := in.watchWrite(); err != nil {
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

// sockRC is a connection's inbound as the syscall.RawConn of its wsConn, once the socket is
// taken from its net.Conn: vectored writes, the poller's reads and epoll registrations.
type sockRC inbound

// Control runs f with the descriptor, which stays open meanwhile.
func (c *sockRC) Control(f func(fd uintptr)) error {
	s := &c.sock
	if !s.acquire() {
		return net.ErrClosed
	}
	f(uintptr(s.fd))
	s.release()
	return nil
}

// Read runs f with the descriptor once. f must not ask to wait (return false): the poller is
// what waits for the socket to be readable.
func (c *sockRC) Read(f func(fd uintptr) bool) error {
	s := &c.sock
	if !s.acquire() {
		return net.ErrClosed
	}
	done := f(uintptr(s.fd))
	s.release()
	if !done {
		return errReadWait
	}
	return nil
}

// Write runs f with the descriptor until f reports that it is done, waiting for room each
// time f returns false; no other write runs meanwhile.
func (c *sockRC) Write(f func(fd uintptr) bool) error {
	s := &c.sock
	s.wlock.Lock()
	defer s.wlock.Unlock()
	for {
		if err := s.check(); err != nil {
			return err
		}
		if !s.acquire() {
			return net.ErrClosed
		}
		done := f(uintptr(s.fd))
		s.release()
		if done {
			return nil
		}
		if err := (*inbound)(c).waitRoom(); err != nil {
			return err
		}
	}
}
