package engineio

import (
	"fmt"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
)

// With ReadPoller an idle websocket holds no goroutine: a hundred of them cost the pollers only.
func TestIdleWebSocketsHoldNoGoroutine(t *testing.T) {
	if testReadMode != ReadPoller {
		t.Skip("ReadPoller only")
	}
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, true)
	c, _ := openWS(t, ts) // the pollers start with the first connection
	c.send("4warm")
	c.readText()
	before := runtime.NumGoroutine()
	const n = 100
	for range n {
		c, _ := openWS(t, ts)
		c.send("4ping")
		if got := c.readText(); got != "4ping" {
			t.Fatalf("echo %q", got)
		}
	}
	// Reading goroutines of the last echoes may still be winding down.
	eventually(t, "idle connections to hold no goroutine", func() bool {
		return runtime.NumGoroutine()-before < n/10
	})
}

// A handler that does not keep up stops the reading of its connection, not of the others:
// the bytes waiting for it stay bounded, the other sessions are served, and once the handler
// resumes every message arrives, in order.
func TestWebSocketSlowHandlerPausesReading(t *testing.T) {
	if testReadMode != ReadPoller {
		t.Skip("ReadPoller only")
	}
	testutil.CheckGoroutines(t)
	release := make(chan struct{})
	got := make(chan string, 10_000)
	srv := NewServer(Config{PingInterval: time.Minute, OnOpen: func(s *Session) SessionHandler {
		if s.Handshake().QueryValue("slow") == "" {
			return echo{s}
		}
		return funcHandler{func(d []byte, _ bool) { <-release; got <- string(d[:6]) }, func(string, error) {}}
	}})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ts := &testServer{Server: srv, http: hs, url: hs.URL + "/"}

	slow := dialWS(t, ts, "EIO=4&transport=websocket&slow=1")
	parseOpen(t, slow.readText())
	const n, size = 400, 8 << 10 // 3.2 MB: more than the pause threshold and the socket buffers
	go slow.conn.Write(bigFlood(n, size))
	ss := srv.Sessions()
	if len(ss) != 1 {
		t.Fatalf("%d sessions, want 1", len(ss))
	}
	s := ss[0]
	in := s.ws.in
	eventually(t, "the slow connection to be paused", func() bool {
		in.mu.Lock()
		defer in.mu.Unlock()
		return in.paused
	})
	in.mu.Lock()
	queued := in.bytes
	in.mu.Unlock()
	if limit := pauseBytes + pollReadBuf + size; queued > limit {
		t.Errorf("%d bytes queued for a blocked handler, want at most %d", queued, limit)
	}

	other := dialWS(t, ts, "EIO=4&transport=websocket")
	parseOpen(t, other.readText())
	other.send("4still served")
	if m := other.readText(); m != "4still served" {
		t.Errorf("other session: %q", m)
	}

	close(release)
	for i := range n {
		select {
		case m := <-got:
			if want := fmt.Sprintf("%06d", i); m != want {
				t.Fatalf("message %d = %q", i, m)
			}
		case <-time.After(testTimeout):
			t.Fatalf("message %d not delivered", i)
		}
	}
	srv.Shutdown(t.Context())
}

// Deliveries share workers (deliveryPool), but a handler that blocks holds up its own
// connection only: here every handler waits until all of them have been entered, which only
// happens if each connection's message is delivered while the others' handlers block.
func TestBlockedHandlersDoNotHoldUpOtherConnections(t *testing.T) {
	if testReadMode != ReadPoller {
		t.Skip("ReadPoller only")
	}
	testutil.CheckGoroutines(t)
	const n = 24
	var mu sync.Mutex
	entered := 0
	all := make(chan struct{})
	srv := NewServer(Config{PingInterval: time.Minute, OnOpen: func(s *Session) SessionHandler {
		return funcHandler{func(d []byte, _ bool) {
			mu.Lock()
			if entered++; entered == n {
				close(all)
			}
			mu.Unlock()
			select {
			case <-all:
				s.Send(NewTextMessage(d))
			case <-time.After(testTimeout):
			}
		}, func(string, error) {}}
	}})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ts := &testServer{Server: srv, http: hs, url: hs.URL + "/"}
	clients := make([]*wsClient, n)
	for i := range clients {
		clients[i] = dialWS(t, ts, "EIO=4&transport=websocket")
		parseOpen(t, clients[i].readText())
	}
	for i, c := range clients { // back to back, so that a poller finds several ready at once
		c.send(fmt.Sprintf("4m%d", i))
	}
	for i, c := range clients {
		if got, want := c.readText(), fmt.Sprintf("4m%d", i); got != want {
			t.Fatalf("client %d got %q, want %q", i, got, want)
		}
	}
	srv.Shutdown(t.Context())
}

type echo struct{ s *Session }

func (e echo) OnMessage(d []byte, bin bool) {
	if bin {
		e.s.Send(NewBinaryMessage(d))
	} else {
		e.s.Send(NewTextMessage(d))
	}
}
func (echo) OnClose(string, error) {}

// Changing a connection's epoll registration (pauses, resumptions, every handshake) allocates
// nothing; the connection is still served afterwards.
func TestPollerCtlAllocatesNothing(t *testing.T) {
	if testReadMode != ReadPoller {
		t.Skip("ReadPoller only")
	}
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, true)
	c, r := openWS(t, ts)
	c.send("4warm")
	c.readText()
	in := r.s.ws.in
	in.mu.Lock()
	pl, watched := in.pl, in.watched
	var err error
	allocs := testing.AllocsPerRun(100, func() {
		pl.del(in)
		if e := pl.add(in); e != nil {
			err = e
		}
	})
	in.mu.Unlock()
	if pl == nil || !watched {
		t.Fatal("connection not in a poller")
	}
	if err != nil {
		t.Fatal(err)
	}
	if allocs != 0 && !raceEnabled {
		t.Errorf("%v allocations per del+add, want 0", allocs)
	}
	c.send("4after")
	if got := c.readText(); got != "4after" {
		t.Errorf("echo %q", got)
	}
}
