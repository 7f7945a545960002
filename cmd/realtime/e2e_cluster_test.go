package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	nodepeer "github.com/tomato-code/realtime/bench/peers/node"
	"github.com/tomato-code/realtime/internal/testutil"
)

// redisURL returns the Redis of the tests ($REDIS_URL, default 127.0.0.1:6379), skipping t
// when nothing answers there.
func redisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379"
	}
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatalf("REDIS_URL %q: %v", u, err)
	}
	c, err := net.DialTimeout("tcp", parsed.Host, time.Second)
	if err != nil {
		t.Skipf("no Redis at %s: %v", u, err)
	}
	c.Close()
	return u
}

func uniqueKey(t *testing.T) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "rt-e2e-" + hex.EncodeToString(b)
}

// TestE2ECluster runs two nodes on one Redis, with each way of subscribing to broadcasts: the
// internal API of either node reaches the clients of both, and lists and moves them wherever
// they are.
func TestE2ECluster(t *testing.T) {
	for _, mode := range []string{"pattern", "rooms"} {
		t.Run(mode, func(t *testing.T) { testE2ECluster(t, mode) })
	}
}

func testE2ECluster(t *testing.T, mode string) {
	testutil.CheckGoroutines(t)
	env := []string{"REDIS_URL=" + redisURL(t), "REDIS_KEY=" + uniqueKey(t), "NAMESPACES=/orders", "REDIS_SUBSCRIPTION=" + mode}
	a := startService(t, env...)
	b := startService(t, env...)
	for _, p := range []*proc{a, b} {
		p.waitLog(map[string]string{"msg": "listening", "adapter": "redis", "redisSubscription": mode})
	}
	var out map[string]any
	a.runJS(t, `
// Wait until both nodes see the cluster: /ready turns 200 once Redis answers.
for (const base of [BASE, process.env.B]) {
  for (let i = 0; i < 500; i++) {
    if ((await fetch(base + '/ready')).status === 200) break;
    await new Promise((r) => setTimeout(r, 10));
  }
}
const onA = await connect({ token: sign({ _id: 'u1' }) });
const connectB = (claims) => new Promise((resolve, reject) => {
  const s = io(process.env.B, { auth: { token: sign(claims) }, reconnection: false, forceNew: true });
  sockets.push(s);
  s.once('connect', () => resolve(s));
  s.once('connect_error', reject);
});
const onB = await connectB({ _id: 'u1' });
const bSock = await connectB({ _id: 'u2' });
const apiB = (path, body, opts) => fetch(process.env.B_API + path, {
  method: (opts && opts.method) || 'POST', headers: { 'x-internal-key': KEY, 'content-type': 'application/json' },
  body: body ? JSON.stringify(body) : undefined,
}).then(async (r) => ({ status: r.status, body: await r.json() }));
const out = {};
// An emit through node B reaches the user's socket on node A.
let got = next(onA, 'cross');
out.emit = await apiB('/api/v1/internal/emit', { event: 'cross', room: 'user:u1', payload: { from: 'B' } });
out.cross = (await got)[0];
// Listing through B finds sockets on both nodes.
out.sockets = (await apiB('/api/v1/internal/sockets?room=user:u1', null, { method: 'GET' })).body.sockets.length;
out.socketsU2 = (await apiB('/api/v1/internal/sockets?room=user:u2', null, { method: 'GET' })).body.sockets.map((s) => s.userId);
// Join through B, emit through A.
out.join = (await apiB('/api/v1/internal/rooms/join', { room: 'user:u1', join: 'order:9' })).status;
// Other nodes apply a join when the request reaches them through Redis, as with Node.js
// adapters: wait until node A lists its socket in the room.
for (let i = 0; i < 500; i++) {
  const r = await api('/api/v1/internal/sockets?room=order:9', null, { method: 'GET' });
  if (r.body.sockets.some((s) => s.id === onA.id)) break;
  await new Promise((r) => setTimeout(r, 10));
}
got = next(onA, 'o9');
await api('/api/v1/internal/emit', { event: 'o9', room: 'order:9', payload: 9 });
out.o9 = (await got)[0];
// Ack through B from a client on A.
onA.on('ask', (ack) => ack('from A'));
onB.on('ask', () => {}); // receives, never answers
out.ack = (await apiB('/api/v1/internal/emit', { event: 'ask', room: 'user:u1', ack: { timeoutMs: 1500 } })).body;
// Disconnect through B.
const gone = next(onA, 'disconnect');
out.disconnect = (await apiB('/api/v1/internal/disconnect', { room: 'user:u1' })).status;
out.reason = (await gone)[0];
if (onB.connected) await next(onB, 'disconnect');
out.stillB = onB.connected;
return out;`, &out, "B="+b.url, "B_API="+b.apiURL)
	if out["emit"].(map[string]any)["status"] != 200.0 || out["cross"].(map[string]any)["from"] != "B" {
		t.Errorf("cross-node emit: %v %v", out["emit"], out["cross"])
	}
	if out["sockets"] != 2.0 || len(out["socketsU2"].([]any)) != 1 || out["socketsU2"].([]any)[0] != "u2" {
		t.Errorf("cross-node listing: %v %v", out["sockets"], out["socketsU2"])
	}
	if out["join"] != 200.0 || out["o9"] != 9.0 {
		t.Errorf("cross-node join: %v %v", out["join"], out["o9"])
	}
	// u1 has a socket on each node: the one on A answers, the one on B never does.
	ack := out["ack"].(map[string]any)
	if ack["timedOut"] != true || len(ack["responses"].([]any)) != 1 || ack["responses"].([]any)[0] != "from A" {
		t.Errorf("cross-node ack: %v", ack)
	}
	if out["disconnect"] != 200.0 || out["reason"] != "io server disconnect" || out["stillB"] != false {
		t.Errorf("cross-node disconnect: %v %v", out["disconnect"], out["reason"])
	}
}

// TestE2ERedisUnreachable: a node whose Redis does not answer still serves its own clients,
// and /ready says 503 so that the load balancer keeps new clients away.
func TestE2ERedisUnreachable(t *testing.T) {
	testutil.CheckGoroutines(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	p := startService(t, "REDIS_URL=redis://"+addr, "REDIS_KEY="+uniqueKey(t))
	status, body := p.get(t, "/ready")
	if status != 503 || body["status"] != "not ready" {
		t.Errorf("ready without Redis: %d %v", status, body)
	}
	status, body = p.get(t, "/health")
	if status != 200 || body["adapter"].(map[string]any)["ready"] != false || body["adapter"].(map[string]any)["name"] != "redis" {
		t.Errorf("health without Redis: %d %v", status, body)
	}
	var got []any
	p.runJS(t, `
const s = await connect({ token: sign({ _id: 'u1' }) });
const got = next(s, 'local');
const r = await api('/api/v1/internal/emit', { event: 'local', room: 'user:u1', payload: 'still served' });
return [r.status, (await got)[0]];`, &got)
	if len(got) != 2 || got[0] != 200.0 || got[1] != "still served" {
		t.Errorf("local emit without Redis: %v", got)
	}
}

// TestE2EMixedCluster runs our node next to the Node.js reference service (socket.io 4.8 with
// @socket.io/redis-adapter) on one Redis: each node's API reaches the other's clients.
func TestE2EMixedCluster(t *testing.T) {
	testutil.CheckGoroutines(t)
	redis, key := redisURL(t), uniqueKey(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ref, err := nodepeer.Start(ctx, nodepeer.Config{
		NodePath:  filepath.Join(testutil.NodeDir(t), "node_modules"),
		JWTSecret: testSecret, InternalKey: testKey,
		Env:    []string{"REDIS_URL=" + redis, "REDIS_KEY=" + key},
		Output: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	p := startService(t, "REDIS_URL="+redis, "REDIS_KEY="+key)
	var out map[string]any
	p.runJS(t, `
for (let i = 0; i < 500 && (await fetch(BASE + '/ready')).status !== 200; i++) await new Promise((r) => setTimeout(r, 10));
const onGo = await connect({ token: sign({ _id: 'u1', restaurantId: 'r1' }) });
const onNode = await new Promise((resolve, reject) => {
  const s = io(process.env.REF, { auth: { token: sign({ _id: 'u2' }) }, reconnection: false, forceNew: true });
  sockets.push(s);
  s.once('connect', () => resolve(s));
  s.once('connect_error', reject);
});
const refAPI = (path, body, method) => fetch(process.env.REF + path, {
  method: method || 'POST', headers: { 'x-internal-key': KEY, 'content-type': 'application/json' },
  body: body ? JSON.stringify(body) : undefined,
}).then(async (r) => ({ status: r.status, body: await r.json() }));
const out = {};
let got = next(onGo, 'from-node');
await refAPI('/api/v1/internal/emit', { event: 'from-node', room: 'restaurant:r1', payload: 'via the reference' });
out.toGo = (await got)[0];
got = next(onNode, 'from-go');
await api('/api/v1/internal/emit', { event: 'from-go', room: 'user:u2', payload: 'via Go' });
out.toNode = (await got)[0];
// Listings see both kinds of nodes, with the same socket data.
out.goLists = (await api('/api/v1/internal/sockets?room=user:u2', null, { method: 'GET' })).body.sockets.map((s) => s.userId);
out.nodeLists = (await refAPI('/api/v1/internal/sockets?room=user:u1', null, 'GET')).body.sockets.map((s) => s.userId);
return out;`, &out, "REF="+ref.URL())
	if out["toGo"] != "via the reference" || out["toNode"] != "via Go" {
		t.Errorf("cross-implementation emits: %v", out)
	}
	if fmt.Sprint(out["goLists"]) != "[u2]" || fmt.Sprint(out["nodeLists"]) != "[u1]" {
		t.Errorf("cross-implementation listings: go %v node %v", out["goLists"], out["nodeLists"])
	}
}

// TestE2EAdapterMetrics: what the Redis adapter meets shows on /metrics. An undecodable message
// on the broadcast channel is counted as malformed (and dropped), not silently lost.
func TestE2EAdapterMetrics(t *testing.T) {
	testutil.CheckGoroutines(t)
	url, key := redisURL(t), uniqueKey(t)
	p := startService(t, "REDIS_URL="+url, "REDIS_KEY="+key)
	p.waitLog(map[string]string{"msg": "listening", "adapter": "redis"})
	metric := func(name string) float64 {
		t.Helper()
		resp, err := http.Get(p.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatalf("%s: %v", sc.Text(), err)
				}
				return f
			}
		}
		t.Fatalf("/metrics has no %s", name)
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// waitMetric scrapes until name reads want: the adapter counts on its own goroutine.
	waitMetric := func(name string, want float64) {
		t.Helper()
		for metric(name) != want {
			select {
			case <-ctx.Done():
				t.Fatalf("%s never read %v; received %v", name, want, metric("realtime_adapter_received_total"))
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	waitMetric("realtime_adapter_ready", 1)
	for _, name := range []string{"realtime_adapter_malformed_total", "realtime_adapter_publish_failed_total",
		"realtime_adapter_receive_dropped_total", "realtime_adapter_reconnects_total", "realtime_adapter_publish_queue_bytes"} {
		if v := metric(name); v != 0 {
			t.Errorf("%s = %v on a fresh node", name, v)
		}
	}
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rc := goredis.NewClient(opts)
	defer rc.Close()
	// The pattern subscription receives the main namespace's broadcast channel.
	if err := rc.Publish(ctx, key+"#/#", "\xc1 not msgpack").Err(); err != nil {
		t.Fatal(err)
	}
	waitMetric("realtime_adapter_malformed_total", 1)
	// A broadcast to a room nobody here is in is dropped by its channel, unread: skipped.
	if err := rc.Publish(ctx, key+"#/#user:nobody#", "unread").Err(); err != nil {
		t.Fatal(err)
	}
	waitMetric("realtime_adapter_skipped_total", 1)
	if v := metric("realtime_adapter_malformed_total"); v != 1 {
		t.Errorf("malformed_total = %v after an unread foreign-room broadcast, want still 1", v)
	}
}
