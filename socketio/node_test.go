package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/socketio"
)

// Tests with the official socket.io-client (test/node) over real loopback connections.

func startServer(t *testing.T, cfg socketio.Config) (*socketio.Server, *httptest.Server) {
	srv, ts, _ := startTrackedServer(t, cfg)
	return srv, ts
}

// connTracker records the server's TCP connections, websockets included (httptest forgets
// hijacked ones), so that a test can cut them all as a network failure would.
type connTracker struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *connTracker) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

// cut closes every connection accepted so far. A websocket read by a poller no longer has
// its net.Conn (the server took its socket over), so its socket is shut down too.
func (l *connTracker) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
	shutdownSockets(l.Addr().(*net.TCPAddr).Port)
}

func startTrackedServer(t *testing.T, cfg socketio.Config) (*socketio.Server, *httptest.Server, *connTracker) {
	t.Helper()
	srv := socketio.NewServer(cfg)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ts := httptest.NewUnstartedServer(mux)
	tracker := &connTracker{Listener: ts.Listener}
	ts.Listener = tracker
	ts.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		ts.Close()
	})
	return srv, ts, tracker
}

// runNode runs a client script with URL set and returns its output lines decoded from JSON.
func runNode(t *testing.T, script, url string, env ...string) []map[string]any {
	t.Helper()
	testutil.NodeDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := testutil.RunNode(ctx, t, script, append(env, "URL="+url)...)
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("node output %q: %v\nall:\n%s", line, err, out)
		}
		lines = append(lines, m)
	}
	return lines
}

// expectLines compares node output with the wanted JSON lines, in order.
func expectLines(t *testing.T, got []map[string]any, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d lines %v, want %d: %v", len(got), got, len(want), want)
	}
	for i, w := range want {
		var wm map[string]any
		if err := json.Unmarshal([]byte(w), &wm); err != nil {
			t.Fatalf("bad wanted line %s: %v", w, err)
		}
		gb, _ := json.Marshal(got[i])
		wb, _ := json.Marshal(wm)
		if string(gb) != string(wb) {
			t.Fatalf("line %d = %s, want %s", i, gb, wb)
		}
	}
}

const clientPrelude = `
const { io } = require("socket.io-client");
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const bytes = (b) => Array.from(new Uint8Array(b));
setTimeout(() => { out({ timeout: true }); process.exit(1); }, 20000);
`

const echoScript = clientPrelude + `
const transports = process.env.TRANSPORTS.split(",");
const socket = io(process.env.URL, { transports, auth: { token: "t1" }, reconnection: false });
socket.on("connect_error", (e) => { out({ connect_error: e.message }); process.exit(1); });
socket.on("ask", (n, cb) => cb(n * 2, "ok"));
socket.on("never", () => {}); // never acknowledges
socket.on("connect", async () => {
  if (transports.length > 1 && socket.io.engine.transport.name !== "websocket") {
    await new Promise((r) => socket.io.engine.once("upgrade", r));
  }
  out({ transport: await socket.emitWithAck("transport") });
  // emitWithAck resolves with the first argument only: the callback form sees them all.
  const r = await new Promise((res) => socket.emit("echo", 1, "two", { three: [true, null, 1.5] }, Buffer.from([1, 2, 3]), "é😀", (...a) => res(a)));
  out({ echo: [r[0], r[1], r[2], bytes(r[3]), r[4]] });
  socket.emit("bin");
  const [b, o] = await new Promise((res) => socket.once("bin", (b, o) => res([b, o])));
  out({ bin: bytes(b), nested: bytes(o.nested), text: o.text });
  out({ asked: await socket.emitWithAck("ask-me") });
  out({ never: await socket.emitWithAck("ask-never") });
  try {
    await socket.timeout(200).emitWithAck("no-ack");
    out({ noAck: "answered" });
  } catch (e) {
    out({ noAck: e.message });
  }
  socket.disconnect();
  out({ done: true });
  process.exit(0);
});
`

func echoServer(t *testing.T, disconnects chan<- string) (*socketio.Server, *httptest.Server) {
	srv, ts := startServer(t, socketio.Config{})
	srv.Of("/").OnConnection(func(s *socketio.Socket) {
		s.On("transport", func(s *socketio.Socket, _ socketio.Args, ack socketio.Ack) { ack(s.Transport()) })
		s.On("echo", func(s *socketio.Socket, args socketio.Args, ack socketio.Ack) { ack(args.Values()...) })
		s.On("bin", func(s *socketio.Socket, _ socketio.Args, _ socketio.Ack) {
			s.Emit("bin", []byte{4, 5}, map[string]any{"nested": []byte{6}, "text": "t"})
		})
		s.On("ask-me", func(s *socketio.Socket, _ socketio.Args, ack socketio.Ack) {
			// Waiting for this client's answer must not hold its handler path.
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				r, err := s.EmitWithAck(ctx, "ask", 21)
				if err != nil {
					ack(err.Error())
					return
				}
				ack(r.Values()...)
			}()
		})
		s.On("ask-never", func(s *socketio.Socket, _ socketio.Args, ack socketio.Ack) {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				defer cancel()
				_, err := s.EmitWithAck(ctx, "never")
				ack(errors.Is(err, context.DeadlineExceeded))
			}()
		})
		s.OnDisconnect(func(reason string) { disconnects <- reason })
	})
	return srv, ts
}

func TestNodeClientTransports(t *testing.T) {
	testutil.CheckGoroutines(t)
	for _, tc := range []struct{ transports, final string }{
		{"websocket", "websocket"},
		{"polling", "polling"},
		{"polling,websocket", "websocket"},
	} {
		t.Run(tc.transports, func(t *testing.T) {
			disconnects := make(chan string, 1)
			_, ts := echoServer(t, disconnects)
			lines := runNode(t, echoScript, ts.URL, "TRANSPORTS="+tc.transports)
			expectLines(t, lines,
				`{"transport":"`+tc.final+`"}`,
				`{"echo":[1,"two",{"three":[true,null,1.5]},[1,2,3],"é😀"]}`,
				`{"bin":[4,5],"nested":[6],"text":"t"}`,
				`{"asked":42}`,
				`{"never":true}`,
				`{"noAck":"operation has timed out"}`,
				`{"done":true}`)
			select {
			case r := <-disconnects:
				// The script exits right after disconnecting: its "41" may be lost with the
				// connection, and an aborted poll is a transport error.
				if r != socketio.ReasonClientNamespaceDisconnect && r != socketio.ReasonTransportClose && r != socketio.ReasonTransportError {
					t.Fatalf("disconnect reason %q", r)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no disconnect")
			}
		})
	}
}

const namespacesScript = clientPrelude + `
const url = process.env.URL;
const opts = { transports: ["websocket"], reconnection: false, forceNew: true };
function attempt(nsp, auth) {
  return new Promise((resolve) => {
    const s = io(url + nsp, { ...opts, auth });
    s.on("connect", () => s.once("hello", (name) => { s.disconnect(); resolve({ nsp, hello: name }); }));
    s.on("connect_error", (e) => { s.disconnect(); resolve({ nsp, error: e.message, data: e.data === undefined ? null : e.data }); });
  });
}
(async () => {
  out(await attempt("/", {}));
  out(await attempt("/admin", {}));
  out(await attempt("/admin", { token: "bad" }));
  out(await attempt("/admin", { token: "secret" }));
  out(await attempt("/dyn-42", {}));
  out(await attempt("/nope", {}));
  // Two namespaces over one connection (the default multiplexing).
  const a = io(url + "/", { transports: ["websocket"], reconnection: false });
  const b = io(url + "/dyn-7", { transports: ["websocket"], reconnection: false });
  const names = await Promise.all([a, b].map((s) => new Promise((r) => s.once("hello", r))));
  out({ multiplexed: names, sameEngine: a.io.engine === b.io.engine, distinctIds: a.id !== b.id });
  b.disconnect();
  out({ afterLeave: await a.emitWithAck("ping") });
  a.disconnect();
  process.exit(0);
})();
`

func TestNodeClientNamespaces(t *testing.T) {
	testutil.CheckGoroutines(t)
	srv, ts := startServer(t, socketio.Config{})
	hello := func(s *socketio.Socket) { s.Emit("hello", s.Namespace().Name()) }
	srv.Of("/").OnConnection(func(s *socketio.Socket) {
		hello(s)
		s.On("ping", func(_ *socketio.Socket, _ socketio.Args, ack socketio.Ack) { ack("pong") })
	})
	admin := srv.Of("/admin")
	admin.Use(func(s *socketio.Socket) error {
		var auth struct{ Token string }
		json.Unmarshal(s.Handshake().Auth, &auth)
		switch auth.Token {
		case "":
			return errors.New("Authentication error")
		case "secret":
			return nil
		}
		return &socketio.ConnectError{Message: "Invalid token", Data: map[string]any{"reason": "expired"}}
	})
	admin.OnConnection(hello)
	srv.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`)).OnConnection(hello)

	lines := runNode(t, namespacesScript, ts.URL)
	expectLines(t, lines,
		`{"nsp":"/","hello":"/"}`,
		`{"nsp":"/admin","error":"Authentication error","data":null}`,
		`{"nsp":"/admin","error":"Invalid token","data":{"reason":"expired"}}`,
		`{"nsp":"/admin","hello":"/admin"}`,
		`{"nsp":"/dyn-42","hello":"/dyn-42"}`,
		`{"nsp":"/nope","error":"Invalid namespace","data":null}`,
		`{"multiplexed":["/","/dyn-7"],"sameEngine":true,"distinctIds":true}`,
		`{"afterLeave":"pong"}`)
}

const roomsScript = clientPrelude + `
const url = process.env.URL;
const rooms = [["a"], ["a", "b"], ["b"], []];
(async () => {
  const sockets = await Promise.all(rooms.map((r, i) => new Promise((resolve) => {
    const s = io(url, { transports: [i % 2 ? "polling" : "websocket"], forceNew: true, reconnection: false });
    s.received = [];
    s.onAny((ev, ...args) => s.received.push([ev, ...args]));
    s.on("connect", async () => { await s.emitWithAck("join", r); resolve(s); });
  })));
  await sockets[0].emitWithAck("broadcasts");
  // The last broadcast ("end") goes to everyone; wait until each client has it.
  await Promise.all(sockets.map((s) => new Promise((r) => {
    const check = () => (s.received.some((e) => e[0] === "end") ? r() : setTimeout(check, 10));
    check();
  })));
  sockets.forEach((s, i) => out({ i, received: s.received.map((e) => e.join(":")) }));
  sockets.forEach((s) => s.disconnect());
  process.exit(0);
})();
`

func TestNodeClientRooms(t *testing.T) {
	testutil.CheckGoroutines(t)
	srv, ts := startServer(t, socketio.Config{})
	ns := srv.Of("/")
	ns.OnConnection(func(s *socketio.Socket) {
		s.On("join", func(s *socketio.Socket, args socketio.Args, ack socketio.Ack) {
			var rooms []string
			args.Decode(0, &rooms)
			s.Join(rooms...)
			ack()
		})
		s.On("broadcasts", func(s *socketio.Socket, _ socketio.Args, ack socketio.Ack) {
			ns.To("a", "b").Emit("ab", 1)            // 0, 1, 2 once each
			ns.To("a", "b").Except("b").Emit("x", 2) // 0
			s.Broadcast().Emit("others", 3)          // 1, 2, 3
			s.To("b").Emit("b-not-me", 4)            // 1, 2
			ns.Emit("end", 5)                        // everyone
			ack()
		})
	})
	lines := runNode(t, roomsScript, ts.URL)
	expectLines(t, lines,
		`{"i":0,"received":["ab:1","x:2","end:5"]}`,
		`{"i":1,"received":["ab:1","others:3","b-not-me:4","end:5"]}`,
		`{"i":2,"received":["ab:1","others:3","b-not-me:4","end:5"]}`,
		`{"i":3,"received":["others:3","end:5"]}`)
}

const reconnectScript = clientPrelude + `
const socket = io(process.env.URL, { transports: [process.env.TRANSPORT], reconnectionDelay: 50, reconnectionDelayMax: 100 });
let connects = 0;
socket.on("connect", () => {
  connects++;
  out({ connect: connects });
  if (connects === 1) socket.emit("drop");
  if (connects === 2) process.exit(0);
});
socket.on("disconnect", (reason) => out({ disconnect: reason }));
`

func TestNodeClientReconnects(t *testing.T) {
	testutil.CheckGoroutines(t)
	for _, transport := range []string{"websocket", "polling"} {
		t.Run(transport, func(t *testing.T) {
			srv, ts, tracker := startTrackedServer(t, socketio.Config{})
			var once sync.Once
			reasons := make(chan string, 2)
			srv.Of("/").OnConnection(func(s *socketio.Socket) {
				s.OnDisconnect(func(r string) { reasons <- r })
				// Cut the connection as a network failure would, without a DISCONNECT: the
				// client sees a transport close and reconnects by itself.
				s.On("drop", func(*socketio.Socket, socketio.Args, socketio.Ack) { once.Do(func() { go tracker.cut() }) })
			})
			lines := runNode(t, reconnectScript, ts.URL, "TRANSPORT="+transport)
			want := `{"disconnect":"transport close"}`
			if transport == "polling" {
				want = `{"disconnect":"transport error"}` // a failed poll request, in engine.io-client terms
			}
			expectLines(t, lines, `{"connect":1}`, want, `{"connect":2}`)
			if r := <-reasons; r != socketio.ReasonTransportClose && r != socketio.ReasonTransportError && r != socketio.ReasonPingTimeout {
				t.Fatalf("server-side reason %q", r)
			}
		})
	}
}
