package engineio

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
)

func TestUpgrade(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, true)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)

	got := make(chan string, 1)
	go func() { _, body := ts.poll(t, sid); got <- body }()
	eventually(t, "the GET to be pending", r.s.getPending)

	c := dialWS(t, ts, "EIO=4&transport=websocket&sid="+sid)
	c.send("2probe")
	if m := c.readText(); m != "3probe" {
		t.Fatalf("probe answer %q", m)
	}
	if body := <-got; body != "6" {
		t.Errorf("pending GET released with %q, want the noop", body)
	}
	// Sent while the client pauses polling: queued, then flushed on the websocket.
	r.s.Send(NewTextMessage([]byte("during")))
	if r.s.Transport() != "polling" {
		t.Error("transport changed before the upgrade packet")
	}
	c.send("5")
	if m := c.readText(); m != "4during" {
		t.Errorf("first websocket message %q", m)
	}
	eventually(t, "the transport to change", func() bool { return r.s.Transport() == "websocket" })
	c.send("4hello")
	if m := c.readText(); m != "4hello" {
		t.Errorf("echo %q", m)
	}
	if status, body := ts.poll(t, sid); status != 400 || body != `{"code":3,"message":"Bad request"}` {
		t.Errorf("GET after upgrade: %d %s", status, body)
	}
	if status, _ := ts.push(t, sid, "4x"); status != 400 {
		t.Errorf("POST after upgrade: %d", status)
	}
	// A second websocket for the session is closed; the first goes on.
	c2 := dialWS(t, ts, "EIO=4&transport=websocket&sid="+sid)
	c2.expectClose()
	c.send("4still")
	if m := c.readText(); m != "4still" {
		t.Errorf("echo after the intruder %q", m)
	}
	if m := r.nextMessage(t); m.data != "hello" {
		t.Errorf("received %+v", m)
	}
}

// A GET that arrives after the probe and races the upgrade packet gets 400 once the upgrade
// completes, as any polling request after the upgrade does.
func TestUpgradeGetAfterProbe(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	sid := ts.pollHandshake(t)
	c := dialWS(t, ts, "EIO=4&transport=websocket&sid="+sid)
	c.send("2probe")
	c.readText()
	t.Run("noop when no upgrade comes", func(t *testing.T) {
		if status, body := ts.poll(t, sid); status != 200 || body != "6" {
			t.Errorf("GET: %d %q", status, body)
		}
	})
	t.Run("400 when the upgrade completes meanwhile", func(t *testing.T) {
		r := ts.session(t, sid)
		got := make(chan int, 1)
		go func() { status, _ := ts.poll(t, sid); got <- status }()
		eventually(t, "the GET to be pending", r.getPending)
		c.send("5")
		if status := <-got; status != 400 {
			t.Errorf("GET: %d", status)
		}
	})
}

func TestSecondProbeWhileUpgrading(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, true)
	sid := ts.pollHandshake(t)
	c := dialWS(t, ts, "EIO=4&transport=websocket&sid="+sid)
	c.send("2probe")
	c.readText()
	c2 := dialWS(t, ts, "EIO=4&transport=websocket&sid="+sid)
	c2.expectClose()
	c.send("5")
	c.send("4ok")
	if m := c.readText(); m != "4ok" {
		t.Errorf("echo %q", m)
	}
}

func TestUpgradeAborted(t *testing.T) {
	testutil.CheckGoroutines(t)
	for _, tt := range []struct {
		name string
		act  func(c *wsClient)
	}{
		{"bad packet", func(c *wsClient) { c.send("4hello") }},
		{"bad probe", func(c *wsClient) { c.send("2nope") }},
		{"invalid packet", func(c *wsClient) { c.send("x") }},
		{"closed", func(c *wsClient) { c.conn.Close() }},
		{"timeout", func(c *wsClient) {}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, Config{UpgradeTimeout: 100 * time.Millisecond}, true)
			sid := ts.pollHandshake(t)
			r := ts.nextSession(t)
			c := dialWS(t, ts, "EIO=4&transport=websocket&sid="+sid)
			tt.act(c)
			if tt.name != "closed" {
				c.expectClose()
			}
			eventually(t, "the upgrade to be abandoned", func() bool { r.s.mu.Lock(); defer r.s.mu.Unlock(); return r.s.probeLocked() == nil })
			// The session carries on over polling.
			if status, _ := ts.push(t, sid, "4poll"); status != 200 {
				t.Errorf("POST: %d", status)
			}
			if status, body := ts.poll(t, sid); status != 200 || body != "4poll" {
				t.Errorf("GET: %d %q", status, body)
			}
			if r.s.Transport() != "polling" {
				t.Errorf("transport %s", r.s.Transport())
			}
		})
	}
}

// TestUpgradeUnderLoad upgrades while the server sends a numbered stream: the client must see
// every number once, in order, across the GETs and the websocket.
func TestUpgradeUnderLoad(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	sent := 0
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if r.s.Send(NewTextMessage(fmt.Appendf(nil, "%d", sent))) != nil {
				return
			}
			sent++
			if sent%50 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()

	next := 0
	check := func(rec string) {
		t.Helper()
		if rec == "6" || rec == "2" {
			return
		}
		var n int
		if _, err := fmt.Sscanf(rec, "4%d", &n); err != nil || n != next {
			t.Fatalf("got %q, want 4%d", rec, next)
		}
		next++
	}
	// Poll a few times, then upgrade the way engine.io-client does: probe, finish the pending
	// poll, send the upgrade packet.
	for range 3 {
		_, body := ts.poll(t, sid)
		for _, rec := range strings.Split(body, "\x1e") {
			check(rec)
		}
	}
	c := dialWS(t, ts, "EIO=4&transport=websocket&sid="+sid)
	c.send("2probe")
	if m := c.readText(); m != "3probe" {
		t.Fatalf("probe answer %q", m)
	}
	_, body := ts.poll(t, sid) // data or, once drained, the noop
	for _, rec := range strings.Split(body, "\x1e") {
		check(rec)
	}
	c.send("5")
	for next < 2000 {
		check(c.readText())
	}
	close(stop)
	wg.Wait()
	for next < sent {
		check(c.readText())
	}
}

// The first websocket opened for a polling session stays the upgrade candidate when a second
// one arrives while the first one's goroutine is still between its 101 and reading: the
// second is closed, and the first upgrades. (The second used to take the place when it got
// there first, leaving the client's first websocket closed and its second open.)
func TestSecondWebSocketDuringUpgradeIsClosed(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, true)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)

	held, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	hook := func() {
		if calls.Add(1) == 1 { // only the first upgrade waits
			close(held)
			<-release
		}
	}
	upgradeWritten.Store(&hook)
	t.Cleanup(func() { upgradeWritten.Store(nil) })

	c := dialWS(t, ts, "EIO=4&transport=websocket&sid="+sid)
	<-held // the first upgrade's goroutine waits after its 101
	c2 := dialWS(t, ts, "EIO=4&transport=websocket&sid="+sid)
	c2.expectClose()
	close(release)

	c.send("2probe")
	if m := c.readText(); m != "3probe" {
		t.Fatalf("probe answer %q", m)
	}
	c.send("5")
	eventually(t, "the transport to change", func() bool { return r.s.Transport() == "websocket" })
	c.send("4hello")
	if m := c.readText(); m != "4hello" {
		t.Errorf("echo %q", m)
	}
	if m := r.nextMessage(t); m.data != "hello" {
		t.Errorf("received %+v", m)
	}
}
