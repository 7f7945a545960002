package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tomato-code/realtime/client"
	"github.com/tomato-code/realtime/internal/testutil"
)

// dialSocket connects the namespace nsp of the shared service as user id, with handlers set up
// by setup before the CONNECT goes out.
func dialSocket(t *testing.T, d *client.Dialer, url, nsp, tok string, setup func(*client.Socket)) *client.Socket {
	t.Helper()
	ctx := testContext(t)
	conn, err := d.Dial(ctx, url)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() {
		conn.Close()
		<-conn.Done()
		d.CloseIdleConnections()
	})
	s := conn.Socket(nsp)
	if setup != nil {
		setup(s)
	}
	if err := s.Connect(ctx, auth(tok)); err != nil {
		t.Fatalf("connect %s: %v", nsp, err)
	}
	return s
}

func TestEventsAndAcks(t *testing.T) {
	for _, tc := range transports {
		t.Run(tc.name, func(t *testing.T) {
			testutil.CheckGoroutines(t)
			p := server(t)
			ctx := testContext(t)
			d := tc.dialer()
			welcome := make(chan string, 1)
			echoes := make(chan client.Args, 4)
			questions := make(chan client.Args, 1)
			answers := make(chan client.Args, 1)
			s := dialSocket(t, d, p.URL(), "/", token(t, p, "u-"+tc.name, nil), func(s *client.Socket) {
				s.On("welcome", func(args client.Args, _ client.Ack) {
					var id string
					if err := args.Decode(0, &id); err != nil {
						t.Errorf("welcome: %v", err)
					}
					welcome <- id
				})
				s.On("echo", func(args client.Args, _ client.Ack) { echoes <- args })
				s.On("question", func(args client.Args, ack client.Ack) {
					questions <- args
					if ack == nil {
						t.Error("question: the server asked for an ack but ack is nil")
						return
					}
					if err := ack("answer to "+string(args.Raw(0)), []byte{9, 8}); err != nil {
						t.Errorf("ack: %v", err)
					}
				})
				s.On("answer", func(args client.Args, _ client.Ack) { answers <- args })
			})

			// The event the server emits while the socket connects reaches the handler set
			// before Connect.
			if id := recv(t, welcome, "welcome"); id == "" || id != s.ID() {
				t.Errorf("welcome carried %q, socket id %q", id, s.ID())
			}

			// Events both ways, JSON arguments kept as they were written.
			if err := s.Emit("echo", 1, "two", map[string]any{"three": []int{3}}, nil, json.RawMessage(`{"b":1,"a":2}`)); err != nil {
				t.Fatal(err)
			}
			got := recv(t, echoes, "echo")
			if want := `[1,"two",{"three":[3]},null,{"b":1,"a":2}]`; got.String() != want {
				t.Errorf("echo: got %s, want %s", got, want)
			}

			// Binary both ways.
			blob := bytes.Repeat([]byte{0, 1, 2, 255}, 300)
			if err := s.Emit("echo", "bin", blob, []byte{}); err != nil {
				t.Fatal(err)
			}
			got = recv(t, echoes, "binary echo")
			if b, ok := got.Bytes(1); !ok || !bytes.Equal(b, blob) {
				t.Errorf("binary echo: arg 1 = %v (binary %v), want %d bytes", len(b), ok, len(blob))
			}
			if b, ok := got.Bytes(2); !ok || len(b) != 0 {
				t.Errorf("binary echo: arg 2 = %v (binary %v), want empty binary", b, ok)
			}
			var s0 string
			if err := got.Decode(0, &s0); err != nil || s0 != "bin" {
				t.Errorf("binary echo: arg 0 = %q, %v", s0, err)
			}
			info, err := s.EmitWithAck(ctx, "binary-info", []byte{7, 1, 1})
			if err != nil {
				t.Fatal(err)
			}
			if want := `[{"isBuffer":true,"length":3,"first":7}]`; info.String() != want {
				t.Errorf("binary-info: got %s, want %s", info, want)
			}

			// Client -> server acknowledgements, with binary in the reply.
			reply, err := s.EmitWithAck(ctx, "echo", "x", []byte{1, 2})
			if err != nil {
				t.Fatal(err)
			}
			if b, ok := reply.Bytes(1); reply.Len() != 2 || string(reply.Raw(0)) != `"x"` || !ok || !bytes.Equal(b, []byte{1, 2}) {
				t.Errorf("ack reply: %s attachments %v", reply, reply.Attachments())
			}
			// The reference service's own event.
			joined, err := s.EmitWithAck(ctx, "join_order", "o-"+tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if joined.String() != `[{"success":true}]` {
				t.Errorf("join_order ack: %s", joined)
			}

			// Server -> client acknowledgements: the server asks, the client's handler acks,
			// the server reports the answer.
			if err := s.Emit("ask-me", "q1"); err != nil {
				t.Fatal(err)
			}
			q := recv(t, questions, "question")
			if b, ok := q.Bytes(1); string(q.Raw(0)) != `"q1"` || !ok || !bytes.Equal(b, []byte{1, 2, 3}) {
				t.Errorf("question: %s attachments %v", q, q.Attachments())
			}
			a := recv(t, answers, "answer")
			if b, ok := a.Bytes(1); string(a.Raw(0)) != `"answer to \"q1\""` || !ok || !bytes.Equal(b, []byte{9, 8}) {
				t.Errorf("answer: %s attachments %v", a, a.Attachments())
			}

			// The transport settled where it should (an upgrade completes quickly).
			who, err := s.EmitWithAck(ctx, "whoami")
			if err != nil {
				t.Fatal(err)
			}
			var w struct{ Transport string }
			_ = who.Decode(0, &w)
			if tc.want == client.TransportPolling && (w.Transport != "polling" || s.Conn().Transport() != "polling") {
				t.Errorf("transport: server %q, client %q, want polling", w.Transport, s.Conn().Transport())
			}
			if tc.name == "upgrade" {
				waitFor(t, "the upgrade", func() bool { return s.Conn().Transport() == client.TransportWebSocket })
				who, err = s.EmitWithAck(ctx, "whoami")
				if err != nil {
					t.Fatal(err)
				}
				_ = who.Decode(0, &w)
				if w.Transport != "websocket" {
					t.Errorf("after upgrade the server uses %q", w.Transport)
				}
			}
		})
	}
}

// waitFor polls cond: for state that offers no signal to wait on.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestInternalAPIEmit checks the path the service exists for: a backend emit through the
// internal API reaches the user's socket.
func TestInternalAPIEmit(t *testing.T) {
	for _, tc := range transports {
		t.Run(tc.name, func(t *testing.T) {
			testutil.CheckGoroutines(t)
			p := server(t)
			got := make(chan client.Args, 1)
			user := "api-" + tc.name
			dialSocket(t, tc.dialer(), p.URL(), "/", token(t, p, user, nil), func(s *client.Socket) {
				s.On("order_update", func(args client.Args, _ client.Ack) { got <- args })
			})
			body := `{"event":"order_update","room":"user:` + user + `","payload":{"id":"o1","status":"ready","note":"é\u2028"}}`
			req, _ := http.NewRequest(http.MethodPost, p.URL()+"/api/v1/internal/emit", strings.NewReader(body))
			req.Header.Set("x-internal-key", p.InternalKey())
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("emit: HTTP %d", resp.StatusCode)
			}
			args := recv(t, got, "order_update")
			var payload struct{ ID, Status, Note string }
			if err := args.Decode(0, &payload); err != nil || payload.ID != "o1" || payload.Status != "ready" || payload.Note != "é\u2028" {
				t.Errorf("payload %+v, %v (raw %s)", payload, err, args.Raw(0))
			}
		})
	}
}

func TestAuthRefusal(t *testing.T) {
	for _, tc := range transports[:2] {
		t.Run(tc.name, func(t *testing.T) {
			testutil.CheckGoroutines(t)
			p := server(t)
			ctx := testContext(t)
			d := tc.dialer()
			defer d.CloseIdleConnections()
			cases := []struct {
				name, nsp string
				auth      any
				message   string
				data      string
			}{
				{"no token", "/", nil, "Authentication error", ""},
				{"empty auth", "/", map[string]any{}, "Authentication error", ""},
				{"bad token", "/", auth("not-a-jwt"), "Invalid token", ""},
				{"expired token", "/orders", auth(token(t, p, "u", map[string]any{"exp": time.Now().Add(-time.Minute).Unix()})), "Invalid token", ""},
				{"middleware data", "/strict", nil, "not allowed", `{"code":42,"why":"testing"}`},
				{"unknown namespace", "/nope", nil, "Invalid namespace", ""},
			}
			for _, c := range cases {
				s, err := d.Connect(ctx, p.URL()+c.nsp, c.auth)
				if err == nil {
					s.Disconnect()
					t.Errorf("%s: connected", c.name)
					continue
				}
				var ce *client.ConnectError
				if !errors.As(err, &ce) {
					t.Errorf("%s: error %v is not a ConnectError", c.name, err)
					continue
				}
				if ce.Message != c.message || string(ce.Data) != c.data {
					t.Errorf("%s: message %q data %s, want %q %s", c.name, ce.Message, ce.Data, c.message, c.data)
				}
			}
		})
	}
}

// TestRefusedSocketKeepsConnection: a refused namespace does not end the connection or its
// other sockets.
func TestNamespaces(t *testing.T) {
	testutil.CheckGoroutines(t)
	p := server(t)
	ctx := testContext(t)
	tok := token(t, p, "multi", nil)
	main := dialSocket(t, &client.Dialer{}, p.URL(), "/", tok, nil)
	conn := main.Conn()

	orders := conn.Socket("/orders")
	if err := orders.Connect(ctx, auth(tok)); err != nil {
		t.Fatal(err)
	}
	if orders.ID() == main.ID() || orders.ID() == "" {
		t.Errorf("socket ids: main %q orders %q", main.ID(), orders.ID())
	}
	strict := conn.Socket("/strict")
	var ce *client.ConnectError
	if err := strict.Connect(ctx, nil); !errors.As(err, &ce) {
		t.Fatalf("/strict: %v", err)
	}
	<-strict.Done()

	// Both remaining sockets still work on the one connection.
	for _, s := range []*client.Socket{main, orders} {
		r, err := s.EmitWithAck(ctx, "echo", s.Namespace())
		if err != nil || r.String() != `["`+s.Namespace()+`"]` {
			t.Errorf("%s: echo %s, %v", s.Namespace(), r, err)
		}
	}

	// Leaving one namespace keeps the other.
	if err := orders.Disconnect(); err != nil {
		t.Fatal(err)
	}
	if orders.Reason() != client.ReasonClientDisconnect {
		t.Errorf("orders reason %q", orders.Reason())
	}
	if _, err := orders.EmitWithAck(ctx, "echo"); !errors.Is(err, client.ErrNotConnected) {
		t.Errorf("emit after disconnect: %v", err)
	}
	r, err := main.EmitWithAck(ctx, "last-reason")
	if err != nil || r.String() != `["/orders client namespace disconnect"]` {
		t.Errorf("server saw %s, %v", r, err)
	}
}

func TestServerDisconnect(t *testing.T) {
	for _, tc := range transports[:2] {
		t.Run(tc.name, func(t *testing.T) {
			testutil.CheckGoroutines(t)
			p := server(t)
			ctx := testContext(t)
			tok := token(t, p, "kick-"+tc.name, nil)
			s := dialSocket(t, tc.dialer(), p.URL(), "/", tok, nil)
			pending := make(chan error, 1)
			go func() {
				// An acknowledgement that will never come fails when the socket ends.
				_, err := s.EmitWithAck(ctx, "no-such-event")
				pending <- err
			}()
			waitFor(t, "the pending ack", func() bool { return s.Conn().Stats().MessagesSent >= 2 })
			if err := s.Emit("disconnect-me", false); err != nil {
				t.Fatal(err)
			}
			recv(t, s.Done(), "disconnect")
			if s.Reason() != client.ReasonServerDisconnect {
				t.Errorf("reason %q", s.Reason())
			}
			if err := recv(t, pending, "the failed ack"); !errors.Is(err, client.ErrClosed) {
				t.Errorf("pending ack: %v", err)
			}
			var cerr *client.CloseError
			if !errors.As(s.Err(), &cerr) || cerr.Reason != client.ReasonServerDisconnect {
				t.Errorf("Err() = %v", s.Err())
			}
			// The connection stays: a new socket connects on it.
			s2 := s.Conn().Socket("/")
			if s2 == s {
				t.Fatal("Socket returned the ended socket")
			}
			if err := s2.Connect(ctx, auth(tok)); err != nil {
				t.Fatal(err)
			}
			// disconnect(true) closes the whole connection.
			if err := s2.Emit("disconnect-me", true); err != nil {
				t.Fatal(err)
			}
			recv(t, s2.Done(), "disconnect")
			if s2.Reason() != client.ReasonServerDisconnect {
				t.Errorf("reason %q", s2.Reason())
			}
			recv(t, s2.Conn().Done(), "connection close")
			if err := s2.Conn().Err(); !errors.Is(err, client.ErrClosed) {
				t.Errorf("conn err %v", err)
			}
		})
	}
}

func TestClientDisconnect(t *testing.T) {
	for _, tc := range transports[:2] {
		t.Run(tc.name, func(t *testing.T) {
			testutil.CheckGoroutines(t)
			p := server(t)
			ctx := testContext(t)
			d := tc.dialer()
			defer d.CloseIdleConnections()
			watcher := dialSocket(t, &client.Dialer{}, p.URL(), "/orders", token(t, p, "watch", nil), nil)
			s, err := d.Connect(ctx, p.URL(), auth(token(t, p, "leaver-"+tc.name, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Disconnect(); err != nil {
				t.Fatal(err)
			}
			recv(t, s.Conn().Done(), "connection close")
			if s.Reason() != client.ReasonClientDisconnect {
				t.Errorf("reason %q", s.Reason())
			}
			if err := s.Emit("echo"); !errors.Is(err, client.ErrNotConnected) {
				t.Errorf("emit after disconnect: %v", err)
			}
			// The server saw the namespace disconnect before the transport went away.
			waitFor(t, "the server's disconnect", func() bool {
				r, err := watcher.EmitWithAck(ctx, "last-reason")
				return err == nil && r.String() == `["/ client namespace disconnect"]`
			})
		})
	}
}

// TestPingHandling runs a service with a short ping interval. engine.io schedules the next ping
// only after the pong of the previous one, so ten pings prove ten pongs. (The ping timeout is
// left long so that a loaded machine does not make the test flaky.)
func TestPingHandling(t *testing.T) {
	testutil.CheckGoroutines(t)
	p := ownServer(t, "PING_INTERVAL=50", "PING_TIMEOUT=1000")
	for _, tc := range transports {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			s := dialSocket(t, tc.dialer(), p.URL(), "/", token(t, p, "pinger", nil), nil)
			if s.Conn().PingInterval() != 50 {
				t.Errorf("ping interval %d", s.Conn().PingInterval())
			}
			waitFor(t, "ten pings", func() bool {
				if err := s.Err(); err != nil {
					t.Fatalf("the socket ended: %v", err)
				}
				return s.Conn().Stats().PingsReceived >= 10
			})
			if !s.Connected() {
				t.Fatalf("disconnected: %v", s.Err())
			}
			r, err := s.EmitWithAck(ctx, "echo", "alive")
			if err != nil || r.String() != `["alive"]` {
				t.Errorf("echo after pings: %s %v", r, err)
			}
		})
	}
}

// TestTransportClose: the server goes away.
func TestTransportClose(t *testing.T) {
	testutil.CheckGoroutines(t)
	p := ownServer(t)
	var socks []*client.Socket
	for _, tc := range transports[:2] {
		socks = append(socks, dialSocket(t, tc.dialer(), p.URL(), "/", token(t, p, "gone", nil), nil))
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for i, s := range socks {
		recv(t, s.Done(), "disconnect")
		if r := s.Reason(); r != client.ReasonTransportClose && r != client.ReasonTransportError {
			t.Errorf("%s: reason %q", transports[i].name, r)
		}
	}
}

// TestLocalAddr dials from another loopback address, as the load tool does.
func TestLocalAddr(t *testing.T) {
	for _, tc := range transports[:2] {
		t.Run(tc.name, func(t *testing.T) {
			testutil.CheckGoroutines(t)
			p := server(t)
			ctx := testContext(t)
			d := tc.dialer()
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}
			s := dialSocket(t, d, p.URL(), "/", token(t, p, "src", nil), nil)
			r, err := s.EmitWithAck(ctx, "whoami")
			if err != nil {
				t.Fatal(err)
			}
			var w struct{ Address string }
			if err := r.Decode(0, &w); err != nil || strings.TrimPrefix(w.Address, "::ffff:") != "127.0.0.2" {
				t.Errorf("server saw %q (%v)", w.Address, err)
			}
		})
	}
}

// TestRawMessages counts events without decoding them.
func TestRawMessages(t *testing.T) {
	testutil.CheckGoroutines(t)
	p := server(t)
	ctx := testContext(t)
	var events, other atomic.Int64
	d := &client.Dialer{OnRawMessage: func(data []byte, binary bool) bool {
		if !binary && bytes.HasPrefix(data, []byte(`2["echo"`)) {
			events.Add(1)
			return true
		}
		other.Add(1)
		return false
	}}
	decoded := make(chan struct{}, 10)
	s := dialSocket(t, d, p.URL(), "/", token(t, p, "raw", nil), func(s *client.Socket) {
		s.On("echo", func(client.Args, client.Ack) { decoded <- struct{}{} })
	})
	for i := 0; i < 5; i++ {
		if err := s.Emit("echo", i); err != nil {
			t.Fatal(err)
		}
	}
	// The acknowledgement follows the five echoes on the same connection.
	if _, err := s.EmitWithAck(ctx, "echo"); err != nil {
		t.Fatal(err)
	}
	if n := events.Load(); n != 5 {
		t.Errorf("raw hook took %d echo events, want 5", n)
	}
	if len(decoded) != 0 {
		t.Errorf("%d handled events were still decoded", len(decoded))
	}
	if other.Load() < 2 { // CONNECT, welcome, the ack
		t.Errorf("raw hook saw %d other messages", other.Load())
	}
}

func TestEmitErrors(t *testing.T) {
	testutil.CheckGoroutines(t)
	p := server(t)
	s := dialSocket(t, &client.Dialer{}, p.URL(), "/", token(t, p, "errs", nil), nil)
	if err := s.Emit("disconnect"); !errors.Is(err, client.ErrReservedEvent) {
		t.Errorf("reserved event: %v", err)
	}
	if err := s.Emit("x", json.RawMessage(`{bad`)); err == nil {
		t.Error("invalid json.RawMessage was sent")
	}
	if err := s.Emit("x", func() {}); err == nil {
		t.Error("a func argument was sent")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.EmitWithAck(ctx, "no-such-event"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ack timeout: %v", err)
	}
	if !s.Connected() {
		t.Error("an ack timeout disconnected the socket")
	}
}

// TestUpgradeKeepsOrder emits across the polling -> websocket switch: nothing may be lost,
// duplicated or reordered in either direction.
func TestUpgradeKeepsOrder(t *testing.T) {
	testutil.CheckGoroutines(t)
	p := server(t)
	const n = 300
	got := make(chan int, n)
	d := &client.Dialer{Transport: client.TransportPolling, Upgrade: true}
	s := dialSocket(t, d, p.URL(), "/", token(t, p, "order", nil), func(s *client.Socket) {
		s.On("echo", func(args client.Args, _ client.Ack) {
			var i int
			if err := args.Decode(0, &i); err != nil {
				t.Error(err)
			}
			got <- i
		})
	})
	sawPolling := false
	for i := 0; i < n; i++ {
		if s.Conn().Transport() == client.TransportPolling {
			sawPolling = true
		}
		if err := s.Emit("echo", i); err != nil {
			t.Fatalf("emit %d: %v", i, err)
		}
	}
	for i := 0; i < n; i++ {
		if v := recv(t, got, "echo"); v != i {
			t.Fatalf("echo %d arrived as number %d", v, i)
		}
	}
	waitFor(t, "the upgrade", func() bool { return s.Conn().Transport() == client.TransportWebSocket })
	if !sawPolling {
		t.Log("the upgrade completed before the first emit; the switch was not exercised under load")
	}
}

// TestManyClients runs many connections in one process from several source addresses, as the
// load tool does, with emits from all of them at once.
func TestManyClients(t *testing.T) {
	testutil.CheckGoroutines(t)
	p := server(t)
	ctx := testContext(t)
	dialers := []*client.Dialer{
		{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}},
		{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 3)}, Transport: client.TransportPolling},
	}
	defer func() {
		for _, d := range dialers {
			d.CloseIdleConnections()
		}
	}()
	const n = 60
	tok := token(t, p, "many", nil)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			s, err := dialers[i%2].Connect(ctx, p.URL(), auth(tok))
			if err != nil {
				errs <- err
				return
			}
			defer s.Disconnect()
			r, err := s.EmitWithAck(ctx, "echo", i)
			if err == nil && r.String() != "["+strconv.Itoa(i)+"]" {
				err = errors.New("echo " + r.String())
			}
			errs <- err
		}()
	}
	for i := 0; i < n; i++ {
		if err := recv(t, errs, "a client"); err != nil {
			t.Error(err)
		}
	}
}
