package engineio

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// testTimeout bounds every wait of a test for something the server should do.
const testTimeout = 5 * time.Second

type message struct {
	data   string
	binary bool
}

type closeEvent struct {
	reason string
	err    error
}

// recorder is a SessionHandler that records what it receives, and echoes it when asked.
type recorder struct {
	s      *Session
	echo   bool
	msgs   chan message
	closed chan closeEvent
	calls  atomic.Int32 // OnClose calls
	after  atomic.Bool  // an OnMessage came after OnClose
}

func (r *recorder) OnMessage(data []byte, binary bool) {
	if r.calls.Load() > 0 {
		r.after.Store(true)
	}
	r.msgs <- message{string(data), binary}
	if r.echo {
		if binary {
			r.s.Send(NewBinaryMessage(data))
		} else {
			r.s.Send(NewTextMessage(data))
		}
	}
}

func (r *recorder) OnClose(reason string, err error) {
	if r.calls.Add(1) == 1 {
		r.closed <- closeEvent{reason, err}
	}
}

func (r *recorder) nextMessage(t testing.TB) message {
	t.Helper()
	select {
	case m := <-r.msgs:
		return m
	case <-time.After(testTimeout):
		t.Fatal("no message received")
	}
	return message{}
}

func (r *recorder) waitClose(t testing.TB) closeEvent {
	t.Helper()
	select {
	case ev := <-r.closed:
		if r.after.Load() {
			t.Error("OnMessage called after OnClose")
		}
		return ev
	case <-time.After(testTimeout):
		t.Fatal("session not closed")
	}
	return closeEvent{}
}

// testServer is an engineio Server behind a real loopback HTTP server.
type testServer struct {
	*Server
	http   *httptest.Server
	url    string // http://127.0.0.1:port/engine.io/
	opened chan *recorder
}

// testReadMode is the read mode of the servers of newTestServer whose Config leaves it zero:
// ENGINEIO_TEST_READ_MODE=goroutine runs the whole suite on the portable read path, and
// TestGoroutineReadPath runs the websocket tests on it in any case.
var testReadMode = func() ReadMode {
	var m ReadMode
	if v := os.Getenv("ENGINEIO_TEST_READ_MODE"); v != "" {
		if err := m.UnmarshalText([]byte(v)); err != nil {
			panic(err)
		}
	}
	return m
}()

// newTestServer starts a server with cfg (OnOpen is replaced by a recorder that echoes when
// echo is set). Call testutil.CheckGoroutines first in the test.
func newTestServer(t testing.TB, cfg Config, echo bool) *testServer {
	t.Helper()
	ts := &testServer{opened: make(chan *recorder, 100)}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = time.Minute // no pings unless the test wants them
	}
	if cfg.ReadMode == ReadPoller {
		cfg.ReadMode = testReadMode
	}
	cfg.OnOpen = func(s *Session) SessionHandler {
		r := &recorder{s: s, echo: echo, msgs: make(chan message, 100_000), closed: make(chan closeEvent, 1)}
		ts.opened <- r
		return r
	}
	ts.Server = NewServer(cfg)
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", ts.Server)
	ts.http = httptest.NewServer(mux)
	ts.url = ts.http.URL + "/engine.io/"
	t.Cleanup(func() {
		// Polling sessions with queued messages wait for a GET that will not come: cut it short.
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		ts.Shutdown(ctx)
		ts.http.CloseClientConnections()
		ts.http.Close()
	})
	return ts
}

func (ts *testServer) nextSession(t testing.TB) *recorder {
	t.Helper()
	select {
	case r := <-ts.opened:
		return r
	case <-time.After(testTimeout):
		t.Fatal("no session opened")
	}
	return nil
}

type openData struct {
	Sid          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

// parseOpen checks that body is an open packet with exactly the five keys and decodes it.
func parseOpen(t testing.TB, body string) openData {
	t.Helper()
	if !strings.HasPrefix(body, "0") {
		t.Fatalf("not an open packet: %q", body)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body[1:]), &keys); err != nil {
		t.Fatalf("open packet %q: %v", body, err)
	}
	if len(keys) != 5 {
		t.Errorf("open packet has %d keys, want 5: %s", len(keys), body)
	}
	var o openData
	json.Unmarshal([]byte(body[1:]), &o)
	return o
}

// request sends one HTTP request with a fresh connection-independent client and returns the
// status, the body and the headers.
func request(t testing.TB, method, url, body string, hdr ...string) (int, string, http.Header) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body = nil
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// pollHandshake opens a polling session and returns its sid.
func (ts *testServer) pollHandshake(t testing.TB) string {
	t.Helper()
	status, body, _ := request(t, "GET", ts.url+"?EIO=4&transport=polling", "")
	if status != 200 {
		t.Fatalf("handshake: %d %s", status, body)
	}
	return parseOpen(t, body).Sid
}

func (ts *testServer) poll(t testing.TB, sid string) (int, string) {
	t.Helper()
	status, body, _ := request(t, "GET", ts.url+"?EIO=4&transport=polling&sid="+sid, "")
	return status, body
}

func (ts *testServer) push(t testing.TB, sid, payload string) (int, string) {
	t.Helper()
	status, body, _ := request(t, "POST", ts.url+"?EIO=4&transport=polling&sid="+sid, payload)
	return status, body
}

// wsClient is a minimal websocket client that shows the frames as they are.
type wsClient struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
}

func dialWS(t testing.TB, ts *testServer, query string) *wsClient {
	t.Helper()
	c, err := tryDialWS(ts, query)
	if err != nil {
		t.Fatalf("websocket dial: %v", err)
	}
	c.t = t
	t.Cleanup(func() { c.conn.Close() })
	return c
}

func tryDialWS(ts *testServer, query string) (*wsClient, error) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	u := "ws" + strings.TrimPrefix(ts.url, "http") + "?" + query
	conn, br, _, err := ws.Dialer{}.Dial(ctx, u)
	if err != nil {
		return nil, err
	}
	if br == nil {
		br = bufio.NewReader(conn)
	}
	return &wsClient{conn: conn, br: br}, nil
}

// frame reads the next frame, unmasked by the server, within testTimeout.
func (c *wsClient) frame() (ws.Header, []byte, error) {
	c.conn.SetReadDeadline(time.Now().Add(testTimeout))
	h, err := ws.ReadHeader(c.br)
	if err != nil {
		return h, nil, err
	}
	if h.Masked {
		c.t.Errorf("server frame is masked")
	}
	p := make([]byte, h.Length)
	_, err = io.ReadFull(c.br, p)
	return h, p, err
}

// read returns the next data frame as a string and whether it was binary.
func (c *wsClient) read() (string, bool) {
	c.t.Helper()
	h, p, err := c.frame()
	if err != nil {
		c.t.Fatalf("websocket read: %v", err)
	}
	switch h.OpCode {
	case ws.OpText:
		return string(p), false
	case ws.OpBinary:
		return string(p), true
	}
	c.t.Fatalf("unexpected frame %v %q", h.OpCode, p)
	return "", false
}

func (c *wsClient) readText() string {
	c.t.Helper()
	s, bin := c.read()
	if bin {
		c.t.Fatalf("binary frame %q, want text", s)
	}
	return s
}

// expectClose reads until the server closes and returns the close code (0 for none).
func (c *wsClient) expectClose() ws.StatusCode {
	c.t.Helper()
	for {
		h, p, err := c.frame()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				c.t.Fatal("websocket not closed by the server")
			}
			return 0
		}
		if h.OpCode == ws.OpClose {
			code, _ := ws.ParseCloseFrameData(p)
			return code
		}
	}
}

func (c *wsClient) writeFrame(op ws.OpCode, fin bool, p []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(clientFrame(op, fin, p)); err != nil {
		c.t.Fatalf("websocket write: %v", err)
	}
}

func (c *wsClient) send(s string) { c.writeFrame(ws.OpText, true, []byte(s)) }

// clientFrame builds a masked client frame.
func clientFrame(op ws.OpCode, fin bool, p []byte) []byte {
	h := ws.Header{Fin: fin, OpCode: op, Length: int64(len(p)), Masked: true, Mask: ws.NewMask()}
	var b strings.Builder
	ws.WriteHeader(&b, h)
	q := append([]byte(nil), p...)
	ws.Cipher(q, h.Mask, 0)
	b.Write(q)
	return []byte(b.String())
}

// eventually polls cond until it holds or testTimeout passes: for states that have no signal
// to wait on (a GET parked inside the server).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// session returns the server-side session of sid.
func (ts *testServer) session(t testing.TB, sid string) *Session {
	t.Helper()
	s, ok := ts.sessions.load(sid)
	if !ok {
		t.Fatalf("no session %s", sid)
	}
	return s
}

func (s *Session) getPending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.getActive
}

// ioPipe is io.Pipe, named so that tests read as what they do.
func ioPipe() (*io.PipeReader, *io.PipeWriter) { return io.Pipe() }

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
