package nodepeer_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	nodepeer "github.com/tomato-code/realtime/bench/peers/node"
	"github.com/tomato-code/realtime/internal/testutil"
)

// clientScript drives the reference service with the official socket.io-client and its internal
// API, and prints what it observed as one JSON object.
const clientScript = `
const { io } = require('socket.io-client');
const jwt = require('jsonwebtoken');
const url = process.env.SERVICE_URL, key = process.env.INTERNAL_KEY, secret = process.env.JWT_SECRET;
const out = {};
const post = async (path, body, k = key) => {
  const r = await fetch(url + path, { method: 'POST', headers: { 'x-internal-key': k, 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
};
const refused = (auth) => new Promise((resolve) => {
  const s = io(url, { auth, transports: ['websocket'], reconnection: false });
  s.on('connect', () => { s.close(); resolve('connected'); });
  s.on('connect_error', (err) => { s.close(); resolve(err.message); });
});
const next = (s, ev) => new Promise((resolve) => s.once(ev, (...args) => resolve(args)));
const collect = (s, ev, n) => new Promise((resolve) => {
  const got = [];
  s.on(ev, (...args) => { got.push(args); if (got.length === n) resolve(got); });
});
(async () => {
  out.noToken = await refused({});
  out.badToken = await refused({ token: jwt.sign({ _id: 'u1' }, 'wrong-secret') });
  out.expired = await refused({ token: jwt.sign({ _id: 'u1', exp: Math.floor(Date.now() / 1000) - 60 }, secret) });
  for (const transport of ['websocket', 'polling']) {
    const token = jwt.sign({ _id: 'u-' + transport, restaurantId: 'r-' + transport }, secret);
    const s = io(url, { auth: { token }, transports: [transport], reconnection: false });
    await next(s, 'connect');
    const r = {};
    r.health = (await (await fetch(url + '/health')).json()).activeConnections;
    let got = next(s, 'order_update');
    r.emit = await post('/api/v1/internal/emit', { event: 'order_update', room: 'user:u-' + transport, payload: { status: 'ready', n: 1 } });
    r.userEvent = await got;
    got = next(s, 'new_order');
    await post('/api/v1/internal/emit', { event: 'new_order', rooms: ['restaurant:r-' + transport, 'user:u-' + transport], payload: 'once' });
    r.restaurantEvent = await got;
    r.joinAck = await s.emitWithAck('join_order', 'o1');
    got = collect(s, 'batch', 2);
    r.batch = await post('/api/v1/internal/emit/batch', { emits: [{ event: 'batch', room: 'order:o1', payload: 1 }, { event: 'batch', room: 'order:o1', payload: 2 }] });
    r.batchEvents = await got;
    s.on('ask', (v, ack) => ack(v + '!'));
    r.ackEmit = await post('/api/v1/internal/emit', { event: 'ask', room: 'order:o1', payload: 'hi', ack: { timeoutMs: 2000 } });
    s.close();
    out[transport] = r;
  }
  out.forbidden = await post('/api/v1/internal/emit', { event: 'x', room: 'y' }, 'wrong');
  out.noRoom = await post('/api/v1/internal/emit', { event: 'x' });
  out.reserved = await post('/api/v1/internal/emit', { event: 'disconnect', room: 'y' });
  out.notJSON = await post('/api/v1/internal/emit', '{');
  out.healthAfter = (await (await fetch(url + '/health')).json());
  console.log(JSON.stringify(out));
})().catch((err) => { console.error(err); process.exit(1); });
`

type apiReply struct {
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
}

type transportResult struct {
	Health          int               `json:"health"`
	Emit            apiReply          `json:"emit"`
	UserEvent       []json.RawMessage `json:"userEvent"`
	RestaurantEvent []json.RawMessage `json:"restaurantEvent"`
	JoinAck         json.RawMessage   `json:"joinAck"`
	Batch           apiReply          `json:"batch"`
	BatchEvents     json.RawMessage   `json:"batchEvents"`
	AckEmit         apiReply          `json:"ackEmit"`
}

func TestReferenceService(t *testing.T) {
	testutil.CheckGoroutines(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := testutil.NodeDir(t)
	p, err := nodepeer.Start(ctx, nodepeer.Config{NodePath: filepath.Join(dir, "node_modules"), Output: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()

	raw := testutil.RunNode(ctx, t, clientScript,
		"SERVICE_URL="+p.URL(), "INTERNAL_KEY="+p.InternalKey(), "JWT_SECRET="+p.JWTSecret())
	var out struct {
		NoToken, BadToken, Expired  string
		Websocket                   transportResult `json:"websocket"`
		Polling                     transportResult `json:"polling"`
		Forbidden, NoRoom, Reserved apiReply
		NotJSON                     apiReply `json:"notJSON"`
		HealthAfter                 map[string]any
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	if out.NoToken != "Authentication error" || out.BadToken != "Invalid token" || out.Expired != "Invalid token" {
		t.Errorf("refusals: no token %q, bad token %q, expired %q", out.NoToken, out.BadToken, out.Expired)
	}
	for name, r := range map[string]transportResult{"websocket": out.Websocket, "polling": out.Polling} {
		if r.Health != 1 {
			t.Errorf("%s: health activeConnections = %d, want 1", name, r.Health)
		}
		expectJSON(t, name+" emit reply", r.Emit.Body, `{"success":true}`)
		expectJSON(t, name+" user event", mustJSON(r.UserEvent), `[{"status":"ready","n":1}]`)
		// The socket is in both rooms: it gets the event once.
		expectJSON(t, name+" restaurant event", mustJSON(r.RestaurantEvent), `["once"]`)
		expectJSON(t, name+" join ack", r.JoinAck, `{"success":true}`)
		expectJSON(t, name+" batch reply", r.Batch.Body, `{"success":true,"results":[{"success":true},{"success":true}]}`)
		expectJSON(t, name+" batch order", r.BatchEvents, `[[1],[2]]`)
		expectJSON(t, name+" ack emit", r.AckEmit.Body, `{"success":true,"responses":["hi!"],"timedOut":false}`)
	}
	if out.Forbidden.Status != 403 {
		t.Errorf("wrong key: status %d", out.Forbidden.Status)
	}
	expectJSON(t, "wrong key body", out.Forbidden.Body, `{"message":"Forbidden"}`)
	for name, r := range map[string]apiReply{"no room": out.NoRoom, "reserved": out.Reserved, "not JSON": out.NotJSON} {
		if r.Status != 400 {
			t.Errorf("%s: status %d, want 400 (body %s)", name, r.Status, r.Body)
		}
	}
	if out.HealthAfter["status"] != "healthy" {
		t.Errorf("health: %v", out.HealthAfter)
	}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// expectJSON compares two JSON texts by value.
func expectJSON(t *testing.T, what string, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s: %s is not JSON: %v", what, got, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad expectation %s", what, want)
	}
	if string(mustJSON(g)) != string(mustJSON(w)) {
		t.Errorf("%s: got %s, want %s", what, got, want)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Logf("node: %s", b)
	return len(b), nil
}
