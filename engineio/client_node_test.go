package engineio

import (
	"context"
	"encoding/json"
	"strings"
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
