package service

import (
	"net"
	"net/http"
	"sync"
)

// conns keeps the connections of the main listener that net/http handed over to a websocket
// (hijacked). http.Server.Shutdown neither closes nor waits for those, so the drain closes
// them itself, a batch at a time. A websocket client whose TCP connection closes sees
// "transport close" and reconnects, through the load balancer, to another node.
type conns struct {
	mu       sync.Mutex
	hijacked map[*trackedConn]struct{}
}

func newConns() *conns { return &conns{hijacked: make(map[*trackedConn]struct{})} }

// listener wraps l so that its connections can be found again once hijacked.
func (c *conns) listener(l net.Listener) net.Listener { return &trackingListener{Listener: l, set: c} }

// connState is the http.Server.ConnState hook that records hijacked connections.
func (c *conns) connState(nc net.Conn, state http.ConnState) {
	if state != http.StateHijacked {
		return
	}
	if tc, ok := nc.(*trackedConn); ok {
		c.mu.Lock()
		if !tc.closed {
			c.hijacked[tc] = struct{}{}
		}
		c.mu.Unlock()
	}
}

// websockets returns the hijacked connections still open.
func (c *conns) websockets() []net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]net.Conn, 0, len(c.hijacked))
	for tc := range c.hijacked {
		out = append(out, tc)
	}
	return out
}

type trackingListener struct {
	net.Listener
	set *conns
}

func (l *trackingListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &trackedConn{Conn: nc, set: l.set}, nil
}

// trackedConn leaves the set when closed, by whoever closes it.
type trackedConn struct {
	net.Conn
	set    *conns
	closed bool // guarded by set.mu
}

func (tc *trackedConn) Close() error {
	tc.set.mu.Lock()
	tc.closed = true
	delete(tc.set.hijacked, tc)
	tc.set.mu.Unlock()
	return tc.Conn.Close()
}
