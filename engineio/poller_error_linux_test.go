package engineio

import (
	"errors"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/tomato-code/realtime/internal/testutil"
)

// breakEpoll makes the next epoll_wait of p fail for real, with EINVAL: /dev/null takes the
// place of its epoll descriptor. The epoll instance itself stays open under another
// descriptor until the test ends, so that the runtime, which watches it, still wakes the
// poller's goroutine when its eventfd is written.
func breakEpoll(t *testing.T, p *poller) {
	t.Helper()
	keep, err := unix.FcntlInt(uintptr(p.epfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(keep) })
	null, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(null)
	if err := unix.Dup3(null, p.epfd, unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	one := [8]byte{1}
	if _, err := unix.Write(p.evfd, one[:]); err != nil {
		t.Fatal(err)
	}
}

// When a poller's epoll_wait fails, its connections are not left unread until their
// heartbeat times out: their sessions close with the error (the clients reconnect), the
// failure is logged once, the poller leaves the group and new connections go to the others.
func TestPollerFailureClosesItsConnectionsAndLeavesTheGroup(t *testing.T) {
	if testReadMode != ReadPoller {
		t.Skip("ReadPoller only")
	}
	logs := new(testutil.LogBuffer)
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{Logger: slog.New(slog.NewTextHandler(logs, nil))}, true)

	type conn struct {
		c   *wsClient
		r   *recorder
		onP bool // on the poller that fails
	}
	var conns []*conn
	for range 6 { // round robin: the failing poller holds some, the others (if any) the rest
		c, r := openWS(t, ts)
		// Echoed, the message was read by a poller: the connection is registered.
		c.send("4hi")
		if got := c.readText(); got != "4hi" {
			t.Fatalf("echo %q", got)
		}
		conns = append(conns, &conn{c: c, r: r})
	}
	pollerOf := func(k *conn) *poller {
		r := k.r
		r.s.mu.Lock()
		in := r.s.ws.in
		r.s.mu.Unlock()
		in.mu.Lock()
		defer in.mu.Unlock()
		return in.pl
	}
	p := pollerOf(conns[0])
	if p == nil {
		t.Fatal("the first connection is not registered with a poller")
	}
	onP := 0
	for _, k := range conns {
		if k.onP = pollerOf(k) == p; k.onP {
			onP++
		}
	}

	breakEpoll(t, p)

	for i, k := range conns {
		if !k.onP {
			continue
		}
		ev := k.r.waitClose(t)
		var se *os.SyscallError
		if ev.reason != ReasonTransportError || !errors.As(ev.err, &se) || se.Syscall != "epoll_wait" || !errors.Is(se.Err, unix.EINVAL) {
			t.Errorf("connection %d: closed with %q, %v; want %q and epoll_wait's EINVAL", i, ev.reason, ev.err, ReasonTransportError)
		}
		if code := k.c.expectClose(); code != ws.StatusInternalServerError {
			t.Errorf("connection %d: close code %d, want 1011 (the server's failure)", i, code)
		}
	}
	if n := logs.Count("a websocket poller failed"); n != 1 {
		t.Errorf("failure logged %d times, want once:\n%s", n, logs.String())
	} else if want := "connections=" + strconv.Itoa(onP); !strings.Contains(logs.String(), want) {
		t.Errorf("log line without %s:\n%s", want, logs.String())
	}

	ts.pollers.mu.Lock()
	inGroup := slices.Contains(ts.pollers.pollers, p)
	ts.pollers.mu.Unlock()
	if inGroup {
		t.Error("the failed poller is still in the group")
	}

	// The other connections are still read, and new ones land on a working poller.
	for i, k := range conns {
		if k.onP {
			continue
		}
		k.c.send("4still")
		if got := k.c.readText(); got != "4still" {
			t.Errorf("connection %d: echo %q", i, got)
		}
	}
	for i := range 4 {
		c, r := openWS(t, ts)
		c.send("4new")
		if got := c.readText(); got != "4new" {
			t.Errorf("new connection %d: echo %q", i, got)
		}
		if q := pollerOf(&conn{c: c, r: r}); q == p || q == nil {
			t.Fatalf("new connection %d registered with poller %p (the failed one: %p)", i, q, p)
		}
	}
}
