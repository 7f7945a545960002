package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/service/config"
)

// TestE2EDrain sends SIGTERM while clients are connected and an emit waits for
// acknowledgements: /ready turns 503, new connections are refused, websocket clients are
// closed in batches spread over DRAIN_DURATION and try to reconnect, the in-flight API call
// completes, and the process exits 0.
func TestE2EDrain(t *testing.T) {
	testutil.CheckGoroutines(t)
	p := startService(t, "DRAIN_DURATION=2s")
	var out struct {
		Reasons    []string
		Spread     float64
		Reconnects []bool
		ReadyAfter int
		NewClient  string
		Inflight   apiCall
		Polling    string
	}
	p.runJS(t, `
const opts = { transports: ['websocket'], reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 };
const clients = [];
for (let i = 0; i < 6; i++) clients.push(await connect({ token: sign({ _id: 'w' + i }) }, opts));
const poller = await connect({ token: sign({ _id: 'p' }) }, Object.assign({}, opts, { transports: ['polling'] }));
const slow = await connect({ token: sign({ _id: 'slow' }) }, { transports: ['websocket'] });
const ends = clients.map((s) => new Promise((resolve) => s.once('disconnect', (reason) => resolve({ reason, at: Date.now() }))));
const attempts = clients.map((s) => new Promise((resolve) => s.io.once('reconnect_attempt', () => resolve(true))));
const pollerEnd = new Promise((resolve) => poller.once('disconnect', resolve));

// An API call in flight: the slow client receives the event and never answers.
const asked = next(slow, 'ask');
const inflight = api('/api/v1/internal/emit', { event: 'ask', room: 'user:slow', ack: { timeoutMs: 1500 } });
await asked;
process.kill(Number(process.env.PID), 'SIGTERM');

let ready = 200;
for (let i = 0; i < 200 && ready === 200; i++) {
  ready = (await fetch(BASE + '/ready')).status;
  if (ready === 200) await new Promise((r) => setTimeout(r, 10));
}
const newClient = await refusal({ token: sign({ _id: 'late' }) }, { transports: ['polling'] });
const done = await Promise.all(ends);
const at = done.map((d) => d.at);
const reconnects = await Promise.all(attempts);
for (const s of clients) s.io.reconnection(false);
return {
  reasons: done.map((d) => d.reason), spread: (Math.max(...at) - Math.min(...at)) / 1000, reconnects,
  readyAfter: ready, newClient, inflight: await inflight, polling: await pollerEnd,
};`, &out, "PID="+strconv.Itoa(p.cmd.Process.Pid))

	if out.ReadyAfter != 503 {
		t.Errorf("/ready after SIGTERM: %d, want 503", out.ReadyAfter)
	}
	if out.NewClient == "connected" {
		t.Error("a new client connected during the drain")
	}
	for i, r := range out.Reasons {
		if r != "transport close" || !out.Reconnects[i] {
			t.Errorf("client %d: reason %q, reconnect attempted %v; want transport close and a reconnect", i, r, out.Reconnects[i])
		}
	}
	// Eight sessions (the six, the poller and the slow one), in no set order, over 2s: eight
	// batches 2/8 s apart, so the six span at least five gaps (1.25s). The bound comes from the
	// service's own waits, not from the machine's speed.
	if out.Spread < 1.2 {
		t.Errorf("clients were closed within %.2fs, want them spread over the drain", out.Spread)
	}
	if out.Polling != "transport close" {
		t.Errorf("polling client: %q", out.Polling)
	}
	if got := fmt.Sprintf("%d %s", out.Inflight.Status, compact(out.Inflight.Body)); got != `200 {"responses":[],"success":true,"timedOut":true}` {
		t.Errorf("in-flight API call: %s", got)
	}
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("service still running 20s after SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	p.waitLog(map[string]string{"msg": "drained"})
}

// TestE2EInternalAddr moves the internal API to its own listener.
func TestE2EInternalAddr(t *testing.T) {
	testutil.CheckGoroutines(t)
	p := startService(t, "INTERNAL_ADDR=127.0.0.1:0")
	if p.apiURL == p.url {
		t.Fatal("no separate internal listener announced")
	}
	// The main port no longer serves the API, whatever the key.
	req, _ := http.NewRequest("POST", p.url+"/api/v1/internal/emit", strings.NewReader(`{"event":"e","room":"r"}`))
	req.Header.Set("x-internal-key", p.key)
	if status, body := doJSON(t, req); status != 404 {
		t.Errorf("API on the main port: %d %v", status, body)
	}
	req, _ = http.NewRequest("POST", p.apiURL+"/api/v1/internal/emit", strings.NewReader(`{"event":"e","room":"r"}`))
	if status, _ := doJSON(t, req); status != 403 {
		t.Errorf("internal API without key: %d", status)
	}
	for _, base := range []string{p.url, p.apiURL} {
		resp, err := http.Get(base + "/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s/health: %d", base, resp.StatusCode)
		}
	}
	var got []any
	p.runJS(t, `
const s = await connect({ token: sign({ _id: 'u1' }) });
const got = next(s, 'via-internal');
const r = await api('/api/v1/internal/emit', { event: 'via-internal', room: 'user:u1', payload: 1 });
if (r.status !== 200) throw new Error(JSON.stringify(r));
return await got;`, &got)
	if len(got) != 1 || got[0] != 1.0 {
		t.Fatalf("received %v", got)
	}
}

// TestE2ESingleSession: with SINGLE_SESSION=replace a user's new connection disconnects the
// user's older one in the same namespace; other users and other namespaces keep theirs.
func TestE2ESingleSession(t *testing.T) {
	testutil.CheckGoroutines(t)
	p := startService(t, "SINGLE_SESSION=replace", "NAMESPACES=/orders")
	var out map[string]any
	p.runJS(t, `
const token = sign({ _id: 'u1' });
const tab1 = await connect({ token });
const other = await connect({ token: sign({ _id: 'u2' }) });
const orders = await connect({ token }, { ns: '/orders' });
const replaced = next(tab1, 'disconnect');
const tab2 = await connect({ token });
const reason = (await replaced)[0];
const got = next(tab2, 'hello');
await api('/api/v1/internal/emit', { event: 'hello', room: 'user:u1', payload: 'tab2' });
return { reason, tab1: tab1.connected, tab2: tab2.connected, other: other.connected, orders: orders.connected, got: (await got)[0] };`, &out)
	want := map[string]any{"reason": "io server disconnect", "tab1": false, "tab2": true, "other": true, "orders": true, "got": "tab2"}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("%s: %v, want %v", k, out[k], v)
		}
	}
}

// TestE2EHealthAndMetrics checks /health, /ready and the metrics after some traffic.
func TestE2EHealthAndMetrics(t *testing.T) {
	testutil.CheckGoroutines(t)
	p := startService(t)
	var out map[string]any
	p.runJS(t, `
const a = await connect({ token: sign({ _id: 'u1' }) });
await refusal({});
await refusal({ token: 'bad' });
a.emit('hello', 1);
await a.emitWithAck('join_order', 'o1');
await api('/api/v1/internal/emit', { event: 'x', room: 'user:u1' });
await api('/api/v1/internal/emit/batch', { emits: [{ event: 'x', room: 'user:u1' }, { event: 'y', room: 'user:u1' }] });
await api('/api/v1/internal/emit', { event: 'x' });
const health = await (await fetch(BASE + '/health')).json();
return { health };`, &out)
	h := out["health"].(map[string]any)
	if h["status"] != "healthy" || h["activeConnections"] != 1.0 || h["uptime"].(float64) <= 0 {
		t.Errorf("health while connected: %v", h)
	}
	p.waitLogCount(map[string]string{"msg": "disconnect"}, 1)

	resp, err := http.Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`realtime_connections{namespace="/"} 0`,
		`realtime_connects_total{namespace="/"} 1`,
		`realtime_connect_errors_total{namespace="/",reason="no_token"} 1`,
		`realtime_connect_errors_total{namespace="/",reason="invalid_token"} 1`,
		`realtime_disconnects_total{namespace="/",reason="client namespace disconnect"} 1`,
		`realtime_events_received_total{namespace="/"} 2`,
		`realtime_events_sent_total{namespace="/"} 3`,
		"realtime_broadcast_recipients_count 3\n", // every API emit reached the one socket
		"realtime_broadcast_recipients_sum 3\n",
		`realtime_write_queue_drops_total{kind="volatile"} 0`,
		`realtime_api_requests_total{code="200",route="/api/v1/internal/emit"} 1`,
		`realtime_api_requests_total{code="200",route="/api/v1/internal/emit/batch"} 1`,
		`realtime_api_requests_total{code="400",route="/api/v1/internal/emit"} 1`,
		`realtime_api_emits_total{route="/api/v1/internal/emit/batch"} 2`,
		`realtime_write_queue_drops_total{kind="write_queue_full"} 0`,
		`realtime_draining 0`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if status, body := p.get(t, "/ready"); status != 200 || body["status"] != "ready" {
		t.Errorf("ready: %d %v", status, body)
	}
	if status, _ := p.get(t, "/"); status != 404 {
		t.Errorf("the test page is served outside dev mode: %d", status)
	}
}

// TestE2EDevMode runs `realtime --dev` with no configuration at all.
func TestE2EDevMode(t *testing.T) {
	testutil.CheckGoroutines(t)
	p := startServiceArgs(t, []string{"--dev"}, "JWT_SECRET=", "INTERNAL_SERVICE_KEY=", "HOST=", "LOG_FORMAT=text")
	p.secret, p.key = config.DevJWTSecret, config.DevInternalServiceKey
	p.waitOutput("More tokens:") // the banner's last line: stderr may lag behind stdout
	out := p.output()
	for _, want := range []string{"DEVELOPMENT MODE", "Example token", "curl -s -X POST http://127.0.0.1:", "x-internal-key: " + config.DevInternalServiceKey, "Test page:"} {
		if !strings.Contains(out, want) {
			t.Errorf("dev banner lacks %q:\n%s", want, out)
		}
	}
	token := ""
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "Example token") && i+1 < len(lines) {
			token = strings.TrimSpace(lines[i+1])
		}
	}
	resp, err := http.Get(p.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), token) || !strings.Contains(string(page), `id="emit-send"`) {
		t.Fatalf("test page: %d, token shown: %v", resp.StatusCode, strings.Contains(string(page), token))
	}
	var got []json.RawMessage
	p.runJS(t, `
const s = await connect({ token: process.env.TOKEN });
const got = next(s, 'hello');
await api('/api/v1/internal/emit', { event: 'hello', room: 'user:dev-user', payload: { message: 'hi' } });
return await got;`, &got, "TOKEN="+token)
	if len(got) != 1 || string(got[0]) != `{"message":"hi"}` {
		t.Fatalf("dev token and key: received %s", got)
	}
}
