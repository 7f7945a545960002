package engineio

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
)

func TestPollingEcho(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, true)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)

	status, body, hdr := request(t, "POST", ts.url+"?EIO=4&transport=polling&sid="+sid, "4hello\x1ebAQIDBA==")
	if status != 200 || body != "ok" || hdr.Get("Content-Type") != "text/html" || hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("POST: %d %q %v", status, body, hdr)
	}
	if m := r.nextMessage(t); m != (message{"hello", false}) {
		t.Errorf("first message %+v", m)
	}
	if m := r.nextMessage(t); m != (message{"\x01\x02\x03\x04", true}) {
		t.Errorf("second message %+v", m)
	}
	if status, body := ts.poll(t, sid); status != 200 || body != "4hello\x1ebAQIDBA==" {
		t.Errorf("GET: %d %q", status, body)
	}
}

func TestPollingBatchesQueuedMessages(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)
	for _, m := range []*Message{NewTextMessage([]byte("test1")), NewTextMessage([]byte("test2")), NewBinaryMessage([]byte{0xff})} {
		if err := r.s.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	if status, body := ts.poll(t, sid); status != 200 || body != "4test1\x1e4test2\x1eb/w==" {
		t.Errorf("GET: %d %q", status, body)
	}
}

func TestPollingGetHeldUntilData(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)
	if r.s.Writable() {
		t.Error("Writable with no GET pending")
	}
	got := make(chan string, 1)
	go func() { _, body := ts.poll(t, sid); got <- body }()
	eventually(t, "the GET to be pending", r.s.Writable)
	select {
	case body := <-got:
		t.Fatalf("GET answered %q before anything was sent", body)
	default:
	}
	r.s.Send(NewTextMessage([]byte("late")))
	if body := <-got; body != "4late" {
		t.Errorf("GET = %q", body)
	}
}

func TestPollingHeartbeat(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{PingInterval: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond}, false)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)
	for i := range 3 {
		if status, body := ts.poll(t, sid); status != 200 || body != "2" {
			t.Fatalf("round %d: GET %d %q, want the ping", i, status, body)
		}
		if status, body := ts.push(t, sid, "3"); status != 200 || body != "ok" {
			t.Fatalf("round %d: POST pong %d %q", i, status, body)
		}
	}
	// The client vanishes: no GET, no pong.
	if ev := r.waitClose(t); ev.reason != ReasonPingTimeout {
		t.Errorf("close reason %q", ev.reason)
	}
	if status, body := ts.poll(t, sid); status != 400 || body != `{"code":1,"message":"Session ID unknown"}` {
		t.Errorf("GET after timeout: %d %s", status, body)
	}
}

func TestPollingClientPingIsAnError(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)
	ts.push(t, sid, "2")
	if ev := r.waitClose(t); ev.reason != ReasonTransportError || !errors.Is(ev.err, errClientPing) {
		t.Errorf("close %+v", ev)
	}
}

func TestPollingClose(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)
	got := make(chan string, 1)
	go func() { _, body := ts.poll(t, sid); got <- body }()
	eventually(t, "the GET to be pending", r.s.getPending)
	if status, body := ts.push(t, sid, "1"); status != 200 || body != "ok" {
		t.Errorf("POST close: %d %q", status, body)
	}
	if body := <-got; body != "6" {
		t.Errorf("pending GET got %q, want the noop", body)
	}
	if ev := r.waitClose(t); ev.reason != ReasonTransportClose || ev.err != nil {
		t.Errorf("close %+v", ev)
	}
	if status, _ := ts.poll(t, sid); status != 400 {
		t.Errorf("GET after close: %d", status)
	}
}

// The client's close POST may overtake its next GET: that GET still gets the noop, once.
func TestPollingCloseRacingGet(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)
	ts.push(t, sid, "1")
	r.waitClose(t)
	if n := ts.SessionCount(); n != 0 {
		t.Errorf("SessionCount = %d after close", n)
	}
	if status, body := ts.poll(t, sid); status != 200 || body != "6" {
		t.Errorf("GET after the close: %d %q, want the noop", status, body)
	}
	if status, _ := ts.poll(t, sid); status != 400 {
		t.Errorf("second GET after close: %d", status)
	}
}

func TestPollingDuplicateGet(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)
	got := make(chan string, 1)
	go func() { _, body := ts.poll(t, sid); got <- body }()
	eventually(t, "the GET to be pending", r.s.getPending)
	if status, _ := ts.poll(t, sid); status != 400 {
		t.Errorf("second GET: %d", status)
	}
	if body := <-got; body != "1" {
		t.Errorf("first GET got %q, want the close packet", body)
	}
	if ev := r.waitClose(t); ev.reason != ReasonTransportError {
		t.Errorf("close %+v", ev)
	}
	if status, _ := ts.poll(t, sid); status != 400 {
		t.Errorf("third GET: %d", status)
	}
}

func TestPollingBadPayloads(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	for _, payload := range []string{"abc", "4ok\x1eb!!!!", "4a\x1e\x1e4b", "b AQ", "7", "4a\x1e"} {
		t.Run(fmt.Sprintf("%q", payload), func(t *testing.T) {
			sid := ts.pollHandshake(t)
			r := ts.nextSession(t)
			if status, _ := ts.push(t, sid, payload); status != 400 {
				t.Errorf("POST: %d", status)
			}
			if ev := r.waitClose(t); ev.reason != ReasonParseError {
				t.Errorf("close %+v", ev)
			}
			if status, _ := ts.poll(t, sid); status != 400 {
				t.Errorf("GET after a bad payload: %d", status)
			}
		})
	}
}

func TestPollingEmptyBodyIsAParseError(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)
	status, _, _ := request(t, "POST", ts.url+"?EIO=4&transport=polling&sid="+sid, "", "Content-Length", "0")
	if status != 400 {
		t.Errorf("POST: %d", status)
	}
	if ev := r.waitClose(t); ev.reason != ReasonParseError {
		t.Errorf("close %+v", ev)
	}
}

func TestPollingBinaryBodyRejected(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)
	status, _, _ := request(t, "POST", ts.url+"?EIO=4&transport=polling&sid="+sid, "4x", "Content-Type", "application/octet-stream")
	if status != 400 {
		t.Errorf("POST: %d", status)
	}
	// The session ends too: by the POST's failure or by its own ping timeout, whichever the
	// timers fire first (the POST's deadline is the session's whole heartbeat).
	if ev := r.waitClose(t); ev.reason != ReasonTransportError && ev.reason != ReasonPingTimeout {
		t.Errorf("close %+v", ev)
	}
}

func TestPollingOversizedBody(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{MaxPayload: 100}, true)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)
	big := "4" + strings.Repeat("x", 100)
	if status, _ := ts.push(t, sid, big); status != 413 {
		t.Errorf("POST with Content-Length: %d", status)
	}
	// Without Content-Length (chunked), the limit holds while reading.
	req, _ := http.NewRequest("POST", ts.url+"?EIO=4&transport=polling&sid="+sid, struct{ *strings.Reader }{strings.NewReader(big)})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("chunked POST: %d", resp.StatusCode)
	}
	// The session survives, as in the reference, and a payload of exactly MaxPayload passes.
	if status, _ := ts.push(t, sid, big[:100]); status != 200 {
		t.Errorf("POST of MaxPayload bytes: %d", status)
	}
	if m := r.nextMessage(t); len(m.data) != 99 {
		t.Errorf("message of %d bytes", len(m.data))
	}
}

func TestPollingFloodOfTinyPackets(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)
	const n = 50_000
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(0x1e)
		}
		if i%7 == 0 {
			b.WriteString("3\x1e") // pongs and noops in between are not messages
		}
		if i%11 == 0 {
			b.WriteString("6\x1e")
		}
		b.WriteString("4")
	}
	if status, _ := ts.push(t, sid, b.String()); status != 200 {
		t.Fatalf("POST: %d", status)
	}
	for i := range n {
		if m := r.nextMessage(t); m.data != "" || m.binary {
			t.Fatalf("message %d = %+v", i, m)
		}
	}
}

func TestPollingConcurrentPostIsRefused(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)
	s := ts.session(t, sid)
	// Hold a POST open: its body arrives slowly.
	pr, pw := ioPipe()
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", ts.url+"?EIO=4&transport=polling&sid="+sid, pr)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	eventually(t, "the POST to be in progress", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.postActive })
	if status, _ := ts.push(t, sid, "4x"); status != 400 {
		t.Errorf("second POST: %d", status)
	}
	if ev := r.waitClose(t); ev.reason != ReasonTransportError {
		t.Errorf("close %+v", ev)
	}
	pw.Write([]byte("4late"))
	pw.Close()
	<-done
}

// TestPollingConcurrentSenders checks that messages sent from many goroutines all arrive, each
// once, in the order each goroutine sent them.
func TestPollingConcurrentSenders(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)
	const senders, each = 4, 500
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r.s.Send(NewTextMessage(fmt.Appendf(nil, "%d:%d", g, i)))
			}
		}()
	}
	next := make([]int, senders)
	total := 0
	for total < senders*each {
		status, body := ts.poll(t, sid)
		if status != 200 {
			t.Fatalf("GET: %d", status)
		}
		for _, rec := range strings.Split(body, "\x1e") {
			var g, i int
			if _, err := fmt.Sscanf(rec, "4%d:%d", &g, &i); err != nil {
				t.Fatalf("record %q: %v", rec, err)
			}
			if i != next[g] {
				t.Fatalf("sender %d: got %d, want %d", g, i, next[g])
			}
			next[g]++
			total++
		}
	}
	wg.Wait()
}

// A request that arrives after the pong deadline but before the timer fires (a loaded
// machine) finds the session gone, as it would a moment later.
func TestPollingPongDeadlineOnRequest(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)
	r.s.mu.Lock()
	r.s.awaitingPong = true
	r.s.due = nanotime() - int64(time.Millisecond) // the wheel's deadline is still a minute away
	r.s.mu.Unlock()
	if status, body := ts.push(t, sid, "3"); status != 400 || body != `{"code":1,"message":"Session ID unknown"}` {
		t.Errorf("late pong: %d %s", status, body)
	}
	if ev := r.waitClose(t); ev.reason != ReasonPingTimeout {
		t.Errorf("close %+v", ev)
	}
}

// TestPollingStalledBodyEnds: a POST whose body stops arriving ends after pingInterval +
// pingTimeout, with the session, instead of holding its connection and goroutine for as long
// as the client keeps the connection open.
func TestPollingStalledBodyEnds(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{PingInterval: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond}, false)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)
	conn, err := net.Dial("tcp", ts.http.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := "POST /engine.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\n" +
		"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 100\r\n\r\n4hello"
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	// The test's own bound: without the deadline the server would wait for the other 94 bytes.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	rest, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("the connection with a stalled body is still open: %v (read %q)", err, rest)
	}
	// The session ends too: by the POST's failure or by its own ping timeout, whichever the
	// timers fire first (the POST's deadline is the session's whole heartbeat).
	if ev := r.waitClose(t); ev.reason != ReasonTransportError && ev.reason != ReasonPingTimeout {
		t.Errorf("close %+v", ev)
	}
}
