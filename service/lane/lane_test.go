package lane

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
)

// harness serves a handler the way the service does: a main http.Server whose handler offers
// the lane every request under /api/, and a fallback server on the lane's Listener with the
// same handler. /health and other paths are served by net/http only.
type harness struct {
	lane *Lane
	addr string
	log  *testutil.LogBuffer
}

const testMaxHeader = 4096

func start(t testing.TB, h http.Handler, mod func(*Config)) *harness {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &testutil.LogBuffer{}
	cfg := Config{
		Handler:        h,
		Serves:         func(method, path string) bool { return strings.HasPrefix(path, "/api/") },
		Headers:        []string{"X-Key"},
		MaxBody:        1 << 20,
		MaxHeaderBytes: testMaxHeader,
		Fallback:       NewListener(ln.Addr()),
		Logger:         slog.New(slog.NewTextHandler(logs, nil)),
	}
	if mod != nil {
		mod(&cfg)
	}
	l := New(cfg)
	mux := plainMux(h)
	router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") && l.TakeOver(w, r) {
			return
		}
		mux.ServeHTTP(w, r)
	})
	srv, fallback := plainServer(router), plainServer(router)
	done := make(chan struct{}, 2)
	go func() { srv.Serve(ln); done <- struct{}{} }()
	go func() { fallback.Serve(cfg.Fallback); done <- struct{}{} }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := l.Shutdown(ctx); err != nil {
			t.Errorf("lane shutdown: %v", err)
		}
		fallback.Shutdown(ctx)
		<-done
		<-done
	})
	return &harness{lane: l, addr: ln.Addr().String(), log: logs}
}

// plainMux routes as the harness does without the lane.
func plainMux(h http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/api/", h)
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "healthy") })
	return mux
}

// plainServer has the settings both sides of a comparison share; a head beyond its limit
// (MaxHeaderBytes plus net/http's 4 KiB of slack) is a 431.
func plainServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 2 * testMaxHeader}
}

// startPlain serves h behind plainMux with net/http alone.
func startPlain(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := plainServer(plainMux(h))
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return ln.Addr().String()
}

// echo answers what it was asked, and whether the lane's writer served it.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	_, lane := w.(*response)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"method":%q,"path":%q,"query":%q,"host":%q,"key":%q,"body":%d,"lane":%t}`,
		r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.Header.Get("X-Key"), len(body), lane)
})

func post(path, body string, extra ...string) string {
	return "POST " + path + " HTTP/1.1\r\nHost: test\r\nX-Key: k\r\n" + strings.Join(extra, "") +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatal(err)
	}
}

// readAnswer reads one answer and its body.
func readAnswer(t *testing.T, br *bufio.Reader) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// waitClosed fails unless the server closes c within limit, and returns when it did.
func waitClosed(t *testing.T, c net.Conn, br *bufio.Reader, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(start.Add(limit))
	_, err := br.ReadByte()
	if err == nil || errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		t.Fatalf("connection not closed within %v: %v", limit, err)
	}
	return time.Since(start)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestKeepAliveRequestsAreServedByTheLane(t *testing.T) {
	testutil.CheckGoroutines(t)
	h := start(t, echo, nil)
	tr := &http.Transport{MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	const n = 50
	for i := range n {
		// Some bodies are larger than the read buffer: the handler reads them from the
		// connection.
		size := i * 37
		if i%10 == 9 {
			size = 100 << 10
		}
		req, _ := http.NewRequest("POST", fmt.Sprintf("http://%s/api/emit?i=%d", h.addr, i), strings.NewReader(strings.Repeat("x", size)))
		req.Header.Set("x-key", fmt.Sprint("key", i%3))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := fmt.Sprintf(`{"method":"POST","path":"/api/emit","query":"i=%d","host":%q,"key":"key%d","body":%d,"lane":true}`, i, h.addr, i%3, size)
		if resp.StatusCode != 200 || string(b) != want {
			t.Fatalf("request %d: %d %s, want %s", i, resp.StatusCode, b, want)
		}
		if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil {
			t.Fatalf("request %d: Date %q", i, resp.Header.Get("Date"))
		}
	}
	if st := h.lane.Stats(); st.Takeovers != 1 || st.Requests != n-1 || st.Handbacks != 0 {
		t.Errorf("stats %+v: want one takeover and %d requests read by the lane", st, n-1)
	}
}

// fixed answers with a fixed Date, so that the bytes of its answers are known.
var fixed = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header()["Date"] = []string{"Mon, 01 Jan 2024 00:00:00 GMT"}
	w.Header()["Content-Type"] = []string{"text/plain"}
	w.Write([]byte(strings.ToUpper(string(b))))
})

func TestPipelinedRequestsAreAnsweredInOrder(t *testing.T) {
	testutil.CheckGoroutines(t)
	h := start(t, fixed, nil)
	c, _ := dial(t, h.addr)
	var reqs, want strings.Builder
	answer := func(body, conn string) string {
		return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n" +
			fmt.Sprintf("Content-Length: %d\r\n", len(body)) + conn + "\r\n" + strings.ToUpper(body)
	}
	for i := range 6 {
		body := strings.Repeat(string(rune('a'+i)), i)
		reqs.WriteString(post("/api/p", body))
		want.WriteString(answer(body, ""))
	}
	reqs.WriteString(post("/api/p", "end", "Connection: close\r\n"))
	want.WriteString(answer("end", "Connection: close\r\n"))
	write(t, c, reqs.String())
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want.String() {
		t.Errorf("answers:\n%q\nwant\n%q", got, want.String())
	}
	if st := h.lane.Stats(); st.Requests != 6 {
		t.Errorf("the lane read %d requests, want 6", st.Requests)
	}
}

func TestHandedBackThenTakenOverAgain(t *testing.T) {
	testutil.CheckGoroutines(t)
	h := start(t, echo, nil)
	c, br := dial(t, h.addr)
	write(t, c, post("/api/a", "1"))
	if _, body := readAnswer(t, br); !strings.Contains(body, `"lane":true`) {
		t.Fatalf("first answer %s", body)
	}
	write(t, c, "GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
	if resp, body := readAnswer(t, br); resp.StatusCode != 200 || body != "healthy" {
		t.Fatalf("health: %d %s", resp.StatusCode, body)
	}
	// Pipelined behind a request net/http reads: the lane takes the connection again at
	// the first and serves the second itself.
	write(t, c, post("/api/b", "22")+post("/api/c", "333"))
	for _, want := range []string{`"path":"/api/b","query":"","host":"test","key":"k","body":2,"lane":true`, `"path":"/api/c","query":"","host":"test","key":"k","body":3,"lane":true`} {
		if _, body := readAnswer(t, br); !strings.Contains(body, want) {
			t.Fatalf("answer %s, want %s", body, want)
		}
	}
	if st := h.lane.Stats(); st.Takeovers != 2 || st.Handbacks != 1 || st.Requests != 1 {
		t.Errorf("stats %+v, want 2 takeovers, 1 handback, 1 request read by the lane", st)
	}
}

// What the lane does not take must be answered as net/http alone answers it: each input
// follows a request the lane served, and the status line of its answer is compared with a
// plain server's to the same bytes.
func TestHandedBackRequestsAreAnsweredAsByNetHTTP(t *testing.T) {
	testutil.CheckGoroutines(t)
	h := start(t, echo, nil)
	plain := startPlain(t, echo)
	for name, in := range map[string]string{
		"bad request line":      "GARBAGE\r\n\r\n",
		"space in target":       "POST /api/a b HTTP/1.1\r\nHost: test\r\n\r\n",
		"obs-fold":              "POST /api/x HTTP/1.1\r\nHost: test\r\nX-Key: a\r\n b\r\nContent-Length: 0\r\n\r\n",
		"bare LF":               "POST /api/x HTTP/1.1\nHost: test\nContent-Length: 0\n\n",
		"duplicate length":      "POST /api/x HTTP/1.1\r\nHost: test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		"same length twice":     "POST /api/x HTTP/1.1\r\nHost: test\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab",
		"chunked":               "POST /api/x HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"expect 100-continue":   "POST /api/x HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
		"too large head":        "POST /api/x HTTP/1.1\r\nHost: test\r\nX-Big: " + strings.Repeat("b", 5*testMaxHeader) + "\r\n\r\n",
		"large head":            "POST /api/x HTTP/1.1\r\nHost: test\r\nX-Big: " + strings.Repeat("b", testMaxHeader) + "\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.0":              "POST /api/x HTTP/1.0\r\nHost: test\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 lower case":   "POST /api/x http/1.1\r\nHost: test\r\n\r\n",
		"absolute form":         "POST http://test/api/x HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n",
		"missing Host":          "POST /api/x HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
		"two Hosts":             "POST /api/x HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 0\r\n\r\n",
		"invalid header byte":   "POST /api/x HTTP/1.1\r\nHost: test\r\nX-Key: a\x01b\r\nContent-Length: 0\r\n\r\n",
		"space before colon":    "POST /api/x HTTP/1.1\r\nHost: test\r\nX-Key : a\r\nContent-Length: 0\r\n\r\n",
		"bad length":            "POST /api/x HTTP/1.1\r\nHost: test\r\nContent-Length: 1x\r\n\r\n",
		"escaped path":          "POST /api/%78 HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n",
		"other path":            "GET /nope HTTP/1.1\r\nHost: test\r\n\r\n",
		"health":                "GET /health HTTP/1.1\r\nHost: test\r\n\r\n",
		"websocket upgrade":     "GET /api/x HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
		"body beyond MaxBody":   "POST /api/x HTTP/1.1\r\nHost: test\r\nContent-Length: 2000000\r\n\r\n" + strings.Repeat("z", 2000000),
		"carriage return alone": "POST /api/x HTTP/1.1\r\nHost: test\r\nX-Key: a\rb\r\nContent-Length: 0\r\n\r\n",
	} {
		first := post("/api/first", "")
		want := statusAfter(t, plain, first, in)
		before := h.lane.Stats().Handbacks
		got := statusAfter(t, h.addr, first, in)
		if got != want {
			t.Errorf("%s: the lane's side answered %q, net/http alone %q", name, got, want)
		}
		if after := h.lane.Stats().Handbacks; after != before+1 {
			t.Errorf("%s: %d handbacks, want 1", name, after-before)
		}
	}
}

// statusAfter sends first, reads its answer, sends in and returns the status line of the
// answer to in.
func statusAfter(t *testing.T, addr, first, in string) string {
	t.Helper()
	c, br := dial(t, addr)
	defer c.Close()
	write(t, c, first)
	readAnswer(t, br)
	// A server that stops reading a head that is too large still answers it.
	go io.WriteString(c, in)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := br.ReadString('\n')
	if err != nil && line == "" {
		return "error: " + err.Error()
	}
	return line
}

func TestTrickledRequestIsCutOff(t *testing.T) {
	testutil.CheckGoroutines(t)
	const timeout = 300 * time.Millisecond
	h := start(t, echo, func(c *Config) { c.RequestTimeout = timeout; c.IdleTimeout = time.Minute })
	c, br := dial(t, h.addr)
	write(t, c, post("/api/a", "x"))
	readAnswer(t, br)
	stop := make(chan struct{})
	trickled := make(chan struct{})
	go func() {
		defer close(trickled)
		tick := time.NewTicker(timeout / 10)
		defer tick.Stop()
		for _, b := range []byte(post("/api/b", strings.Repeat("y", 1000))) {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
		}
	}()
	took := waitClosed(t, c, br, 20*timeout)
	close(stop)
	<-trickled
	if took < timeout-timeout/5 {
		t.Errorf("closed after %v, before RequestTimeout (%v)", took, timeout)
	}
}

// The idle deadline holds even after a handler lifted the read deadline for a body it read
// from the connection (as the API does once a body is in).
func TestIdleConnectionIsClosed(t *testing.T) {
	testutil.CheckGoroutines(t)
	const idle = 300 * time.Millisecond
	lifting := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).SetReadDeadline(time.Time{})
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, n)
	})
	h := start(t, lifting, func(c *Config) { c.IdleTimeout = idle })
	c, br := dial(t, h.addr)
	write(t, c, post("/api/a", "x"))
	readAnswer(t, br)
	big := strings.Repeat("b", 64<<10)
	write(t, c, post("/api/b", big))
	if _, body := readAnswer(t, br); body != fmt.Sprint(len(big)) {
		t.Fatalf("answer %q", body)
	}
	if took := waitClosed(t, c, br, 20*idle); took < idle-idle/5 {
		t.Errorf("closed after %v, before IdleTimeout (%v)", took, idle)
	}
}

// A client that sends requests and never reads the answers holds the lane's goroutine only
// until the write deadline: the lane closes the connection, which the client, still sending,
// sees as an error.
func TestClientThatDoesNotReadIsDropped(t *testing.T) {
	testutil.CheckGoroutines(t)
	const timeout = 300 * time.Millisecond
	big := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 256<<10))
	})
	h := start(t, big, func(c *Config) { c.RequestTimeout = timeout })
	c, _ := dial(t, h.addr)
	start := time.Now()
	failed := make(chan error, 1)
	go func() {
		// Requests until the connection fails: their answers fill both sides' buffers,
		// then the lane stops reading, and this write blocks until the lane gives up.
		reqs := []byte(strings.Repeat(post("/api/a", ""), 16))
		for {
			if _, err := c.Write(reqs); err != nil {
				failed <- err
				return
			}
		}
	}()
	select {
	case err := <-failed:
		if took := time.Since(start); took < timeout {
			t.Errorf("dropped after %v (%v), before the write deadline", took, err)
		}
	case <-time.After(30 * timeout):
		t.Fatal("the connection of a client that does not read is still open")
	}
	if st := h.lane.Stats(); st.Takeovers != 1 {
		t.Errorf("%d takeovers", st.Takeovers)
	}
}

func TestShutdownClosesIdleConnectionsAndFinishesRequests(t *testing.T) {
	testutil.CheckGoroutines(t)
	entered, release := make(chan struct{}), make(chan struct{})
	h := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/slow" {
			close(entered)
			<-release
		}
		io.WriteString(w, "done")
	}), nil)
	idle, idleBr := dial(t, h.addr)
	write(t, idle, post("/api/a", ""))
	readAnswer(t, idleBr)
	busy, busyBr := dial(t, h.addr)
	write(t, busy, post("/api/a", ""))
	readAnswer(t, busyBr)
	write(t, busy, post("/api/slow", ""))
	<-entered

	shut := make(chan error, 1)
	go func() { shut <- h.lane.Shutdown(context.Background()) }()
	waitClosed(t, idle, idleBr, 5*time.Second)
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) with a request in progress", err)
	default:
	}
	close(release)
	resp, body := readAnswer(t, busyBr)
	if body != "done" || !resp.Close {
		t.Errorf("in-flight answer %q, close=%v; want done and Connection: close", body, resp.Close)
	}
	waitClosed(t, busy, busyBr, 5*time.Second)
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	// After Shutdown the lane takes nothing: net/http serves the API itself.
	c, br := dial(t, h.addr)
	write(t, c, post("/api/a", ""))
	if _, body := readAnswer(t, br); body != "done" {
		t.Errorf("after Shutdown: %q", body)
	}
	if st := h.lane.Stats(); st.Takeovers != 2 {
		t.Errorf("%d takeovers, want 2 (none after Shutdown)", st.Takeovers)
	}
}

func TestHandlerPanicClosesTheConnection(t *testing.T) {
	testutil.CheckGoroutines(t)
	h := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/abort":
			panic(http.ErrAbortHandler)
		case "/api/panic":
			panic("boom")
		}
	}), nil)
	for _, path := range []string{"/api/abort", "/api/panic"} {
		c, br := dial(t, h.addr)
		write(t, c, post("/api/a", ""))
		readAnswer(t, br)
		write(t, c, post(path, ""))
		waitClosed(t, c, br, 5*time.Second)
	}
	logged := h.log.String()
	if strings.Count(logged, "lane: panic serving") != 1 || !strings.Contains(logged, "boom") || !strings.Contains(logged, "goroutine ") {
		t.Errorf("want one panic logged with its stack, got:\n%s", logged)
	}
}

// A handler that leaves the body unread (the API's refusals do) gets its answer out, and the
// connection closes after it, as net/http does for a body it cannot skip.
func TestUnreadBodyClosesAfterTheAnswer(t *testing.T) {
	testutil.CheckGoroutines(t)
	h := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/read" {
			io.Copy(io.Discard, r.Body)
			return
		}
		http.NewResponseController(w).SetReadDeadline(time.Now())
		w.WriteHeader(http.StatusForbidden)
	}), nil)
	c, br := dial(t, h.addr)
	write(t, c, post("/api/read", "body")+post("/api/skip", "body")+post("/api/read", "never answered"))
	for _, want := range []int{http.StatusOK, http.StatusForbidden} {
		if resp, _ := readAnswer(t, br); resp.StatusCode != want || resp.Close != (want == http.StatusForbidden) {
			t.Fatalf("status %d close=%v, want %d", resp.StatusCode, resp.Close, want)
		}
	}
	waitClosed(t, c, br, 5*time.Second)
}

func TestHandedBackConnectionReplaysFirst(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	hc := &handedConn{Conn: a, saved: []byte("saved")}
	if _, err := hc.SyscallConn(); !errors.Is(err, errSaved) {
		t.Errorf("descriptor given with bytes to replay: %v", err)
	}
	go io.WriteString(b, "-then-conn")
	var got []byte
	buf := make([]byte, 3)
	for len(got) < len("saved-then-conn") {
		n, err := hc.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "saved-then-conn" {
		t.Errorf("read %q", got)
	}
	if _, err := hc.SyscallConn(); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("a pipe has no descriptor: %v", err)
	}
}

func TestListenerCloseEndsAccept(t *testing.T) {
	l := NewListener(&net.TCPAddr{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v", err)
		}
	}()
	l.Close()
	wg.Wait()
	a, b := net.Pipe()
	defer b.Close()
	l.handOff(a) // closes a: nobody will accept it
	if _, err := a.Write([]byte("x")); err == nil {
		t.Error("a connection handed to a closed Listener is still open")
	}
}

// A head that arrives in pieces is read right when the buffer moves under it: it grows past
// the read buffer (4 KiB) and, after a pipelined request before it was consumed, the bytes
// are moved to the buffer's start. The parser goes on from where it stopped between pieces,
// so its view of the head must start over whenever the bytes move.
func TestHeadInPiecesAcrossBufferMoves(t *testing.T) {
	testutil.CheckGoroutines(t)
	h := start(t, echo, func(c *Config) { c.MaxHeaderBytes = 32 << 10 })
	c, br := dial(t, h.addr)
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	write(t, c, post("/api/first", "x"))
	readAnswer(t, br)
	for i := range 8 {
		key := fmt.Sprintf("%d-%s", i, strings.Repeat("k", 900*(i+1)))
		a := post("/api/a", strings.Repeat("a", 3000))
		b := "POST /api/b?i=" + fmt.Sprint(i) + " HTTP/1.1\r\nHost: test\r\nX-Key: " + key + "\r\nX-Other: " +
			strings.Repeat("o", 700) + "\r\nContent-Length: 2\r\n\r\nbb"
		write(t, c, a+b[:100])
		for rest := b[100:]; rest != ""; {
			n := min(len(rest), 61)
			write(t, c, rest[:n])
			rest = rest[n:]
		}
		if resp, body := readAnswer(t, br); resp.StatusCode != 200 || !strings.Contains(body, `"body":3000`) {
			t.Fatalf("round %d, first request: %d %.200s", i, resp.StatusCode, body)
		}
		want := fmt.Sprintf(`{"method":"POST","path":"/api/b","query":"i=%d","host":"test","key":%q,"body":2,"lane":true}`, i, key)
		if resp, body := readAnswer(t, br); resp.StatusCode != 200 || body != want {
			t.Fatalf("round %d, second request: %d %.300s", i, resp.StatusCode, body)
		}
	}
	if st := h.lane.Stats(); st.Handbacks != 0 {
		t.Errorf("stats %+v: a head was handed back", st)
	}
}
