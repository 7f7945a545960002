package engineio

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/tomato-code/realtime/internal/testutil"
)

// openFiles counts this process's open descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	return len(entries)
}

// fillSocket sends r's session more than any loopback socket buffers hold, to a client that
// does not read, and waits until a write waits for room.
func fillSocket(t *testing.T, r *recorder) *rawSock {
	t.Helper()
	sc, ok := r.s.ws.conn.(*sockConn)
	if !ok {
		t.Fatalf("websocket of a poller holds %T, want *sockConn", r.s.ws.conn)
	}
	sock := &sc.sock
	big := NewTextMessage(make([]byte, 1<<20))
	for range 64 {
		if err := r.s.Send(big); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "a write to wait for room", func() bool { return sock.waiting.Load() != nil })
	return sock
}

// With ReadPoller a websocket keeps its socket and not the net.Conn it came on: one
// descriptor per connection, no duplicate left open, and every descriptor closed with its
// session.
func TestPollerTakesTheSocketOver(t *testing.T) {
	if testReadMode != ReadPoller {
		t.Skip("ReadPoller only")
	}
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, true)
	first, _ := openWS(t, ts) // starts the pollers, whose descriptors are not the connections'
	first.send("4warm")
	first.readText()
	before := openFiles(t)
	const n = 50
	clients := make([]*wsClient, n)
	recs := make([]*recorder, n)
	for i := range n {
		clients[i], recs[i] = openWS(t, ts)
		if _, ok := recs[i].s.ws.conn.(*sockConn); !ok {
			t.Fatalf("connection %d holds %T, want *sockConn", i, recs[i].s.ws.conn)
		}
	}
	// Each connection: the client's socket and the server's.
	eventually(t, "two descriptors per connection", func() bool { return openFiles(t)-before == 2*n })
	for i, c := range clients {
		c.send("4ping")
		if got := c.readText(); got != "4ping" {
			t.Fatalf("echo %d: %q", i, got)
		}
		c.conn.Close()
	}
	for _, r := range recs {
		r.waitClose(t)
	}
	eventually(t, "every descriptor closed", func() bool { return openFiles(t) == before })
}

// stuckWriterServer starts a server whose writes to a client that does not read wait for
// room for as long as a test needs (no heartbeat, no queue limit), skipping the test unless
// connections are read by a poller.
func stuckWriterServer(t *testing.T) *testServer {
	t.Helper()
	if testReadMode != ReadPoller {
		t.Skip("ReadPoller only")
	}
	testutil.CheckGoroutines(t)
	return newTestServer(t, Config{PingInterval: time.Minute, WriteQueueBytes: 1 << 30}, false)
}

// A write waiting for room on a client that does not read ends at the write deadline: the
// deadline set while it waits wakes it to measure its wait again.
func TestRawSocketWriteDeadline(t *testing.T) {
	ts := stuckWriterServer(t)
	c, r := openWS(t, ts)
	defer c.conn.Close()
	fillSocket(t, r)
	r.s.ws.conn.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
	ev := r.waitClose(t)
	if ev.reason != ReasonTransportError || !errors.Is(ev.err, os.ErrDeadlineExceeded) {
		t.Errorf("close %+v, want a transport error with os.ErrDeadlineExceeded", ev)
	}
}

// Ending a session whose writer waits for room (as a heartbeat timeout does) ends the write at
// once and closes the socket, though the client neither reads nor closes.
func TestRawSocketCloseEndsWaitingWrite(t *testing.T) {
	ts := stuckWriterServer(t)
	other, _ := openWS(t, ts) // keeps the pollers, and their descriptors, running
	defer other.conn.Close()
	c, r := openWS(t, ts)
	defer c.conn.Close()
	sock := fillSocket(t, r)
	before := openFiles(t)
	r.s.terminate(ReasonPingTimeout, nil, msgClose, true)
	r.waitClose(t)
	eventually(t, "the server's socket closed", func() bool { return sock.closed() && openFiles(t) == before-1 })

	eventually(t, "the writer gone", func() bool { return sock.waiting.Load() == nil })
}

// The socket state adds 32 bytes to a connection's inbound, which stays in the 160-byte size
// class.
func TestInboundFitsItsSizeClass(t *testing.T) {
	if got := unsafe.Sizeof(rawSock{}); got != 32 {
		t.Errorf("rawSock is %d bytes, want 32", got)
	}
	if got := unsafe.Sizeof(inbound{}); got > 160 {
		t.Errorf("inbound is %d bytes: past the 160-byte size class", got)
	}
}

// Many writers waiting for room at once, more than one epoll_wait of the poller's write set
// returns, are all woken as their clients read, and every frame arrives whole and in order.
// Small socket buffers on both sides make the writes wait after a few KiB.
func TestManyWritersWaitForRoom(t *testing.T) {
	if testReadMode != ReadPoller {
		t.Skip("ReadPoller only")
	}
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{PingInterval: time.Minute, WriteQueueBytes: 64 << 20}, false)
	const n, msgs, size = 2*pollWriteEvents + 8, 12, 16 << 10
	small := func(_, _ string, c syscall.RawConn) error {
		var serr error
		c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 4096) })
		return serr
	}
	u := "ws" + strings.TrimPrefix(ts.url, "http") + "?EIO=4&transport=websocket"
	dialer := ws.Dialer{NetDial: (&net.Dialer{Control: small}).DialContext}
	clients := make([]*wsClient, n)
	recs := make([]*recorder, n)
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		conn, br, _, err := dialer.Dial(ctx, u)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if br == nil {
			br = bufio.NewReader(conn)
		}
		clients[i] = &wsClient{t: t, conn: conn, br: br}
		defer conn.Close()
		parseOpen(t, clients[i].readText())
		recs[i] = ts.nextSession(t)
		sc := recs[i].s.ws.conn.(*sockConn)
		(*sockRC)(sc).Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, 4096) })
	}
	payload := func(i, k int) []byte {
		p := bytes.Repeat([]byte{byte('a' + (i+k)%26)}, size)
		copy(p, fmt.Appendf(nil, "%04d-%02d", i, k))
		return p
	}
	for i, r := range recs {
		for k := range msgs {
			if err := r.s.Send(NewTextMessage(payload(i, k))); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, r := range recs {
		sock := &r.s.ws.conn.(*sockConn).sock
		eventually(t, fmt.Sprintf("writer %d to wait for room", i), func() bool { return sock.waiting.Load() != nil })
	}
	errs := make(chan error, n)
	for i, c := range clients {
		go func() {
			for k := range msgs {
				h, p, err := c.frame()
				if err != nil {
					errs <- fmt.Errorf("client %d frame %d: %w", i, k, err)
					return
				}
				if h.OpCode != ws.OpText || !bytes.Equal(p, append([]byte("4"), payload(i, k)...)) {
					errs <- fmt.Errorf("client %d frame %d: %v, %d bytes %.10q", i, k, h.OpCode, len(p), p)
					return
				}
			}
			errs <- nil
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
