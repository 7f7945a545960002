package rawio

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Wrap returns a net.Conn that reads and writes nc with raw system calls, or nc itself when it
// has no syscall.RawConn (it is not a socket, or is already wrapped). Everything but Read and
// Write is nc's.
func Wrap(nc net.Conn) net.Conn {
	if _, ok := nc.(*conn); ok {
		return nc
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nc
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nc
	}
	c := &conn{Conn: nc, rc: rc}
	c.r.fn = c.r.read
	c.w.fn = c.w.write
	return c
}

type conn struct {
	net.Conn
	rc syscall.RawConn
	// One call per direction at a time, as the descriptor's own locks allow; the mutexes
	// guard the state the bound callbacks use.
	rmu, wmu sync.Mutex
	r, w     call
}

// call is the state of one Read or Write, with its RawConn callback bound once: a closure per
// call would allocate.
type call struct {
	p   []byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

// SyscallConn returns the wrapped connection's RawConn: code that checks a connection's
// health through it (go-redis does, before reusing a pooled connection) keeps working.
func (c *conn) SyscallConn() (syscall.RawConn, error) { return c.rc, nil }

func (c *conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil // as net.Conn: no system call for an empty read
	}
	n, err := c.do(&c.rmu, &c.r, p, false)
	if err != nil && err != io.EOF {
		err = c.opError("read", err)
	}
	return n, err
}

func (c *conn) Write(p []byte) (int, error) {
	n, err := c.do(&c.wmu, &c.w, p, true)
	if err != nil {
		err = c.opError("write", err)
	}
	return n, err
}

// do runs one Read or Write through the RawConn, which parks the caller while the socket is
// not ready and applies the deadlines.
func (c *conn) do(mu *sync.Mutex, k *call, p []byte, write bool) (int, error) {
	mu.Lock()
	defer mu.Unlock()
	k.p, k.n, k.err = p, 0, nil
	var err error
	if write {
		err = c.rc.Write(k.fn)
	} else {
		err = c.rc.Read(k.fn)
	}
	if err == nil {
		err = k.err
	}
	k.p, k.err = nil, nil // the caller's buffer is not kept
	return k.n, err
}

// opError wraps err as net.Conn's own Read and Write do, so that callers checking for a
// timeout (net.Error) or a closed connection (errors.Is net.ErrClosed) see the same.
func (c *conn) opError(op string, err error) error {
	if errno, ok := err.(unix.Errno); ok {
		err = os.NewSyscallError(op, errno)
	}
	e := &net.OpError{Op: op, Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
	if e.Source != nil { // an unnamed Unix socket has none
		e.Net = e.Source.Network()
	}
	return e
}

// read reads once into r.p; false (EAGAIN) makes the runtime park the caller until the socket
// is readable or the deadline passes.
func (r *call) read(fd uintptr) bool {
	for {
		n, _, e := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&r.p[0])), uintptr(len(r.p)))
		switch e {
		case 0:
			r.n = int(n)
			if n == 0 {
				r.err = io.EOF
			}
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		default:
			r.err = e
			return true
		}
	}
}

// write writes all of r.p, parking while the socket is full.
func (r *call) write(fd uintptr) bool {
	for r.n < len(r.p) {
		n, _, e := unix.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&r.p[r.n])), uintptr(len(r.p)-r.n))
		switch e {
		case 0:
			r.n += int(n)
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			r.err = e
			return true
		}
	}
	return true
}

// ReadFD reads fd once into p with a raw system call; fd must be nonblocking.
func ReadFD(fd int, p []byte) (int, error) { return fdCall(unix.SYS_READ, fd, p) }

// WriteFD writes p to fd once with a raw system call; fd must be nonblocking.
func WriteFD(fd int, p []byte) (int, error) { return fdCall(unix.SYS_WRITE, fd, p) }

func fdCall(trap uintptr, fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	n, _, e := unix.RawSyscall(trap, uintptr(fd), uintptr(ptr), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// Writev writes the iovecs to fd once with a raw system call; fd must be nonblocking.
func Writev(fd uintptr, iov []unix.Iovec) (int, unix.Errno) {
	n, _, e := unix.RawSyscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
	return int(n), e
}

// EpollPoll returns the ready events of epfd without waiting (epoll_pwait with a zero
// timeout), as the runtime's poller does.
func EpollPoll(epfd int, events []unix.EpollEvent) (int, error) {
	n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}
