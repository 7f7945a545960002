package lane

import (
	"errors"
	"net"
	"sync"
	"syscall"
)

// Listener is where a Lane hands connections back to net/http: serve it with an http.Server.
// Its Accept returns each handed-back connection wrapped so that its first reads return the
// bytes the lane had read and not consumed, from the start of the request it did not take.
type Listener struct {
	addr   net.Addr
	conns  chan net.Conn
	done   chan struct{}
	closed sync.Once
}

// NewListener returns a Listener whose Addr is addr: the address of the listener the lane's
// connections came from, which net/http puts in the requests' context.
func NewListener(addr net.Addr) *Listener {
	return &Listener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

// Accept waits for a handed-back connection; after Close it returns net.ErrClosed.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close ends Accept. Connections handed back after it are closed.
func (l *Listener) Close() error {
	l.closed.Do(func() { close(l.done) })
	return nil
}

// Addr returns the address given to NewListener.
func (l *Listener) Addr() net.Addr { return l.addr }

// handOff waits for Accept to take c, or closes c once l is closed. The wait is short: an
// http.Server accepts in a loop.
func (l *Listener) handOff(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}

// handedConn is a handed-back connection: saved is read before the connection. Its reads
// come from one goroutine at a time (net/http's), as do the lane's, which unwraps it when it
// takes the connection over again.
type handedConn struct {
	net.Conn
	saved []byte
}

func (h *handedConn) Read(p []byte) (int, error) {
	if len(h.saved) == 0 {
		return h.Conn.Read(p)
	}
	n := copy(p, h.saved)
	h.saved = h.saved[n:]
	return n, nil
}

// CloseWrite half-closes a TCP connection: net/http does it after an error answer, so that
// the client reads the answer before the connection resets.
func (h *handedConn) CloseWrite() error {
	if cw, ok := h.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// errSaved refuses the descriptor of a connection whose replayed bytes are not all read: a
// reader of the descriptor would miss them.
var errSaved = errors.New("lane: replayed bytes not read yet")

// SyscallConn gives the descriptor once the replayed bytes are read, so that a websocket on
// a handed-back connection can still be read by engineio's poller.
func (h *handedConn) SyscallConn() (syscall.RawConn, error) {
	if len(h.saved) > 0 {
		return nil, errSaved
	}
	sc, ok := h.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	return sc.SyscallConn()
}
