package socketio

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tomato-code/realtime/engineio"
	"github.com/tomato-code/realtime/internal/testutil"
)

// gatedAdapter is a MemoryAdapter whose joins are confirmed when the test says so.
type gatedAdapter struct {
	*MemoryAdapter
	pending bool
	started chan *Socket  // each AwaitJoined call, as it starts
	release chan struct{} // closed by the test: the waits end with nil
	ended   chan error    // what each AwaitJoined returned
}

func (g *gatedAdapter) JoinsPending(*Socket) bool { return g.pending }

func (g *gatedAdapter) AwaitJoined(ctx context.Context, s *Socket) error {
	g.started <- s
	var err error
	select {
	case <-g.release:
	case <-ctx.Done():
		err = ctx.Err()
	}
	g.ended <- err
	return err
}

// gatedServer returns a server whose "/" joins its sockets to "user:1" in its middleware and
// whose adapter is a gatedAdapter, and counts the connection handlers run.
func gatedServer(t *testing.T, cfg Config, pending bool) (*Server, *gatedAdapter, *atomic.Int32) {
	t.Helper()
	g := &gatedAdapter{pending: pending, started: make(chan *Socket, 4), release: make(chan struct{}), ended: make(chan error, 4)}
	cfg.Adapter = func(ns LocalNamespace) Adapter {
		g.MemoryAdapter = NewMemoryAdapter(ns)
		return g
	}
	srv := testServer(t, cfg)
	ns := srv.Of("/")
	ns.Use(func(s *Socket) error {
		s.Join("user:1")
		return nil
	})
	var connected atomic.Int32
	ns.OnConnection(func(*Socket) { connected.Add(1) })
	ns.OnSocketEvent("hello", func(_ *Socket, args Args, ack Ack) { ack("ok") })
	return srv, g, &connected
}

// sendNow delivers text from the client and fails the test if the server's message path
// holds on to it, as it must not while a CONNECT waits.
func (cl *client) sendNow(text string) {
	cl.t.Helper()
	done := make(chan struct{})
	go func() {
		cl.send(text)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		cl.t.Fatalf("OnMessage(%q) blocked while a CONNECT waits for its rooms", text)
	}
}

func waitStarted(t *testing.T, g *gatedAdapter) *Socket {
	t.Helper()
	select {
	case s := <-g.started:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("AwaitJoined not called")
		return nil
	}
}

// TestConnectWaitsForJoins: the CONNECT reply waits for the adapter's confirmation, the
// message path is free meanwhile, and a packet the client sent during the wait is handled
// after the connect, in order.
func TestConnectWaitsForJoins(t *testing.T) {
	testutil.CheckGoroutines(t)
	srv, g, connected := gatedServer(t, Config{}, true)
	cl := newClient(t, srv)
	cl.sendNow("0")
	s := waitStarted(t, g)
	if !g.HasRoom("user:1") || s.Connected() {
		t.Fatalf("during the wait: in user:1 %v, connected %v; want true, false", g.HasRoom("user:1"), s.Connected())
	}
	cl.sendNow(`21["hello"]`)
	if out := cl.f.sent(); len(out) != 0 || connected.Load() != 0 {
		t.Fatalf("before the confirmation: sent %q, %d connection handlers; want nothing", out, connected.Load())
	}
	close(g.release)
	cl.expect(`0{"sid":"`+s.ID()+`"}`, `31["ok"]`)
	if err := <-g.ended; err != nil || connected.Load() != 1 {
		t.Fatalf("AwaitJoined returned %v, %d connection handlers; want nil, 1", err, connected.Load())
	}
	cl.send(`22["hello"]`) // the turn is back with the message path
	cl.expect(`32["ok"]`)
}

// TestConnectWaitEndsWithSession: a session that ends during the wait ends it; the socket
// leaves its rooms, no reply goes out and no connection handler runs.
func TestConnectWaitEndsWithSession(t *testing.T) {
	testutil.CheckGoroutines(t)
	srv, g, connected := gatedServer(t, Config{JoinWaitTimeout: time.Minute}, true)
	cl := newClient(t, srv)
	cl.sendNow("0")
	waitStarted(t, g)
	start := time.Now()
	cl.f.end(engineio.ReasonTransportClose)
	cl.waitClosed()
	if err := <-g.ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("AwaitJoined returned %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the wait ended %v after the session", d)
	}
	if out := cl.f.sent(); len(out) != 0 || connected.Load() != 0 || g.HasRoom("user:1") || srv.Of("/").SocketCount() != 0 {
		t.Fatalf("after the session ended: sent %q, %d connection handlers, in user:1 %v, %d sockets; want nothing",
			out, connected.Load(), g.HasRoom("user:1"), srv.Of("/").SocketCount())
	}
}

// TestConnectWaitTimeout: an adapter that never confirms delays the connect by
// JoinWaitTimeout, no more.
func TestConnectWaitTimeout(t *testing.T) {
	testutil.CheckGoroutines(t)
	const timeout = 100 * time.Millisecond
	srv, g, connected := gatedServer(t, Config{JoinWaitTimeout: timeout}, true)
	cl := newClient(t, srv)
	start := time.Now()
	cl.connect("/")
	if d := time.Since(start); d < timeout {
		t.Fatalf("connected after %v, before the timeout %v", d, timeout)
	}
	// The connection handler runs after the reply is written; an event acknowledged
	// afterwards is handled after it, so the count below is settled.
	cl.send(`21["hello"]`)
	cl.expect(`31["ok"]`)
	if err := <-g.ended; !errors.Is(err, context.DeadlineExceeded) || connected.Load() != 1 {
		t.Fatalf("AwaitJoined returned %v, %d connection handlers; want DeadlineExceeded, 1", err, connected.Load())
	}
}

// TestConnectNothingPending: without pending joins the connect happens on the message path,
// as with any adapter, and AwaitJoined is not called.
func TestConnectNothingPending(t *testing.T) {
	srv, g, connected := gatedServer(t, Config{}, false)
	cl := newClient(t, srv)
	cl.send("0")
	if out := cl.f.sent(); len(out) != 1 || connected.Load() != 1 {
		t.Fatalf("after OnMessage returned: sent %q, %d connection handlers; want the reply, 1", out, connected.Load())
	}
	select {
	case <-g.started:
		t.Fatal("AwaitJoined called")
	default:
	}
}
