package socketio_test

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/tomato-code/realtime/engineio"
	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/socketio"
)

// rawClient speaks the protocol by hand over a websocket, to do what the official client
// never does: stay silent, skip pongs, send garbage.
type rawClient struct {
	t    *testing.T
	conn net.Conn
}

func dialRaw(t *testing.T, url string) *rawClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(url, "http") + "/socket.io/?EIO=4&transport=websocket"
	conn, br, _, err := ws.Dial(ctx, u)
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawClient{t: t, conn: conn}
	if br != nil {
		// Frames that came with the handshake response are in br.
		c.conn = bufferedConn{Reader: br, Conn: conn}
	}
	if open := c.read(); !strings.HasPrefix(open, `0{"sid":`) {
		t.Fatalf("open packet %q", open)
	}
	return c
}

type bufferedConn struct {
	io.Reader
	net.Conn
}

func (b bufferedConn) Read(p []byte) (int, error) { return b.Reader.Read(p) }

// read returns the next text frame; "" when the connection closed.
func (c *rawClient) read() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	data, op, err := wsutil.ReadServerData(c.conn)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			c.t.Fatal("read timed out")
		}
		return ""
	}
	if op == ws.OpBinary {
		return "bin"
	}
	return string(data)
}

func (c *rawClient) send(s string) {
	c.t.Helper()
	if err := wsutil.WriteClientText(c.conn, []byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

// readUntilClosed reads frames until the server closes the connection and returns them.
func (c *rawClient) readUntilClosed() []string {
	var got []string
	for {
		m := c.read()
		if m == "" {
			return got
		}
		got = append(got, m)
	}
}

func TestRawHeartbeatTimeout(t *testing.T) {
	testutil.CheckGoroutines(t)
	srv, ts := startServer(t, socketio.Config{Engine: engineio.Config{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond}})
	reasons := make(chan string, 1)
	srv.Of("/").OnConnection(func(s *socketio.Socket) { s.OnDisconnect(func(r string) { reasons <- r }) })
	c := dialRaw(t, ts.URL)
	c.send("40")
	if m := c.read(); !strings.HasPrefix(m, `40{"sid":`) {
		t.Fatalf("connect reply %q", m)
	}
	// Never answer the pings.
	if got := c.readUntilClosed(); len(got) == 0 || got[0] != "2" {
		t.Fatalf("frames before close: %q", got)
	}
	select {
	case r := <-reasons:
		if r != socketio.ReasonPingTimeout {
			t.Fatalf("reason %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no disconnect")
	}
}

func TestRawConnectTimeout(t *testing.T) {
	testutil.CheckGoroutines(t)
	_, ts := startServer(t, socketio.Config{ConnectTimeout: 100 * time.Millisecond})
	start := time.Now()
	c := dialRaw(t, ts.URL)
	if got := c.readUntilClosed(); len(got) != 0 {
		t.Fatalf("frames before close: %q", got)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("closed after %v, before the connect timeout", d)
	}
}

func TestRawBadInput(t *testing.T) {
	testutil.CheckGoroutines(t)
	srv, ts := startServer(t, socketio.Config{})
	reasons := make(chan string, 4)
	srv.Of("/").OnConnection(func(s *socketio.Socket) {
		s.On("echo", func(s *socketio.Socket, args socketio.Args, ack socketio.Ack) { ack(args.Values()...) })
		s.OnDisconnect(func(r string) { reasons <- r })
	})
	good := dialRaw(t, ts.URL)
	good.send("40")
	good.read()

	for _, tc := range []struct {
		name   string
		send   []string
		reason string
	}{
		{"malformed", []string{"42{}"}, socketio.ReasonParseError},
		{"second connect", []string{"40"}, socketio.ReasonForcedServerClose},
		{"namespace not joined", []string{`42/admin,["x"]`}, socketio.ReasonForcedServerClose},
		{"text instead of attachment", []string{`451-["echo",{"_placeholder":true,"num":0}]`, `42["echo"]`}, socketio.ReasonParseError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, ts.URL)
			c.send("40")
			c.read()
			for _, m := range tc.send {
				c.send(m)
			}
			c.readUntilClosed()
			if r := <-reasons; r != tc.reason {
				t.Fatalf("reason %q, want %q", r, tc.reason)
			}
		})
	}
	// Acks for unknown ids are ignored, and the other client never noticed anything.
	good.send(`43999["nobody asked"]`)
	good.send(`421["echo","still here"]`)
	for {
		m := good.read()
		if m == "2" {
			good.send("3")
			continue
		}
		if m != `431["still here"]` {
			t.Fatalf("good client got %q", m)
		}
		break
	}
}

// A connection that ends with an error (here the client breaks the websocket protocol: a frame
// with a reserved bit set) tells its sockets why: DisconnectError in the disconnect handler.
func TestRawDisconnectError(t *testing.T) {
	testutil.CheckGoroutines(t)
	srv, ts := startServer(t, socketio.Config{})
	type ended struct {
		reason string
		err    error
	}
	got := make(chan ended, 1)
	srv.Of("/").OnSocketDisconnect(func(s *socketio.Socket, reason string) { got <- ended{reason, s.DisconnectError()} })
	c := dialRaw(t, ts.URL)
	c.send("40")
	if m := c.read(); !strings.HasPrefix(m, `40{"sid":`) {
		t.Fatalf("connect reply %q", m)
	}
	f := ws.NewTextFrame([]byte("42[\"x\"]"))
	f.Header.Rsv = ws.Rsv(true, false, false) // no extension was negotiated: a protocol error
	if err := ws.WriteFrame(c.conn, ws.MaskFrame(f)); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-got:
		if e.reason != socketio.ReasonTransportError || e.err == nil || !strings.Contains(e.err.Error(), "protocol") {
			t.Errorf("disconnect %q with error %v; want %q and the protocol error", e.reason, e.err, socketio.ReasonTransportError)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no disconnect")
	}
	c.readUntilClosed()
}
