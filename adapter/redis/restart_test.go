package redis

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/test/cluster"
)

// waitHealth waits until the node's readiness is ready.
func waitHealth(t *testing.T, n *goNode, ready bool) {
	t.Helper()
	deadline := time.After(2 * wait)
	for {
		changed, now := n.cluster.health.wait()
		if now == ready {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%s: ready is not %v: %+v", n.name, ready, n.cluster.Health())
		}
	}
}

// Kill Redis under traffic and start it again: local delivery never stops, the node says it
// is not ready and logs it once, and after the restart the cluster heals with exactly one
// subscription per node to each request channel, the Node.js node included.
func TestRedisRestart(t *testing.T) {
	testutil.CheckGoroutines(t)
	redisSrv := cluster.StartRedisServer(t)
	url, key := redisSrv.URL(), cluster.Key(t)
	logs := &testutil.LogBuffer{}
	g1 := startGoNode(t, "g1", url, key, nodeOptions{cfg: func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
		c.HealthCheckInterval = time.Second
	}})
	g2 := startGoNode(t, "g2", url, key, nodeOptions{})
	node, nodeURL := startNodeServer(t, "n1", url, key)
	clients := startClients(t,
		clientSpec{Name: "A", URL: g1.url, Rooms: []string{"a"}},
		clientSpec{Name: "B", URL: g2.url, Rooms: []string{"b"}},
		clientSpec{Name: "C", URL: nodeURL, Rooms: []string{"c"}},
	)
	g1.joined(t, "/", "A")
	g2.joined(t, "/", "B")
	g1.synced(t)
	g2.synced(t)

	// Traffic: g1 emits to its own client all along, with increasing numbers.
	stop := make(chan struct{})
	done := make(chan struct{})
	var sent atomic.Int64
	go func() {
		defer close(done)
		ticker := time.NewTicker(5 * time.Millisecond)
		defer ticker.Stop()
		for i := int64(1); ; i++ {
			select {
			case <-stop:
				return
			case <-ticker.C:
				_ = g1.srv.Of("/").To("a").Emit("tick", i)
				sent.Store(i)
			}
		}
	}()
	defer func() { close(stop); <-done }()
	// waitTicks waits until A received a tick emitted n ticks from now.
	waitTicks := func(n int64) {
		t.Helper()
		target := float64(sent.Load() + n)
		clients.Wait(wait, fmt.Sprintf("tick %v", target), func(l cluster.Line) bool {
			args, _ := l["args"].([]any)
			return gotEvent("A", "tick")(l) && len(args) == 1 && args[0].(float64) >= target
		})
	}
	waitTicks(10)

	redisSrv.Stop()
	waitHealth(t, g1, false)
	waitHealth(t, g2, false)
	if h := g1.cluster.Health(); h.LastError == "" {
		t.Errorf("no error reported while Redis is down: %+v", h)
	}
	// Local delivery goes on while Redis is down.
	waitTicks(50)
	if g1.cluster.Ready() {
		t.Fatal("g1 ready while Redis is down")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := g1.srv.Of("/").FetchSockets(ctx); err == nil {
		t.Error("FetchSockets succeeded without Redis")
	}

	redisSrv.Start()
	waitHealth(t, g1, true)
	waitHealth(t, g2, true)
	g1.synced(t)
	g2.synced(t)
	waitTicks(20)

	// Exactly one subscription per node to the request channel: Go nodes and the Node node.
	// node-redis resubscribes on its own schedule, so wait for its count to come back.
	rc := cluster.Client(t, url)
	req := g1.adapter("/").ch.Request
	deadline := time.Now().Add(wait)
	for {
		n, err := rc.PubSubNumSub(ctx, req).Result()
		if err == nil && n[req] == 3 {
			break
		}
		if time.Now().After(deadline) || n[req] > 3 {
			t.Fatalf("NUMSUB %s = %v, %v; want 3", req, n, err)
		}
		time.Sleep(50 * time.Millisecond) // node-redis gives no signal for its resubscription
	}

	// The cluster heals: broadcasts and requests cross again, both ways.
	must(t, g2.srv.Of("/").To("a", "c").Emit("healed"))
	node.Call(map[string]any{"op": "emit", "rooms": []string{"b"}, "event": "healed-node"}, wait)
	clients.Wait(wait, "A healed", gotEvent("A", "healed"))
	clients.Wait(wait, "C healed", gotEvent("C", "healed"))
	clients.Wait(wait, "B healed-node", gotEvent("B", "healed-node"))
	socks, err := g2.srv.Of("/").FetchSockets(ctx)
	if err != nil || len(socks) != 3 {
		t.Errorf("FetchSockets after the restart: %d sockets, %v", len(socks), err)
	}
	if !node.Alive() {
		t.Fatalf("the Node node died:\n%s", node.Stderr())
	}
	st := g1.cluster.Stats()
	if st.Reconnects == 0 {
		t.Errorf("g1 stats %+v: no reconnect counted", st)
	}
	if down, up := logs.Count("Redis unreachable"), logs.Count("Redis reachable again"); down != 1 || up != 1 {
		t.Errorf("g1 logged %d outages and %d recoveries, want 1 and 1:\n%s", down, up, logs.String())
	}
}
