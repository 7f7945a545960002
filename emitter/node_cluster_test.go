package emitter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/tomato-code/realtime/emitter"
	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/test/cluster"
)

const wait = 10 * time.Second

func gotEvent(client, event string) func(cluster.Line) bool {
	return func(l cluster.Line) bool { return l.Str("client") == client && l.Str("event") == event }
}

// What the Go emitter publishes reaches official socket.io-client clients of a Node.js
// socket.io 4.8 server running @socket.io/redis-adapter 8.3: rooms, except, binary, dates,
// namespaces, flags, joins, leaves, disconnects, server-side emits.
func TestNodeServerDelivers(t *testing.T) {
	testutil.CheckGoroutines(t)
	url := cluster.RedisURL(t)
	key := cluster.Key(t)
	server := cluster.Start(t, "server.js", []string{"REDIS_URL=" + url, "KEY=" + key, "NAME=n1", "NAMESPACES=/orders"})
	ready := server.Wait(wait, "ready", func(l cluster.Line) bool { return l["ready"] != nil })
	base := fmt.Sprintf("http://127.0.0.1:%v", ready["ready"])

	specs, _ := json.Marshal([]map[string]any{
		{"name": "A", "url": base, "rooms": []string{"user:u1", "restaurant:r1"}},
		{"name": "B", "url": base, "rooms": []string{"user:u2", "restaurant:r1"}},
		{"name": "C", "url": base, "rooms": []string{"user:u3"}, "transports": []string{"polling"}},
		{"name": "D", "url": base, "nsp": "/orders", "rooms": []string{"o1"}},
	})
	clients := cluster.Start(t, "clients.js", nil, string(specs))
	for _, name := range []string{"A", "B", "C", "D"} {
		clients.Wait(wait, name+" connected", func(l cluster.Line) bool { return l.Str("client") == name && l["connected"] != nil })
	}

	ctx := context.Background()
	e := emitter.New(cluster.Client(t, url), emitter.Config{Key: key})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.To("restaurant:r1").Except("user:u2").Emit(ctx, "hello", 1, []byte{1, 2}, time.UnixMilli(1700000000123)))
	must(e.To("user:u1", "user:u3", "restaurant:r1").Emit(ctx, "multi", map[string]any{"k": []byte{9}}))
	must(e.Compress(false).Emit(ctx, "all"))
	must(e.Of("/orders").To("o1").Emit(ctx, "order", json.RawMessage(`{"id":7}`)))
	must(e.In("user:u3").SocketsJoin(ctx, "vip"))
	must(e.To("vip").Emit(ctx, "vip-1"))
	must(e.In("user:u3").SocketsLeave(ctx, "vip"))
	must(e.To("vip").Emit(ctx, "vip-2"))
	must(e.Emit(ctx, "sentinel"))

	hello := clients.Wait(wait, "A hello", gotEvent("A", "hello"))
	if want := []any{1.0, map[string]any{"$bin": "0102"}, "2023-11-14T22:13:20.123Z"}; !reflect.DeepEqual(hello["args"], want) {
		t.Errorf("A got hello %v, want %v", hello["args"], want)
	}
	order := clients.Wait(wait, "D order", gotEvent("D", "order"))
	if want := []any{map[string]any{"id": 7.0}}; !reflect.DeepEqual(order["args"], want) {
		t.Errorf("D got order %v, want %v", order["args"], want)
	}
	clients.Wait(wait, "C vip-1", gotEvent("C", "vip-1"))
	for _, name := range []string{"A", "B", "C"} {
		clients.Wait(wait, name+" sentinel", gotEvent(name, "sentinel"))
	}
	// Everything was published on one connection, so once the sentinel arrived everything
	// before it has too: now count.
	counts := map[string]int{"A hello": 1, "B hello": 0, "C hello": 0, "A multi": 1, "B multi": 1, "C multi": 1,
		"D multi": 0, "A all": 1, "B all": 1, "C all": 1, "D all": 0, "C vip-1": 1, "C vip-2": 0, "A order": 0}
	for k, want := range counts {
		var client, event string
		fmt.Sscan(k, &client, &event)
		if got := clients.Count(gotEvent(client, event)); got != want {
			t.Errorf("%s got %q %d times, want %d", client, event, got, want)
		}
	}
	multi := clients.Wait(wait, "A multi", gotEvent("A", "multi"))
	if want := []any{map[string]any{"k": map[string]any{"$bin": "09"}}}; !reflect.DeepEqual(multi["args"], want) {
		t.Errorf("A got multi %v, want %v", multi["args"], want)
	}

	// A volatile event reaches an idle websocket client (a busy one may drop it: that is what
	// volatile means, so the event goes out once A has received everything before it).
	must(e.Volatile().To("user:u1").Emit(ctx, "vol"))
	clients.Wait(wait, "A vol", gotEvent("A", "vol"))

	must(e.ServerSideEmit(ctx, "plain-servers", "from-go", 2))
	l := server.Wait(wait, "server-side emit", func(l cluster.Line) bool { return l.Str("serverSide") == "plain-servers" })
	if want := []any{"from-go", 2.0}; !reflect.DeepEqual(l["args"], want) {
		t.Errorf("server-side args %v, want %v", l["args"], want)
	}

	must(e.In("user:u2").DisconnectSockets(ctx, false))
	clients.Wait(wait, "B disconnected", func(l cluster.Line) bool {
		return l.Str("client") == "B" && l.Str("disconnected") == "io server disconnect"
	})
	must(e.Of("/orders").DisconnectSockets(ctx, true))
	clients.Wait(wait, "D disconnected", func(l cluster.Line) bool { return l.Str("client") == "D" && l["disconnected"] != nil })
	if n := clients.Count(func(l cluster.Line) bool { return l["disconnected"] != nil }); n != 2 {
		t.Errorf("%d clients disconnected, want 2 (B and D)", n)
	}
	if !server.Alive() {
		t.Fatal("the Node server died")
	}
}
