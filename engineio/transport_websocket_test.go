package engineio

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/tomato-code/realtime/internal/testutil"
)

// openWS opens a websocket-only session and returns the client, past the open packet, and
// the server side's recorder.
func openWS(t *testing.T, ts *testServer) (*wsClient, *recorder) {
	t.Helper()
	c := dialWS(t, ts, "EIO=4&transport=websocket")
	parseOpen(t, c.readText())
	return c, ts.nextSession(t)
}

func TestWebSocketEcho(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, true)
	c, r := openWS(t, ts)

	c.send("4hello")
	if got := c.readText(); got != "4hello" {
		t.Errorf("text echo %q", got)
	}
	c.writeFrame(ws.OpBinary, true, []byte{1, 2, 3, 4})
	if got, bin := c.read(); !bin || got != "\x01\x02\x03\x04" {
		t.Errorf("binary echo %q %v", got, bin)
	}
	c.send("4é€😀")
	if got := c.readText(); got != "4é€😀" {
		t.Errorf("utf-8 echo %q", got)
	}
	// A message in three fragments with a ping in between: the ping is answered at once.
	c.writeFrame(ws.OpText, false, []byte("4fr"))
	c.writeFrame(ws.OpContinuation, false, []byte("ag"))
	c.writeFrame(ws.OpPing, true, []byte("hi"))
	c.writeFrame(ws.OpContinuation, true, []byte("ment"))
	h, p, err := c.frame()
	if err != nil || h.OpCode != ws.OpPong || string(p) != "hi" {
		t.Errorf("pong: %v %q %v", h.OpCode, p, err)
	}
	if got := c.readText(); got != "4fragment" {
		t.Errorf("fragmented echo %q", got)
	}
	// Large frames use the 16- and 64-bit length forms.
	for _, n := range []int{125, 126, 65535, 65536, 300_000} {
		msg := "4" + strings.Repeat("z", n)
		c.send(msg)
		if got := c.readText(); got != msg {
			t.Errorf("echo of %d bytes: got %d bytes", n, len(got))
		}
	}
	want := []message{{"hello", false}, {"\x01\x02\x03\x04", true}, {"é€😀", false}, {"fragment", false}}
	for _, w := range want {
		if m := r.nextMessage(t); m != w {
			t.Errorf("received %+v, want %+v", m, w)
		}
	}
	c.conn.Close()
	if ev := r.waitClose(t); ev.reason != ReasonTransportClose {
		t.Errorf("close %+v", ev)
	}
}

func TestWebSocketClosedByClientFrame(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	c, r := openWS(t, ts)
	c.writeFrame(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
	if code := c.expectClose(); code != ws.StatusNormalClosure {
		t.Errorf("close code %d", code)
	}
	if ev := r.waitClose(t); ev.reason != ReasonTransportClose {
		t.Errorf("close %+v", ev)
	}
	if n := ts.SessionCount(); n != 0 {
		t.Errorf("SessionCount = %d", n)
	}
}

func TestWebSocketBadInput(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{MaxPayload: 1000}, false)
	tests := []struct {
		name   string
		frames [][]byte
		code   ws.StatusCode
		reason string
	}{
		{"invalid packet", [][]byte{clientFrame(ws.OpText, true, []byte("abc"))}, ws.StatusProtocolError, ReasonParseError},
		{"empty text frame", [][]byte{clientFrame(ws.OpText, true, nil)}, ws.StatusProtocolError, ReasonParseError},
		{"close packet", [][]byte{clientFrame(ws.OpText, true, []byte("1"))}, ws.StatusNormalClosure, ReasonTransportClose},
		{"client ping", [][]byte{clientFrame(ws.OpText, true, []byte("2"))}, ws.StatusNormalClosure, ReasonTransportError},
		{"too large", [][]byte{clientFrame(ws.OpText, true, bytes.Repeat([]byte("4"), 1001))}, ws.StatusMessageTooBig, ReasonTransportError},
		{"too large in fragments", [][]byte{
			clientFrame(ws.OpText, false, bytes.Repeat([]byte("4"), 600)),
			clientFrame(ws.OpContinuation, true, bytes.Repeat([]byte("4"), 600)),
		}, ws.StatusMessageTooBig, ReasonTransportError},
		{"invalid utf-8", [][]byte{clientFrame(ws.OpText, true, []byte("4\xff\xfe"))}, ws.StatusInvalidFramePayloadData, ReasonTransportError},
		{"unmasked", [][]byte{{0x81, 0x02, '4', 'x'}}, ws.StatusProtocolError, ReasonTransportError},
		{"reserved bits", [][]byte{func() []byte { f := clientFrame(ws.OpText, true, []byte("4x")); f[0] |= 0x40; return f }()}, ws.StatusProtocolError, ReasonTransportError},
		{"reserved opcode", [][]byte{clientFrame(ws.OpCode(3), true, []byte("4x"))}, ws.StatusProtocolError, ReasonTransportError},
		{"continuation first", [][]byte{clientFrame(ws.OpContinuation, true, []byte("4x"))}, ws.StatusProtocolError, ReasonTransportError},
		{"text inside a fragmented message", [][]byte{
			clientFrame(ws.OpText, false, []byte("4a")),
			clientFrame(ws.OpText, true, []byte("4b")),
		}, ws.StatusProtocolError, ReasonTransportError},
		{"fragmented control frame", [][]byte{clientFrame(ws.OpPing, false, nil)}, ws.StatusProtocolError, ReasonTransportError},
		{"long control frame", [][]byte{clientFrame(ws.OpPing, true, make([]byte, 126))}, ws.StatusProtocolError, ReasonTransportError},
		{"huge length", [][]byte{{0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}}, ws.StatusMessageTooBig, ReasonTransportError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, r := openWS(t, ts)
			for _, f := range tt.frames {
				c.conn.Write(f)
			}
			if code := c.expectClose(); code != tt.code {
				t.Errorf("close code %d, want %d", code, tt.code)
			}
			if ev := r.waitClose(t); ev.reason != tt.reason {
				t.Errorf("close reason %q (%v), want %q", ev.reason, ev.err, tt.reason)
			}
		})
	}
}

func TestWebSocketFloodOfTinyPackets(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	c, r := openWS(t, ts)
	const n = 50_000
	var all []byte
	for i := range n {
		all = append(all, clientFrame(ws.OpText, true, []byte{'4', byte('a' + i%26)})...)
	}
	go c.conn.Write(all) // one write: the frames cross buffer boundaries everywhere
	for i := range n {
		if m := r.nextMessage(t); m.data != string(rune('a'+i%26)) {
			t.Fatalf("message %d = %q", i, m.data)
		}
	}
}

func TestWebSocketHeartbeat(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{PingInterval: 50 * time.Millisecond, PingTimeout: 200 * time.Millisecond}, false)
	c, r := openWS(t, ts)
	for i := range 3 {
		if got := c.readText(); got != "2" {
			t.Fatalf("round %d: %q, want the ping", i, got)
		}
		c.send("3")
	}
	// The client stops answering.
	if got := c.readText(); got != "2" {
		t.Fatalf("%q, want the ping", got)
	}
	if ev := r.waitClose(t); ev.reason != ReasonPingTimeout {
		t.Errorf("close %+v", ev)
	}
	c.expectClose()
}

// Pings keep coming while messages flow: engine.io-client only re-arms its timeout on pings.
func TestWebSocketHeartbeatOnBusyConnection(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{PingInterval: 50 * time.Millisecond, PingTimeout: time.Second}, false)
	c, r := openWS(t, ts)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				if r.s.Send(NewTextMessage([]byte("busy"))) != nil {
					return
				}
				time.Sleep(time.Millisecond) // a steady stream, not a flood
			}
		}
	}()
	pings := 0
	for pings < 3 {
		switch got := c.readText(); got {
		case "2":
			pings++
			c.send("3")
		case "4busy":
		default:
			t.Fatalf("unexpected %q", got)
		}
	}
	close(stop)
	<-done
}

// engine.io 6.6: a packet received while a pong is awaited extends the deadline, once.
func TestPongDeadlineExtendedOnce(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{PingInterval: 20 * time.Millisecond, PingTimeout: time.Hour}, false)
	c, r := openWS(t, ts)
	if got := c.readText(); got != "2" {
		t.Fatalf("%q, want the ping", got)
	}
	s := r.s
	due := func() int64 { s.mu.Lock(); defer s.mu.Unlock(); return s.due }
	first := due()
	c.send("4a")
	r.nextMessage(t)
	second := due()
	if second <= first {
		t.Errorf("deadline not extended: %v then %v", first, second)
	}
	c.send("4b")
	r.nextMessage(t)
	if third := due(); third != second {
		t.Errorf("deadline extended twice: %v then %v", second, third)
	}
	c.send("3")
	eventually(t, "the pong to re-arm the ping", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return !s.awaitingPong })
}

func TestWebSocketVanishedClient(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{PingInterval: 20 * time.Millisecond, PingTimeout: 50 * time.Millisecond}, false)
	_, r := openWS(t, ts) // never reads nor answers
	if ev := r.waitClose(t); ev.reason != ReasonPingTimeout {
		t.Errorf("close %+v", ev)
	}
}

func TestSessionCloseFlushesFirst(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	t.Run("websocket", func(t *testing.T) {
		c, r := openWS(t, ts)
		for i := range 100 {
			r.s.Send(NewTextMessage([]byte{byte('0' + i%10)}))
		}
		r.s.Close()
		if err := r.s.Send(NewTextMessage([]byte("x"))); !errors.Is(err, ErrSessionClosed) {
			t.Errorf("Send after Close: %v", err)
		}
		for i := range 100 {
			if got := c.readText(); got != "4"+string(rune('0'+i%10)) {
				t.Fatalf("message %d = %q", i, got)
			}
		}
		if code := c.expectClose(); code != ws.StatusNormalClosure {
			t.Errorf("close code %d", code)
		}
		if ev := r.waitClose(t); ev.reason != ReasonForcedClose {
			t.Errorf("close %+v", ev)
		}
	})
	t.Run("polling", func(t *testing.T) {
		sid := ts.pollHandshake(t)
		r := ts.nextSession(t)
		r.s.Send(NewTextMessage([]byte("bye")))
		r.s.Close()
		// The close packet follows in the next response (see TestPollingCloseSendsQueuedFirst).
		if _, body := ts.poll(t, sid); body != "4bye" {
			t.Errorf("GET = %q", body)
		}
		if _, body := ts.poll(t, sid); body != "1" {
			t.Errorf("second GET = %q", body)
		}
		if ev := r.waitClose(t); ev.reason != ReasonForcedClose {
			t.Errorf("close %+v", ev)
		}
	})
	t.Run("polling pending GET", func(t *testing.T) {
		sid := ts.pollHandshake(t)
		r := ts.nextSession(t)
		got := make(chan string, 1)
		go func() { _, body := ts.poll(t, sid); got <- body }()
		eventually(t, "the GET to be pending", r.s.getPending)
		r.s.Close()
		if body := <-got; body != "1" {
			t.Errorf("GET = %q", body)
		}
		r.waitClose(t)
	})
}

func TestWriteQueueFull(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{WriteQueueBytes: 10_000}, false)
	ts.pollHandshake(t) // no GET: everything queues
	r := ts.nextSession(t)
	msg := NewTextMessage(make([]byte, 1000))
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = r.s.Send(msg)
	}
	if !errors.Is(err, ErrWriteQueueFull) {
		t.Fatalf("Send: %v", err)
	}
	if ev := r.waitClose(t); ev.reason != ReasonWriteQueueFull || !errors.Is(ev.err, ErrWriteQueueFull) {
		t.Errorf("close %+v", ev)
	}
	if err := r.s.Send(msg); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("Send after close: %v", err)
	}
}

func TestSendAtomicity(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{WriteQueueBytes: 2000}, false)
	ts.pollHandshake(t)
	r := ts.nextSession(t)
	// Two messages that do not fit together: neither is queued.
	err := r.s.Send(NewTextMessage(make([]byte, 1000)), NewBinaryMessage(make([]byte, 1000)))
	if !errors.Is(err, ErrWriteQueueFull) {
		t.Fatalf("Send: %v", err)
	}
	r.s.mu.Lock()
	n := len(r.s.queue)
	r.s.mu.Unlock()
	if n != 0 {
		t.Errorf("%d messages queued", n)
	}
}

func TestShutdown(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	c, wr := openWS(t, ts)
	sid := ts.pollHandshake(t)
	pr := ts.nextSession(t)
	got := make(chan string, 1)
	go func() { _, body := ts.poll(t, sid); got <- body }()
	eventually(t, "the GET to be pending", pr.s.getPending)
	wr.s.Send(NewTextMessage([]byte("last")))

	done := make(chan error, 1)
	go func() { done <- ts.Shutdown(t.Context()) }()
	if body := <-got; body != "1" {
		t.Errorf("pending GET = %q", body)
	}
	if m := c.readText(); m != "4last" {
		t.Errorf("websocket got %q before closing", m)
	}
	c.expectClose()
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	for _, r := range []*recorder{wr, pr} {
		if ev := r.waitClose(t); ev.reason != ReasonServerShutdown {
			t.Errorf("close %+v", ev)
		}
	}
	if n := ts.SessionCount(); n != 0 {
		t.Errorf("SessionCount = %d", n)
	}
	status, body, _ := request(t, "GET", ts.url+"?EIO=4&transport=polling", "")
	if status != 503 {
		t.Errorf("handshake during shutdown: %d %s", status, body)
	}
	if err := ts.Shutdown(t.Context()); !errors.Is(err, ErrServerClosed) {
		t.Errorf("second Shutdown: %v", err)
	}
}

func TestShutdownDeadline(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	ts.pollHandshake(t)
	r := ts.nextSession(t)
	r.s.Send(NewTextMessage([]byte("never polled")))
	ctx, cancel := contextWithTimeout(50 * time.Millisecond)
	defer cancel()
	if err := ts.Shutdown(ctx); err == nil {
		t.Error("Shutdown returned nil with a session that cannot drain")
	}
	if ev := r.waitClose(t); ev.reason != ReasonServerShutdown {
		t.Errorf("close %+v", ev)
	}
}

// A client that answers pings but never reads would hold a writer forever: a write without
// progress for a whole ping interval closes the session.
func TestWebSocketStuckWriter(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{PingInterval: 50 * time.Millisecond, PingTimeout: time.Minute, WriteQueueBytes: 1 << 30}, false)
	c, r := openWS(t, ts)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
				c.conn.Write(clientFrame(ws.OpText, true, []byte("3")))
			}
		}
	}()
	big := NewTextMessage(make([]byte, 1<<20))
	for range 64 { // more than any loopback socket buffers
		if err := r.s.Send(big); err != nil {
			break
		}
	}
	ev := r.waitClose(t)
	if ev.reason != ReasonTransportError || !errors.Is(ev.err, errWriteStuck) {
		t.Errorf("close %+v", ev)
	}
}

// A client that reads slowly, and pings meanwhile, gets every frame intact and in order: a
// batch that the socket takes only in part is finished before anything else (pong included)
// is written.
func TestWebSocketSlowReaderGetsEverything(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{WriteQueueBytes: 64 << 20}, false)
	c, r := openWS(t, ts)
	const n, size = 200, 100 << 10 // 20 MB: more than the loopback socket buffers
	for i := range n {
		p := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		copy(p, fmt.Appendf(nil, "%06d", i))
		if err := r.s.Send(NewTextMessage(p)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond) // let the socket fill up: the writer must wait
	pings := 0
	for i := 0; i < n; {
		if i%20 == 0 && pings < n/20 {
			c.writeFrame(ws.OpPing, true, []byte("p"))
			pings++
		}
		h, p, err := c.frame()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if h.OpCode == ws.OpPong {
			continue
		}
		want := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		copy(want, fmt.Appendf(nil, "%06d", i))
		if h.OpCode != ws.OpText || !bytes.Equal(p, append([]byte("4"), want...)) {
			t.Fatalf("frame %d: %v, %d bytes %.12q", i, h.OpCode, len(p), p)
		}
		i++
	}
}
