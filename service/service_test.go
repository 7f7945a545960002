package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tomato-code/realtime/adapter/redis"
	"github.com/tomato-code/realtime/adapter/redis/wire"
	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/service/config"
	"github.com/tomato-code/realtime/socketio"
)

func testConfig(mod func(*config.Config)) *config.Config {
	c := &config.Config{
		JWTSecret: strings.Repeat("s", 32), InternalServiceKey: "key", Port: 0, Host: "127.0.0.1",
		APIMaxBody: config.DefaultAPIMaxBody, DrainDuration: 0, ShutdownTimeout: config.DefaultShutdownTimeout,
		PingInterval: config.DefaultPingInterval, PingTimeout: config.DefaultPingTimeout,
	}
	if mod != nil {
		mod(c)
	}
	return c
}

func newTestService(t *testing.T, mod func(*config.Config)) *Service {
	t.Helper()
	s, err := New(testConfig(mod), slog.New(slog.NewTextHandler(io.Discard, nil)), Options{Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func request(t *testing.T, h http.Handler, method, path string, header map[string]string) *http.Response {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest(method, srv.URL+path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	srv.Client().CloseIdleConnections()
	return resp
}

func TestRoutesOfTheMainListener(t *testing.T) {
	testutil.CheckGoroutines(t)
	s := newTestService(t, nil)
	h := s.Handler()
	for path, want := range map[string]int{
		"/health": 200, "/ready": 200, "/metrics": 200, "/": 404, "/nope": 404,
		"/api/v1/internal/sockets?room=r": 403, // mounted, and the key comes first
	} {
		if got := request(t, h, "GET", path, nil).StatusCode; got != want {
			t.Errorf("GET %s: %d, want %d", path, got, want)
		}
	}
	dev := newTestService(t, func(c *config.Config) { c.DevPage = true })
	if got := request(t, dev.Handler(), "GET", "/", nil).StatusCode; got != 200 {
		t.Errorf("DEV_PAGE: / answered %d", got)
	}
}

// The router takes some paths before the mux; each request here must get from it what the
// mux alone answers, on both listeners. Locations are compared too, for the mux's redirects.
func TestRouterAnswersAsTheMux(t *testing.T) {
	testutil.CheckGoroutines(t)
	key := map[string]string{"x-internal-key": "key"}
	for _, internal := range []bool{false, true} {
		s := newTestService(t, func(c *config.Config) {
			if internal {
				c.InternalAddr = "127.0.0.1:0"
			}
		})
		handlers := []http.Handler{s.Handler(), s.InternalHandler()}
		for i, h := range handlers {
			rt, ok := h.(*router)
			if !ok {
				t.Fatalf("handler %d is a %T", i, h)
			}
			for _, req := range []struct{ method, path string }{
				{"POST", "/api/v1/internal/emit"}, {"GET", "/api/v1/internal/emit"},
				{"POST", "/api/v1/internal/emit/batch"}, {"POST", "/api/v1/internal/rooms/join"},
				{"POST", "/api/v1/internal/rooms/leave"}, {"POST", "/api/v1/internal/disconnect"},
				{"GET", "/api/v1/internal/sockets?room=r"}, {"POST", "/api/v1/internal/sockets"},
				{"GET", "/api/v1/internal/emit/"}, {"GET", "/api/v1/internal//emit"},
				{"GET", "/api/v1/internal/x/../emit"}, {"GET", "/api/v1/internal"},
				{"GET", "/socket.io/?EIO=3&transport=polling"}, {"GET", "/socket.io"},
				{"GET", "/socket.io//"}, {"GET", "/socket.io/socket.io.js"},
				{"GET", "/health"}, {"GET", "/nope"},
			} {
				want := request(t, rt.mux, req.method, req.path, key)
				got := request(t, rt, req.method, req.path, key)
				if got.StatusCode != want.StatusCode || got.Header.Get("Location") != want.Header.Get("Location") {
					t.Errorf("internal=%v handler %d: %s %s: %d %q, the mux answers %d %q", internal, i, req.method, req.path,
						got.StatusCode, got.Header.Get("Location"), want.StatusCode, want.Header.Get("Location"))
				}
			}
		}
	}
}

func TestInternalAddrMovesTheAPI(t *testing.T) {
	testutil.CheckGoroutines(t)
	s := newTestService(t, func(c *config.Config) { c.InternalAddr = "127.0.0.1:0" })
	if got := request(t, s.Handler(), "GET", "/api/v1/internal/sockets?room=r", map[string]string{"x-internal-key": "key"}).StatusCode; got != 404 {
		t.Errorf("API on the main listener: %d, want 404", got)
	}
	if got := request(t, s.InternalHandler(), "GET", "/api/v1/internal/sockets?room=r", map[string]string{"x-internal-key": "key"}).StatusCode; got != 200 {
		t.Errorf("API on the internal listener: %d, want 200", got)
	}
	if got := request(t, s.InternalHandler(), "GET", "/health", nil).StatusCode; got != 200 {
		t.Errorf("health on the internal listener: %d", got)
	}
}

func TestCORS(t *testing.T) {
	testutil.CheckGoroutines(t)
	handshake := "/socket.io/?EIO=4&transport=polling"
	open := newTestService(t, nil)
	resp := request(t, open.Handler(), "GET", handshake, map[string]string{"Origin": "https://anywhere.example"})
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("without FRONTEND_URL: %v", resp.Header)
	}
	listed := newTestService(t, func(c *config.Config) { c.FrontendURLs = []string{"https://app.example"} })
	resp = request(t, listed.Handler(), "GET", handshake, map[string]string{"Origin": "https://app.example"})
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("listed origin: %v", resp.Header)
	}
	resp = request(t, listed.Handler(), "GET", handshake, map[string]string{"Origin": "https://evil.example"})
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("unlisted origin got CORS headers: %v", resp.Header)
	}
	// The handshakes opened polling sessions whose clients never poll again: close them
	// without waiting for a next poll.
	for _, s := range []*Service{open, listed} {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		s.io.Engine().Shutdown(ctx)
		cancel()
	}
}

func TestDrainingRefusesNewSessions(t *testing.T) {
	testutil.CheckGoroutines(t)
	s := newTestService(t, nil)
	s.draining.Store(true)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Code    int
		Message string
	}
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 403 || body.Code != 4 || body.Message != errDraining.Error() {
		t.Fatalf("handshake while draining: %d %+v", resp.StatusCode, body)
	}
	srv.Client().CloseIdleConnections()
}

func TestNewRefusesBadSettings(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := New(testConfig(func(c *config.Config) { c.JWTSecret = "" }), log, Options{}); err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Errorf("no secret: %v", err)
	}
	if _, err := New(testConfig(func(c *config.Config) { c.RedisURL = "redis://x:1" }), log, Options{}); err == nil || !strings.Contains(err.Error(), "REDIS_URL") {
		t.Errorf("REDIS_URL without an adapter: %v", err)
	}
	if _, err := New(testConfig(func(c *config.Config) { c.JWTSecret, c.JWTPublicKeyFile = "", "/nonexistent.pem" }), log, Options{}); err == nil || !strings.Contains(err.Error(), "JWT_PUBLIC_KEY_FILE") {
		t.Errorf("missing key file: %v", err)
	}
}

func TestOrderID(t *testing.T) {
	for raw, want := range map[string]string{`"o1"`: "o1", `7`: "7", `7.0`: "7", `1.5`: "1.5", `""`: "", `null`: "", `{}`: "", `[1]`: "", ``: ""} {
		got, ok := orderID(json.RawMessage(raw))
		if got != want || ok != (want != "") {
			t.Errorf("orderID(%s) = %q, %v; want %q", raw, got, ok, want)
		}
	}
}

func TestDebugAddrServesProfilesOnItsOwnListener(t *testing.T) {
	testutil.CheckGoroutines(t)
	s := newTestService(t, func(c *config.Config) { c.DebugAddr = "127.0.0.1:0" })
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan Addrs, 1)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, func(a Addrs) { addrc <- a }) }()
	addrs := <-addrc
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(addr net.Addr, path string) int {
		t.Helper()
		resp, err := client.Get("http://" + addr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(addrs.Debug, "/debug/pprof/heap?debug=1"); got != 200 {
		t.Errorf("heap profile on DEBUG_ADDR: %d", got)
	}
	if got := get(addrs.Main, "/debug/pprof/heap?debug=1"); got != 404 {
		t.Errorf("heap profile on the main listener: %d, want 404", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get("http://" + addrs.Debug.String() + "/debug/pprof/"); err == nil {
		t.Error("DEBUG_ADDR still answers after Run returned")
	}
}

func TestDebugAddrInUseClosesTheOtherListeners(t *testing.T) {
	testutil.CheckGoroutines(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	// A free port for INTERNAL_ADDR: listening there again after Run failed shows it was closed.
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	internal := probe.Addr().String()
	probe.Close()
	s := newTestService(t, func(c *config.Config) {
		c.InternalAddr = internal
		c.DebugAddr = taken.Addr().String()
	})
	err = s.Run(context.Background(), func(Addrs) { t.Error("ready called although DEBUG_ADDR is taken") })
	if err == nil || !strings.Contains(err.Error(), "DEBUG_ADDR") {
		t.Fatalf("Run: %v, want a DEBUG_ADDR listen error", err)
	}
	again, err := net.Listen("tcp", internal)
	if err != nil {
		t.Fatalf("INTERNAL_ADDR still held after Run failed: %v", err)
	}
	again.Close()
}

// closeRecorder is the in-memory adapter, counting its Close calls.
type closeRecorder struct {
	*socketio.MemoryAdapter
	closed *atomic.Int32
}

func (a closeRecorder) Close() error {
	a.closed.Add(1)
	return a.MemoryAdapter.Close()
}

// A Run that cannot listen releases what New made, as the drain does after serving: a library
// user gets the error and nothing left behind (a cluster adapter's subscriptions, sessions).
func TestRunThatCannotListenClosesTheSocketIOServer(t *testing.T) {
	testutil.CheckGoroutines(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	var mu sync.Mutex
	closes := map[string]*atomic.Int32{}
	factory := func(ns socketio.LocalNamespace) socketio.Adapter {
		mu.Lock()
		defer mu.Unlock()
		n := new(atomic.Int32)
		closes[ns.Name()] = n
		return closeRecorder{MemoryAdapter: socketio.NewMemoryAdapter(ns), closed: n}
	}
	cfg := testConfig(func(c *config.Config) {
		c.Port = taken.Addr().(*net.TCPAddr).Port
		c.Namespaces = []string{"/orders"}
	})
	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{Stdout: io.Discard, Adapter: factory})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Run(context.Background(), func(Addrs) { t.Error("ready called although PORT is taken") })
	if err == nil || !strings.Contains(err.Error(), "HOST/PORT") {
		t.Fatalf("Run: %v, want a HOST/PORT listen error", err)
	}
	mu.Lock()
	for _, name := range []string{"/", "/orders"} {
		if n := closes[name]; n == nil {
			t.Errorf("no adapter made for %s", name)
		} else if got := n.Load(); got != 1 {
			t.Errorf("adapter of %s: closed %d times, want once", name, got)
		}
	}
	mu.Unlock()
	// The engine is shut down: a handshake is refused as during a drain.
	if got := request(t, s.Handler(), "GET", "/socket.io/?EIO=4&transport=polling", nil).StatusCode; got != http.StatusServiceUnavailable {
		t.Errorf("handshake after Run failed: %d, want 503", got)
	}
}

// Other nodes count this one by its subscription to the request channel (PUBSUB NUMSUB, as
// Node.js does) and wait for its answers: a Run that cannot listen must drop the Redis
// adapter's subscriptions, not leave a node that serves nobody in the cluster.
func TestRunThatCannotListenLeavesTheRedisCluster(t *testing.T) {
	const addr = "127.0.0.1:6379"
	if c, err := net.DialTimeout("tcp", addr, time.Second); err != nil {
		t.Skipf("no Redis at %s: %v", addr, err)
	} else {
		c.Close()
	}
	testutil.CheckGoroutines(t)
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	key := fmt.Sprintf("run-fails-%d", time.Now().UnixNano()) // channels of this test only
	cl, err := redis.New(redis.Config{URL: "redis://" + addr, Key: key, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rc := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rc.Close()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()

	s, err := New(testConfig(func(c *config.Config) { c.Port = taken.Addr().(*net.TCPAddr).Port }), discard,
		Options{Stdout: io.Discard, Adapter: cl.NewAdapter})
	if err != nil {
		t.Fatal(err)
	}
	req := wire.NewChannels(key, "/").Request
	// The subscriptions follow registrations on the Cluster's own goroutine, which tells
	// nobody when it is done: poll Redis for the count.
	waitNumSub := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			n, err := rc.PubSubNumSub(context.Background(), req).Result()
			if err == nil && n[req] == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("NUMSUB %s = %v, %v; want %d", req, n, err, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitNumSub(1)
	if err := s.Run(context.Background(), func(Addrs) { t.Error("ready called although PORT is taken") }); err == nil {
		t.Fatal("Run succeeded on a taken PORT")
	}
	waitNumSub(0)
}

// TestStalledRequestBodyIsCutOff: a request whose body stops arriving, to a handler that does
// not read it, is answered and its connection closed once requestReadTimeout has passed,
// instead of being held for as long as the client keeps it open.
func TestStalledRequestBodyIsCutOff(t *testing.T) {
	testutil.CheckGoroutines(t)
	shortenRequestReadTimeout(t, 200*time.Millisecond)
	s := newTestService(t, nil)
	addrs := runService(t, s)
	conn, err := net.Dial("tcp", addrs.Main.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\""); err != nil {
		t.Fatal(err)
	}
	// The test's own bound: without a read timeout the server waits for the other 96 bytes.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("the connection with a stalled body is still open: %v (read %q)", err, got)
	}
	if !strings.HasPrefix(string(got), "HTTP/1.1 404 ") {
		t.Errorf("answer %q, want a 404", got)
	}
}

// TestLongPollOutlivesRequestReadTimeout: the read timeout bounds reading a request, not
// answering it: a long poll waits for its ping as long as the heartbeat says.
func TestLongPollOutlivesRequestReadTimeout(t *testing.T) {
	testutil.CheckGoroutines(t)
	shortenRequestReadTimeout(t, 100*time.Millisecond)
	const ping = 600 * time.Millisecond
	s := newTestService(t, func(c *config.Config) { c.PingInterval = ping })
	addrs := runService(t, s)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	get := func(query string) string {
		t.Helper()
		resp, err := client.Get("http://" + addrs.Main.String() + "/socket.io/?EIO=4&transport=polling" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", query, resp.StatusCode, body)
		}
		return string(body)
	}
	open := get("")
	_, rest, ok := strings.Cut(open, `"sid":"`)
	sid, _, _ := strings.Cut(rest, `"`)
	if !ok || sid == "" {
		t.Fatalf("open packet %q", open)
	}
	start := time.Now()
	if body := get("&sid=" + sid); body != "2" {
		t.Fatalf("long poll answered %q, want the ping", body)
	}
	if d := time.Since(start); d < ping/2 {
		t.Fatalf("long poll answered after %v, before the ping was due", d)
	}
	// The client leaves, so that the shutdown has no session to wait for.
	resp, err := client.Post("http://"+addrs.Main.String()+"/socket.io/?EIO=4&transport=polling&sid="+sid, "text/plain;charset=UTF-8", strings.NewReader("1"))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// runService runs s until the test ends, then checks that Run returned without an error.
func runService(t *testing.T, s *Service) Addrs {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan Addrs, 1)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, func(a Addrs) { addrc <- a }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	select {
	case a := <-addrc:
		return a
	case err := <-done:
		t.Fatalf("Run returned before listening: %v", err)
		return Addrs{}
	}
}

// shortenRequestReadTimeout sets requestReadTimeout for the services the test runs, until it
// ends; call it before runService.
func shortenRequestReadTimeout(t *testing.T, d time.Duration) {
	old := requestReadTimeout
	requestReadTimeout = d
	t.Cleanup(func() { requestReadTimeout = old })
}
