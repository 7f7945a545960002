package service

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/service/config"
)

const laneEmitBody = `{"event":"order:update","room":"user:42","payload":{"id":7}}`

// laneEmit is an emit as a backend sends it on a kept-alive connection.
func laneEmit(extra string) string {
	return "POST /api/v1/internal/emit HTTP/1.1\r\nHost: realtime\r\nX-Internal-Key: key\r\nContent-Type: application/json\r\n" + extra +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(laneEmitBody)) + laneEmitBody
}

// apiConn is a raw connection to the service, for requests sent byte for byte.
type apiConn struct {
	t testing.TB
	net.Conn
	br *bufio.Reader
}

func dialAPI(t testing.TB, addr net.Addr) *apiConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &apiConn{t: t, Conn: nc, br: bufio.NewReader(nc)}
}

func (c *apiConn) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		c.t.Fatal(err)
	}
}

// answer reads an answer: its status, body and whether it closes the connection.
func (c *apiConn) answer() (status int, body string, closes bool) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, nil)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(resp.Body)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Close
}

// closedByServer reports whether the server closed the connection (within 5 s).
func (c *apiConn) closedByServer() (bool, error) {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.br.ReadByte()
	return err == io.EOF, err
}

// A backend's keep-alive connection is served by the lane from its second request on, on
// the main listener and on INTERNAL_ADDR's.
func TestAPIKeepAliveConnectionIsServedByTheLane(t *testing.T) {
	testutil.CheckGoroutines(t)
	for _, internal := range []bool{false, true} {
		s := newTestService(t, func(c *config.Config) {
			if internal {
				c.InternalAddr = "127.0.0.1:0"
			}
		})
		addrs := runService(t, s)
		api := addrs.Main
		if internal {
			api = addrs.Internal
		}
		tr := &http.Transport{MaxConnsPerHost: 1}
		client := &http.Client{Transport: tr}
		const n = 200
		for i := range n {
			req, _ := http.NewRequest("POST", "http://"+api.String()+"/api/v1/internal/emit", strings.NewReader(laneEmitBody))
			req.Header.Set("x-internal-key", "key")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != "{\"success\":true}\n" || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Fatalf("internal=%v emit %d: %d %q %v", internal, i, resp.StatusCode, b, resp.Header)
			}
		}
		resp, err := client.Get("http://" + api.String() + "/api/v1/internal/sockets?room=user:42")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || !strings.Contains(string(b), "Forbidden") {
			t.Errorf("a request without the key: %d %s", resp.StatusCode, b)
		}
		tr.CloseIdleConnections()
		if st := s.apiLane.Stats(); st.Takeovers != 1 || st.Requests != n {
			t.Errorf("internal=%v: %+v, want 1 takeover and %d requests read by the lane", internal, st, n)
		}
	}
}

// Probes and Socket.IO on a connection the lane holds go to net/http, and the next API call
// is taken over again.
func TestAPIConnectionGoesToNetHTTPAndBack(t *testing.T) {
	testutil.CheckGoroutines(t)
	s := newTestService(t, nil)
	addrs := runService(t, s)
	c := dialAPI(t, addrs.Main)
	for i, step := range []struct{ req, want string }{
		{laneEmit(""), `{"success":true}`},
		{"GET /health HTTP/1.1\r\nHost: realtime\r\n\r\n", `"status":"healthy"`},
		{laneEmit("") + "GET /ready HTTP/1.1\r\nHost: realtime\r\n\r\n", `{"success":true}`},
		{"", `{"status":"ready"}`},
		{laneEmit(""), `{"success":true}`},
		{laneEmit("Connection: close\r\n"), `{"success":true}`},
	} {
		c.send(step.req)
		if status, body, _ := c.answer(); status != 200 || !strings.Contains(body, step.want) {
			t.Fatalf("step %d: %d %s, want %s", i, status, body, step.want)
		}
	}
	if closed, err := c.closedByServer(); !closed {
		t.Errorf("the connection is open after Connection: close: %v", err)
	}
	// Taken at the first emit, handed back at /health, taken again at the next emit and
	// handed back at /ready, taken at the fourth; the lane read the last emit itself.
	if st := s.apiLane.Stats(); st.Takeovers != 3 || st.Handbacks != 2 || st.Requests != 1 {
		t.Errorf("%+v", st)
	}
}

// Malformed and unusual requests after an emit the lane served get the status line net/http
// alone gives them.
func TestAPIRequestsTheLaneRefusesAreAnsweredAsByNetHTTP(t *testing.T) {
	testutil.CheckGoroutines(t)
	s := newTestService(t, nil)
	addrs := runService(t, s)
	plain := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { plain.Serve(ln); close(served) }()
	defer func() { plain.Close(); <-served }()

	const emit = "POST /api/v1/internal/emit HTTP/1.1\r\n"
	for name, in := range map[string]string{
		"bad request line":    "EMIT PLEASE\r\n\r\n",
		"obs-fold":            emit + "Host: r\r\nX-Internal-Key: key\r\n x\r\nContent-Length: 0\r\n\r\n",
		"bare LF":             "POST /api/v1/internal/emit HTTP/1.1\nHost: r\nX-Internal-Key: key\nContent-Length: 2\n\n{}",
		"duplicate length":    emit + "Host: r\r\nX-Internal-Key: key\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
		"chunked":             emit + "Host: r\r\nX-Internal-Key: key\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
		"expect":              emit + "Host: r\r\nX-Internal-Key: key\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
		"too large head":      emit + "Host: r\r\nX-Big: " + strings.Repeat("b", 1100<<10) + "\r\n\r\n",
		"HTTP/1.0":            "POST /api/v1/internal/emit HTTP/1.0\r\nHost: r\r\nX-Internal-Key: key\r\nContent-Length: 2\r\n\r\n{}",
		"absolute form":       "POST http://r/api/v1/internal/emit HTTP/1.1\r\nHost: r\r\nX-Internal-Key: key\r\nContent-Length: 2\r\n\r\n{}",
		"missing Host":        emit + "X-Internal-Key: key\r\nContent-Length: 2\r\n\r\n{}",
		"invalid header byte": emit + "Host: r\r\nX-Internal-Key: k\x00ey\r\nContent-Length: 2\r\n\r\n{}",
		"body over the limit": emit + "Host: r\r\nX-Internal-Key: key\r\nContent-Length: 2000000\r\n\r\n",
		"wrong method":        "GET /api/v1/internal/emit HTTP/1.1\r\nHost: r\r\nX-Internal-Key: key\r\n\r\n",
		"metrics":             "GET /metrics HTTP/1.1\r\nHost: r\r\n\r\n",
		"socket.io":           "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: r\r\n\r\n",
	} {
		want := laneStatusAfter(t, ln.Addr(), in)
		got := laneStatusAfter(t, addrs.Main, in)
		if got != want || !strings.HasPrefix(got, "HTTP/") {
			t.Errorf("%s: answered %q, net/http alone %q", name, got, want)
		}
	}
}

// laneStatusAfter sends an emit, reads its answer, sends in and returns its status line.
func laneStatusAfter(t *testing.T, addr net.Addr, in string) string {
	t.Helper()
	c := dialAPI(t, addr)
	defer c.Close()
	c.send(laneEmit(""))
	c.answer()
	// In the background: a server that stops reading a head too large still answers it.
	go io.WriteString(c, in)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := c.br.ReadString('\n')
	if err != nil {
		return "error: " + err.Error()
	}
	return line
}

// The drain closes the lane's idle connections at once and lets an API call in flight finish
// before its connection closes.
func TestDrainClosesIdleLaneConnectionsAndFinishesCalls(t *testing.T) {
	testutil.CheckGoroutines(t)
	s := newTestService(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan Addrs, 1)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, func(a Addrs) { addrc <- a }) }()
	addrs := <-addrc

	idle, busy := dialAPI(t, addrs.Main), dialAPI(t, addrs.Main)
	for _, c := range []*apiConn{idle, busy} {
		c.send(laneEmit(""))
		c.answer()
	}
	// An emit whose body is half there: the API is reading it.
	call := laneEmit("")
	half := len(call) - len(laneEmitBody)/2
	busy.send(call[:half])
	// The lane counts a request once it has read its head; nothing else tells that the call
	// is in flight, so the counter is polled.
	for deadline := time.Now().Add(5 * time.Second); s.apiLane.Stats().Requests < 1; {
		if time.Now().After(deadline) {
			t.Fatal("the lane did not read the call")
		}
		time.Sleep(time.Millisecond)
	}

	cancel()
	if closed, err := idle.closedByServer(); !closed {
		t.Fatalf("idle lane connection not closed by the drain: %v", err)
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) with a call in flight", err)
	default:
	}
	busy.send(call[half:])
	if status, body, closes := busy.answer(); status != 200 || body != "{\"success\":true}\n" || !closes {
		t.Errorf("call in flight: %d %q close=%v", status, body, closes)
	}
	if closed, err := busy.closedByServer(); !closed {
		t.Errorf("connection open after the call answered during the drain: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// BenchmarkAPIEmitKeepAlive: sequential emits on one keep-alive connection over loopback
// through the service's API, served by the lane (Run) or by net/http alone (Handler on a plain
// server). cpu-ns/op is the process's CPU per emit, the test's client included (it parses
// the answers with net/http's ReadResponse on both sides).
func BenchmarkAPIEmitKeepAlive(b *testing.B) {
	service := func(b *testing.B) *Service {
		s, err := New(testConfig(nil), slog.New(slog.NewTextHandler(io.Discard, nil)), Options{Stdout: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	b.Run("lane", func(b *testing.B) {
		s := service(b)
		ctx, cancel := context.WithCancel(context.Background())
		addrc, done := make(chan Addrs, 1), make(chan error, 1)
		go func() { done <- s.Run(ctx, func(a Addrs) { addrc <- a }) }()
		defer func() { cancel(); <-done }()
		benchmarkEmits(b, (<-addrc).Main)
		if s.apiLane.Stats().Requests == 0 {
			b.Fatal("the lane served nothing")
		}
	})
	b.Run("net-http", func(b *testing.B) {
		s := service(b)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: idleTimeout}
		go srv.Serve(ln)
		defer srv.Close()
		benchmarkEmits(b, ln.Addr())
	})
}

func benchmarkEmits(b *testing.B, addr net.Addr) {
	c := dialAPI(b, addr)
	emit := laneEmit("")
	var before, after syscall.Rusage
	b.ReportAllocs()
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	for b.Loop() {
		c.send(emit)
		if status, _, _ := c.answer(); status != 200 {
			b.Fatalf("status %d", status)
		}
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano()
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}

// nodeFetchEmits sends N emits one after the other with Node.js's fetch (undici), as a
// Node.js backend does, and prints how many were answered 200 with success.
const nodeFetchEmits = `
const url = process.env.API_URL + '/api/v1/internal/emit';
(async () => {
  let ok = 0;
  for (let i = 0; i < Number(process.env.N); i++) {
    const res = await fetch(url, {
      method: 'POST',
      headers: {'content-type': 'application/json', 'x-internal-key': 'key'},
      body: JSON.stringify({event: 'order:update', room: 'user:' + i, payload: {id: i, note: 'caf\u00e9'}}),
    });
    const body = await res.json();
    if (res.status === 200 && body.success === true) ok++;
  }
  console.log(ok);
})().catch((e) => { console.error(e); process.exit(1); });
`

// Node.js's fetch sends headers Go's client does not (sec-fetch-mode, accept-language,
// connection: keep-alive...): the lane must take them all, or every call would go back to
// net/http and the lane would silently do nothing for Node.js backends.
func TestNodeFetchKeepAliveIsServedByTheLane(t *testing.T) {
	testutil.CheckGoroutines(t)
	testutil.NodeDir(t)
	s := newTestService(t, nil)
	addrs := runService(t, s)
	const n = 50
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := testutil.RunNode(ctx, t, nodeFetchEmits, "API_URL=http://"+addrs.Main.String(), fmt.Sprintf("N=%d", n))
	if got := strings.TrimSpace(string(out)); got != fmt.Sprint(n) {
		t.Fatalf("%s emits answered 200 with success, want %d", got, n)
	}
	st := s.apiLane.Stats()
	if st.Handbacks != 0 || st.Takeovers == 0 || st.Takeovers+st.Requests != n {
		t.Errorf("%+v: want every call served by the lane, none handed back", st)
	}
	// Operators see the same on /metrics.
	resp, err := http.Get("http://" + addrs.Main.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		fmt.Sprintf("realtime_api_lane_takeovers_total %d\n", st.Takeovers),
		fmt.Sprintf("realtime_api_lane_requests_total %d\n", st.Requests),
		"realtime_api_lane_handbacks_total 0\n",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
