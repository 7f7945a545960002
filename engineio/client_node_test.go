package engineio

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
)

// The official engine.io-client (pinned in test/node) against this server: handshake, polling,
// the upgrade to websocket, text and binary both ways, server-initiated close.
const nodeClientScript = `
const { Socket } = require("engine.io-client");
const url = process.env.EIO_URL;
const transports = process.env.EIO_TRANSPORTS.split(",");
const socket = new Socket(url, { path: "/engine.io/", transports });
const log = (o) => process.stdout.write(JSON.stringify(o) + "\n");
let got = [];
socket.on("open", () => {
  log({ event: "open", transport: socket.transport.name });
  if (transports.length === 1 || socket.transport.name === "websocket") start();
});
socket.on("upgrade", (t) => { log({ event: "upgrade", transport: t.name }); start(); });
let started = false;
function start() {
  if (started) return;
  started = true;
  socket.send("hello");
  socket.send(Uint8Array.from([1, 2, 3]));
  socket.send("bye");
}
socket.on("message", (data) => {
  got.push(typeof data === "string" ? data : "bin:" + Array.from(new Uint8Array(data)).join(","));
  if (got.length === 3) log({ event: "echo", got, transport: socket.transport.name });
});
socket.on("close", (reason) => { log({ event: "close", reason }); process.exit(0); });
setTimeout(() => { log({ event: "timeout" }); process.exit(1); }, 10000);
`

func TestOfficialClient(t *testing.T) {
	testutil.CheckGoroutines(t)
	for _, transports := range []string{"polling,websocket", "websocket", "polling"} {
		t.Run(transports, func(t *testing.T) {
			testutil.NodeDir(t)
			ts := newTestServer(t, Config{PingInterval: 100 * time.Millisecond, PingTimeout: 500 * time.Millisecond}, true)
			go func() {
				// After the echoes, close from the server side: the client must see "close".
				var r *recorder
				select {
				case r = <-ts.opened:
				case <-time.After(testTimeout):
					return // the node script reports the failure
				}
				for range 3 {
					select {
					case <-r.msgs:
					case <-time.After(testTimeout):
						return
					}
				}
				time.Sleep(300 * time.Millisecond) // let a few heartbeats pass on the final transport
				r.s.Close()
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out := testutil.RunNode(ctx, t, nodeClientScript, "EIO_URL="+ts.http.URL, "EIO_TRANSPORTS="+transports)
			var events []map[string]any
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				var ev map[string]any
				if err := json.Unmarshal([]byte(line), &ev); err != nil {
					t.Fatalf("output %q: %v", line, err)
				}
				events = append(events, ev)
			}
			final := "websocket"
			if transports == "polling" {
				final = "polling"
			}
			var echo, closed map[string]any
			for _, ev := range events {
				switch ev["event"] {
				case "echo":
					echo = ev
				case "close":
					closed = ev
				}
			}
			if echo == nil || closed == nil {
				t.Fatalf("events %v", events)
			}
			if g, _ := json.Marshal(echo["got"]); string(g) != `["hello","bin:1,2,3","bye"]` || echo["transport"] != final {
				t.Errorf("echo %v", echo)
			}
			if closed["reason"] != "transport close" {
				t.Errorf("client close %v", closed)
			}
		})
	}
}

// The Socket.IO client over polling only, against a minimal Socket.IO server written on this
// package: on the client's "go" event, the server sends the Socket.IO DISCONNECT and closes
// the session, as socketio's Disconnect(true) does. The DISCONNECT must reach the client
// before the Engine.IO close: the client then reports "io server disconnect" and does not
// reconnect. (With both in one payload it acted on the close first: "transport close" and a
// reconnection.)
const nodeServerDisconnectScript = `
const { io } = require("socket.io-client");
const socket = io(process.env.SIO_URL, { transports: ["polling"], reconnectionDelay: 20, reconnectionDelayMax: 20, randomizationFactor: 0 });
const log = (o) => process.stdout.write(JSON.stringify(o) + "\n");
let connects = 0;
socket.on("connect", () => { connects++; log({ event: "connect" }); socket.emit("go"); });
socket.io.on("reconnect_attempt", () => log({ event: "reconnect_attempt" }));
socket.on("disconnect", (reason) => {
  log({ event: "disconnect", reason });
  // A client that reconnects tries after 20 ms: ten times that without an attempt is enough.
  setTimeout(() => { log({ event: "done", connects, active: socket.active }); process.exit(0); }, 200);
});
socket.on("connect_error", (err) => log({ event: "connect_error", message: err.message }));
setTimeout(() => { log({ event: "timeout" }); process.exit(1); }, 10000);
`

// sioHandler speaks just enough Socket.IO for nodeServerDisconnectScript.
type sioHandler struct {
	s      *Session
	closed chan<- string
}

func (h sioHandler) OnMessage(data []byte, _ bool) {
	switch string(data) {
	case "0": // CONNECT to "/"
		h.s.Send(NewTextMessage([]byte(`0{"sid":"sio-sid"}`)))
	case `2["go"]`:
		h.s.Send(NewTextMessage([]byte("1"))) // DISCONNECT from "/"
		h.s.Close()
	}
}

func (h sioHandler) OnClose(reason string, _ error) { h.closed <- reason }

func TestSocketIOClientServerDisconnectOverPolling(t *testing.T) {
	testutil.CheckGoroutines(t)
	testutil.NodeDir(t)
	var opened atomic.Int32
	closed := make(chan string, 10)
	srv := NewServer(Config{PingInterval: time.Minute, OnOpen: func(s *Session) SessionHandler {
		opened.Add(1)
		return sioHandler{s: s, closed: closed}
	}})
	hs := httptest.NewServer(srv)
	defer hs.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := testutil.RunNode(ctx, t, nodeServerDisconnectScript, "SIO_URL="+hs.URL)
	var events []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("output %q: %v", line, err)
		}
		events = append(events, ev)
	}
	var disconnects []string
	var done map[string]any
	for _, ev := range events {
		switch ev["event"] {
		case "disconnect":
			disconnects = append(disconnects, ev["reason"].(string))
		case "reconnect_attempt", "connect_error", "timeout":
			t.Errorf("client: %v", ev)
		case "done":
			done = ev
		}
	}
	if len(disconnects) != 1 || disconnects[0] != "io server disconnect" {
		t.Errorf("client disconnects %q, want one \"io server disconnect\"", disconnects)
	}
	if done == nil || done["connects"] != 1.0 || done["active"] != false {
		t.Errorf("client end state %v (events %v)", done, events)
	}
	select {
	case <-closed:
	case <-time.After(testTimeout):
		t.Fatal("the session did not end")
	}
	if n := opened.Load(); n != 1 {
		t.Errorf("%d sessions opened, want 1: the client came back", n)
	}
}
