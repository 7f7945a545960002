package client_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/tomato-code/realtime/client"
	"github.com/tomato-code/realtime/internal/testutil"
)

// The tests in this file run the client against small Engine.IO servers written for each test,
// to reach behaviour the reference server does not show on demand: silence, oversized or
// broken packets, HTTP refusals, tight payload limits.

const openPacket = `0{"sid":"fake","upgrades":[],"pingInterval":30,"pingTimeout":30,"maxPayload":%d}`

func open(maxPayload string) string { return strings.Replace(openPacket, "%d", maxPayload, 1) }

// wsServer upgrades every request to websocket, writes the open packet and hands the connection
// to serve. The server ends when the test does.
func wsServer(t testing.TB, serve func(conn net.Conn, rw *bufio.ReadWriter)) *httptest.Server {
	return wsServerOpen(t, open("1000000"), serve)
}

// wsServerOpen is wsServer with the given open packet.
func wsServerOpen(t testing.TB, openPkt string, serve func(conn net.Conn, rw *bufio.ReadWriter)) *httptest.Server {
	t.Helper()
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		defer conn.Close()
		if err := wsutil.WriteServerText(conn, []byte(openPkt)); err != nil {
			return
		}
		serve(conn, rw)
	}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		wg.Wait()
	})
	return srv
}

// drain reads client frames until the connection ends.
func drain(conn net.Conn, _ *bufio.ReadWriter) {
	for {
		if _, _, err := wsutil.ReadClientData(conn); err != nil {
			return
		}
	}
}

// wantClosed waits for conn to end and checks the reason its CloseError gives.
func wantClosed(t *testing.T, conn *client.Conn, reason client.DisconnectReason) {
	t.Helper()
	recv(t, conn.Done(), string(reason))
	var cerr *client.CloseError
	if !errors.As(conn.Err(), &cerr) || cerr.Reason != reason {
		t.Errorf("Err() = %v, want reason %q", conn.Err(), reason)
	}
}

func TestPingTimeoutWebSocket(t *testing.T) {
	testutil.CheckGoroutines(t)
	srv := wsServer(t, drain) // never pings
	conn, err := client.Dial(testContext(t), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	wantClosed(t, conn, client.ReasonPingTimeout)
}

func TestPingTimeoutPolling(t *testing.T) {
	testutil.CheckGoroutines(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sid") == "" {
			io.WriteString(w, open("1000000"))
			return
		}
		<-r.Context().Done() // a poll that never ends: no ping comes
	}))
	defer srv.Close()
	d := &client.Dialer{Transport: client.TransportPolling}
	defer d.CloseIdleConnections()
	conn, err := d.Dial(testContext(t), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	wantClosed(t, conn, client.ReasonPingTimeout)
}

func TestBadServerInput(t *testing.T) {
	cases := []struct {
		name   string
		frames []string
		binary bool
		reason client.DisconnectReason
	}{
		{"unknown engine.io type", []string{"9"}, false, client.ReasonParseError},
		{"unknown socket.io type", []string{"4x"}, false, client.ReasonParseError},
		{"bad json", []string{`42["a",`}, false, client.ReasonParseError},
		{"attachment without header", []string{"abc"}, true, client.ReasonParseError},
		{"close packet", []string{"1"}, false, client.ReasonTransportClose},
		{"oversized message", []string{"4" + strings.Repeat("x", 2000)}, false, client.ReasonTransportError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testutil.CheckGoroutines(t)
			srv := wsServer(t, func(conn net.Conn, rw *bufio.ReadWriter) {
				for _, f := range tc.frames {
					op := ws.OpText
					if tc.binary {
						op = ws.OpBinary
					}
					if err := wsutil.WriteServerMessage(conn, op, []byte(f)); err != nil {
						return
					}
				}
				drain(conn, rw)
			})
			d := &client.Dialer{MaxMessageBytes: 1024}
			conn, err := d.Dial(testContext(t), srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			wantClosed(t, conn, tc.reason)
		})
	}
}

func TestHandshakeRefused(t *testing.T) {
	testutil.CheckGoroutines(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"code":5,"message":"Unsupported protocol version"}`)
	}))
	defer srv.Close()
	for _, tr := range []string{client.TransportWebSocket, client.TransportPolling} {
		d := &client.Dialer{Transport: tr}
		_, err := d.Dial(testContext(t), srv.URL)
		var he *client.HandshakeError
		if !errors.As(err, &he) || he.Status != 400 || he.Code != 5 || he.Message != "Unsupported protocol version" {
			t.Errorf("%s: %v", tr, err)
		}
		d.CloseIdleConnections()
	}
}

// TestPollingPayloadLimit: emits queued behind a POST go out in later POSTs, as many whole
// packets per body as the server's maxPayload allows, in order.
func TestPollingPayloadLimit(t *testing.T) {
	testutil.CheckGoroutines(t)
	gets := make(chan string, 4)
	posts := make(chan string, 8)
	release := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sid") == "" {
			io.WriteString(w, open("70"))
			return
		}
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			if string(b) == "40" {
				gets <- `40{"sid":"s1"}`
			} else {
				posts <- string(b)
				once.Do(func() { <-release }) // hold the first event POST
			}
			io.WriteString(w, "ok")
			return
		}
		select {
		case body := <-gets:
			io.WriteString(w, body)
		case <-time.After(20 * time.Millisecond): // a ping keeps the session alive
			io.WriteString(w, "2")
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	d := &client.Dialer{Transport: client.TransportPolling}
	defer d.CloseIdleConnections()
	ctx := testContext(t)
	conn, err := d.Dial(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s := conn.Socket("/")
	if err := s.Connect(ctx, nil); err != nil {
		t.Fatal(err)
	}
	pkt := func(i int) string { return `42["e","` + strings.Repeat(string(rune('a'+i)), 20) + `"]` }
	first := make(chan error, 1)
	go func() { first <- s.Emit("e", strings.Repeat("a", 20)) }()
	if got := recv(t, posts, "first POST"); got != pkt(0) {
		t.Fatalf("first POST %q", got)
	}
	for i := 1; i <= 3; i++ {
		if err := s.Emit("e", strings.Repeat(string(rune('a'+i)), 20)); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	if err := recv(t, first, "first emit"); err != nil {
		t.Fatal(err)
	}
	// 30 bytes a packet: two and a separator fit in 70, three do not.
	want := []string{pkt(1) + "\x1e" + pkt(2), pkt(3)}
	for _, w := range want {
		if got := recv(t, posts, "POST"); got != w {
			t.Errorf("POST %q, want %q", got, w)
		}
	}
}
