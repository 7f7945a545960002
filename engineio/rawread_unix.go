//go:build unix

package engineio

import (
	"io"
	"net"
	"syscall"
)

// rawReader waits for a socket to become readable without holding a buffer, through the
// runtime's poller: syscall.RawConn.Read calls back when the socket may be readable, and
// parks the goroutine when the callback says it was not. Only then is a pooled buffer taken,
// so that thousands of idle connections cost no read buffers.
type rawReader interface {
	read() (buf *[]byte, n int, err error)
}

type unixRawReader struct {
	rc syscall.RawConn
	fn func(fd uintptr) bool // bound once: passing a method value per call would allocate

	// Results of the last callback.
	buf *[]byte
	n   int
	err error
}

func newRawReader(conn net.Conn) rawReader {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &unixRawReader{rc: rc}
	r.fn = r.tryRead
	return r
}

func (r *unixRawReader) tryRead(fd uintptr) bool {
	bp := readBufPool.Get().(*[]byte)
	for {
		n, err := syscall.Read(int(fd), *bp)
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			readBufPool.Put(bp) // not readable yet: wait without the buffer
			return false
		}
		r.buf, r.n, r.err = bp, n, err
		return true
	}
}

func (r *unixRawReader) read() (*[]byte, int, error) {
	r.buf, r.n, r.err = nil, 0, nil
	if err := r.rc.Read(r.fn); err != nil {
		if r.buf != nil {
			readBufPool.Put(r.buf)
		}
		return nil, 0, err
	}
	bp, n, err := r.buf, r.n, r.err
	r.buf = nil
	if err == nil && n == 0 {
		err = io.EOF
	}
	if err != nil {
		readBufPool.Put(bp)
		return nil, 0, err
	}
	return bp, n, nil
}
