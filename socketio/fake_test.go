package socketio

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tomato-code/realtime/engineio"
)

// fakeSession is an in-memory Engine.IO session: it records what the server sends and closes
// the way a real session does (OnClose on another goroutine).
type fakeSession struct {
	mu       sync.Mutex
	out      []string // text messages as "4"-less data; binary ones as "bin:" + base64
	notify   chan struct{}
	closed   bool
	writable bool
	c        *conn
	done     chan struct{} // closed once OnClose returned
	hs       *engineio.HandshakeInfo
}

func newFakeSession() *fakeSession {
	return &fakeSession{
		notify:   make(chan struct{}, 1),
		done:     make(chan struct{}),
		writable: true,
		hs:       fakeHandshake(http.Header{"User-Agent": {"test"}}),
	}
}

// fakeHandshake describes a websocket handshake from 127.0.0.1:5555 with headers h.
func fakeHandshake(h http.Header) *engineio.HandshakeInfo {
	r := httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=websocket", nil)
	r.Header, r.RemoteAddr = h, "127.0.0.1:5555"
	return engineio.NewHandshakeInfo(r, time.Now())
}

func (f *fakeSession) Send(msgs ...*engineio.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return engineio.ErrSessionClosed
	}
	for _, m := range msgs {
		if m.Binary() {
			f.out = append(f.out, "bin:"+base64.StdEncoding.EncodeToString(m.Data()))
		} else {
			f.out = append(f.out, string(m.Data()))
		}
	}
	select {
	case f.notify <- struct{}{}:
	default:
	}
	return nil
}

func (f *fakeSession) Writable() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writable && !f.closed
}

func (f *fakeSession) Close() { f.end(engineio.ReasonForcedClose) }

// end closes the session as the engine would, with reason.
func (f *fakeSession) end(reason string) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	c := f.c
	f.mu.Unlock()
	go func() {
		c.OnClose(reason, nil)
		close(f.done)
	}()
}

func (f *fakeSession) isClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

func (f *fakeSession) Transport() string                  { return engineio.TransportWebSocket }
func (f *fakeSession) Handshake() *engineio.HandshakeInfo { return f.hs }
func (f *fakeSession) RemoteAddr() string {
	if f.hs == nil {
		return ""
	}
	return f.hs.RemoteAddr
}
func (f *fakeSession) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.out...)
}
func (f *fakeSession) clearSent() { f.mu.Lock(); f.out = nil; f.mu.Unlock() }

// client is a fake client connection of a test server.
type client struct {
	t *testing.T
	f *fakeSession
	c *conn
}

func newClient(t *testing.T, srv *Server) *client {
	t.Helper()
	f := newFakeSession()
	f.mu.Lock()
	f.c = srv.newConn(f)
	f.mu.Unlock()
	t.Cleanup(func() { f.end(engineio.ReasonTransportClose) })
	return &client{t: t, f: f, c: f.c}
}

// send delivers one text message from the client.
func (cl *client) send(text string) { cl.c.OnMessage([]byte(text), false) }

// sendBinary delivers one binary message from the client.
func (cl *client) sendBinary(b []byte) { cl.c.OnMessage(b, true) }

// next waits for the n-th message the server sent (0-based) and returns it.
func (cl *client) waitN(n int) []string {
	cl.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		out := cl.f.sent()
		if len(out) >= n {
			return out
		}
		select {
		case <-cl.f.notify:
		case <-deadline:
			cl.t.Fatalf("waited for %d messages, got %q", n, out)
		}
	}
}

// expect waits until the server sent len(want) messages and compares them; "*" in a wanted
// message matches any run of characters.
func (cl *client) expect(want ...string) {
	cl.t.Helper()
	got := cl.waitN(len(want))
	if len(got) != len(want) {
		cl.t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if !match(want[i], got[i]) {
			cl.t.Fatalf("message %d = %q, want %q (all: %q)", i, got[i], want[i], got)
		}
	}
	cl.f.clearSent()
}

func match(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// connect joins nsp and returns the socket id the server gave.
func (cl *client) connect(nsp string) string {
	cl.t.Helper()
	prefix := "0"
	if nsp != "/" {
		prefix = "0" + nsp + ","
	}
	cl.send(prefix)
	out := cl.waitN(1)
	if !strings.HasPrefix(out[0], prefix+`{"sid":"`) {
		cl.t.Fatalf("connect %s: got %q", nsp, out)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(out[0], prefix+`{"sid":"`), `"}`)
	cl.f.mu.Lock()
	cl.f.out = cl.f.out[1:]
	cl.f.mu.Unlock()
	return id
}

// waitClosed waits until the session closed and the conn ran OnClose.
func (cl *client) waitClosed() {
	cl.t.Helper()
	select {
	case <-cl.f.done:
	case <-time.After(5 * time.Second):
		cl.t.Fatal("connection not closed")
	}
}

func testServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	srv := NewServer(cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return srv
}
