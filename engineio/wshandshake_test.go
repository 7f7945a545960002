package engineio

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/tomato-code/realtime/internal/testutil"
)

// The example of RFC 6455 §1.3.
func TestCheckUpgradeAcceptValue(t *testing.T) {
	r := httptest.NewRequest("GET", "/engine.io/?EIO=4&transport=websocket", nil)
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Connection", "keep-alive, Upgrade")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	r.Header.Set("Sec-WebSocket-Version", "13")
	accept, err := checkUpgrade(r)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(accept[:]); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("Sec-WebSocket-Accept %q", got)
	}
}

// rawExchange sends req on a new connection to addr and returns everything the server writes
// until it closes the connection or goes quiet for a moment.
func rawExchange(t *testing.T, addr, req string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for {
		// The refusals end with the connection closed; the deadline only bounds a server that
		// would accept instead.
		conn.SetReadDeadline(time.Now().Add(testTimeout))
		n, err := conn.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			return out.String()
		}
	}
}

// Handshake requests the server refuses get what gobwas/ws's UpgradeHTTP, which completed the
// handshakes before, answers them: compared byte for byte with UpgradeHTTP behind a server of
// the same kind.
func TestWebSocketHandshakeRefusalsAsGobwas(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	ref := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if conn != nil {
			conn.Close()
		}
		if err == nil {
			t.Errorf("gobwas/ws accepted %v", r.Header)
		}
	}))
	defer ref.Close()

	const key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	cases := map[string]string{
		"upgrade list":    "Upgrade: websocket, h2c\r\nConnection: Upgrade\r\n" + key + "Sec-WebSocket-Version: 13\r\n",
		"no connection":   "Upgrade: websocket\r\n" + key + "Sec-WebSocket-Version: 13\r\n",
		"keep-alive only": "Upgrade: websocket\r\nConnection: keep-alive\r\n" + key + "Sec-WebSocket-Version: 13\r\n",
		"no key":          "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n",
		"short key":       "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n",
		"no version":      "Upgrade: websocket\r\nConnection: Upgrade\r\n" + key,
		"version 8":       "Upgrade: websocket\r\nConnection: Upgrade\r\n" + key + "Sec-WebSocket-Version: 8\r\n",
	}
	for name, hdr := range cases {
		for _, proto := range []string{"HTTP/1.1", "HTTP/1.0"} {
			req := "GET /engine.io/?EIO=4&transport=websocket " + proto + "\r\nHost: x\r\n" + hdr + "\r\n"
			want := rawExchange(t, strings.TrimPrefix(ref.URL, "http://"), req)
			got := rawExchange(t, strings.TrimPrefix(ts.http.URL, "http://"), req)
			if !strings.HasPrefix(want, "HTTP/1.1 4") && !strings.HasPrefix(want, "HTTP/1.1 5") {
				t.Errorf("%s %s: gobwas/ws answered %q", name, proto, want)
			}
			if got != want {
				t.Errorf("%s %s:\n got %q\nwant %q", name, proto, got, want)
			}
		}
	}
	if n := ts.SessionCount(); n != 0 {
		t.Errorf("%d sessions opened by refused handshakes", n)
	}
}

// A key of the right length that is not base64 of 16 bytes is refused (RFC 6455 §4.2.1), with
// the answer to a key of the wrong length; UpgradeHTTP did not check it.
func TestWebSocketHandshakeInvalidKey(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	for _, key := range []string{"!!!!!!!!!!!!!!!!!!!!!!!!", "dGhlIHNhbXBsZSBub25jZSE=", "dGhlIHNhbXBsZSBub25jZQ"} {
		req := "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
		got := rawExchange(t, strings.TrimPrefix(ts.http.URL, "http://"), req)
		if want := string(rejectionResponse(ws.ErrHandshakeBadSecKey)); got != want {
			t.Errorf("key %q:\n got %q\nwant %q", key, got, want)
		}
	}
}

// The 101 response and the open packet leave in one write: over loopback, the first read of
// the client returns both. What OnOpen sends follows, in order.
func TestWebSocketHandshakeOneWrite(t *testing.T) {
	testutil.CheckGoroutines(t)
	srv := NewServer(Config{PingInterval: time.Minute, OnOpen: func(s *Session) SessionHandler {
		s.Send(NewTextMessage([]byte("hello")))
		return nil
	}})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(t.Context())

	conn, err := net.Dial("tcp", strings.TrimPrefix(hs.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(testTimeout))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	first := string(buf[:n])
	head, rest, ok := strings.Cut(first, "\r\n\r\n")
	if !ok {
		t.Fatalf("first read %q: no complete response head", first)
	}
	want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
	if head != want {
		t.Errorf("response head %q", head)
	}
	br := bufio.NewReader(io.MultiReader(strings.NewReader(rest), conn))
	h, err := ws.ReadHeader(br)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(rest)) < int64(h.Length)+2 {
		t.Errorf("first read ends %d bytes into the open frame of %d: the 101 went out alone", len(rest), h.Length)
	}
	p := make([]byte, h.Length)
	io.ReadFull(br, p)
	if h.OpCode != ws.OpText || !h.Fin || h.Masked {
		t.Errorf("open frame header %+v", h)
	}
	parseOpen(t, string(p))
	h, err = ws.ReadHeader(br)
	if err != nil {
		t.Fatal(err)
	}
	p = make([]byte, h.Length)
	io.ReadFull(br, p)
	if string(p) != "4hello" {
		t.Errorf("after the open packet %q, want what OnOpen sent", p)
	}
}

// A session closed in OnOpen still sends its open packet first, then what was queued, then
// closes the connection.
func TestWebSocketClosedInOnOpen(t *testing.T) {
	testutil.CheckGoroutines(t)
	closed := make(chan string, 1)
	srv := NewServer(Config{PingInterval: time.Minute, OnOpen: func(s *Session) SessionHandler {
		s.Send(NewTextMessage([]byte("bye")))
		s.Close()
		return closeRecorder(closed)
	}})
	hs := httptest.NewServer(srv)
	defer hs.Close()

	c, err := tryDialWS(&testServer{url: hs.URL + "/engine.io/"}, "EIO=4&transport=websocket")
	if err != nil {
		t.Fatal(err)
	}
	c.t = t
	defer c.conn.Close()
	parseOpen(t, c.readText())
	if got := c.readText(); got != "4bye" {
		t.Errorf("after the open packet %q", got)
	}
	if code := c.expectClose(); code != closeNormal {
		t.Errorf("close code %d", code)
	}
	select {
	case r := <-closed:
		if r != ReasonForcedClose {
			t.Errorf("close reason %q", r)
		}
	case <-time.After(testTimeout):
		t.Fatal("OnClose not called")
	}
}

type closeRecorder chan string

func (closeRecorder) OnMessage([]byte, bool)           {}
func (c closeRecorder) OnClose(reason string, _ error) { c <- reason }
