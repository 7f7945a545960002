package redis

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/test/cluster"
)

// A cluster of two Go nodes and a Node.js socket.io 4.8.4 node with @socket.io/redis-adapter
// 8.3.0, plus an @socket.io/redis-emitter 5.1.0 process: broadcasts and requests go both ways,
// and the Node node never dies on what the Go nodes publish.
func TestMixedCluster(t *testing.T) {
	testutil.CheckGoroutines(t)
	url, key := cluster.RedisURL(t), cluster.Key(t)
	opts := nodeOptions{namespaces: []string{"/orders"}}
	g1 := startGoNode(t, "g1", url, key, opts)
	g2 := startGoNode(t, "g2", url, key, opts)
	node, nodeURL := startNodeServer(t, "n1", url, key, "/orders")
	emitter := cluster.Start(t, "emitter.js", []string{"REDIS_URL=" + url, "KEY=" + key})
	emitter.Wait(startWait, "emitter ready", func(l cluster.Line) bool { return l["ready"] == true })
	clients := startClients(t,
		clientSpec{Name: "A", URL: g1.url, Rooms: []string{"user:u1", "r:1"}},
		clientSpec{Name: "B", URL: g2.url, Rooms: []string{"user:u2", "r:1"}, Transports: []string{"polling"}},
		clientSpec{Name: "C", URL: nodeURL, Rooms: []string{"user:u3", "r:1"}},
		clientSpec{Name: "D", URL: nodeURL, Rooms: []string{"user:u4"}},
		clientSpec{Name: "O1", URL: g1.url, Nsp: "/orders", Rooms: []string{"o1"}},
		clientSpec{Name: "O2", URL: nodeURL, Nsp: "/orders", Rooms: []string{"o1"}},
	)
	g1.joined(t, "/", "A")
	g2.joined(t, "/", "B")
	g1.joined(t, "/orders", "O1")
	g1.synced(t)
	g2.synced(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if n, err := g1.adapter("/").ServerCount(ctx); err != nil || n != 3 {
		t.Fatalf("server count %d, %v; want 3", n, err)
	}
	call := func(cmd map[string]any) any {
		t.Helper()
		l := node.Call(cmd, wait)
		if l["error"] != nil {
			t.Fatalf("node %v: %v", cmd["op"], l["error"])
		}
		return l["result"]
	}

	// Broadcasts from Go reach clients of both kinds of node, and the other way round.
	ns1 := g1.srv.Of("/")
	must(t, ns1.To("r:1").Except("user:u2").Emit("go-exc", 1))
	must(t, ns1.To("user:u1", "user:u3", "r:1").Emit("go-multi"))
	must(t, g2.srv.Of("/").To("user:u3").Emit("go-bin", []byte{1, 2, 3}))
	must(t, ns1.Volatile().Compress(false).To("user:u4").Emit("go-flags"))
	must(t, g1.srv.Of("/orders").To("o1").Emit("go-order"))
	call(map[string]any{"op": "emit", "rooms": []string{"r:1"}, "except": []string{"user:u3"}, "event": "node-exc"})
	call(map[string]any{"op": "emit", "rooms": []string{"user:u1", "user:u2", "r:1", "user:u4"}, "event": "node-multi"})
	call(map[string]any{"op": "emit", "rooms": []string{"user:u2"}, "event": "node-single"})
	call(map[string]any{"op": "emit", "rooms": []string{"user:u1"}, "event": "node-bin",
		"args": []any{map[string]any{"$bin": "0aff"}, map[string]any{"$date": 1700000000123}, map[string]any{"n": 1.5}}})
	call(map[string]any{"op": "emit", "nsp": "/orders", "rooms": []string{"o1"}, "event": "node-order"})
	must(t, g2.srv.Of("/").To("user:u1", "user:u2", "user:u3", "user:u4").Emit("sentinel-g2"))
	call(map[string]any{"op": "emit", "event": "sentinel-node"})
	must(t, ns1.Emit("sentinel-g1"))
	for _, c := range []string{"A", "B", "C", "D"} {
		for _, s := range []string{"sentinel-g1", "sentinel-g2", "sentinel-node"} {
			clients.Wait(wait, c+" "+s, gotEvent(c, s))
		}
	}
	clients.Wait(wait, "O1 node-order", gotEvent("O1", "node-order"))
	clients.Wait(wait, "O2 go-order", gotEvent("O2", "go-order"))
	checkCounts(t, clients, map[string]int{
		"A go-exc": 1, "B go-exc": 0, "C go-exc": 1, "D go-exc": 0,
		"A go-multi": 1, "B go-multi": 1, "C go-multi": 1, "D go-multi": 0,
		"C go-bin": 1, "D go-flags": 1,
		"A node-exc": 1, "B node-exc": 1, "C node-exc": 0, "D node-exc": 0,
		"A node-multi": 1, "B node-multi": 1, "C node-multi": 1, "D node-multi": 1,
		"B node-single": 1, "A node-single": 0, "C node-single": 0,
		"O1 go-order": 1, "O2 go-order": 1, "O1 node-order": 1, "O2 node-order": 1,
	})
	if l := clients.Wait(wait, "C go-bin", gotEvent("C", "go-bin")); !reflect.DeepEqual(l["args"], []any{map[string]any{"$bin": "010203"}}) {
		t.Errorf("C got go-bin %v", l["args"])
	}
	if l := clients.Wait(wait, "A node-bin", gotEvent("A", "node-bin")); !reflect.DeepEqual(l["args"],
		[]any{map[string]any{"$bin": "0aff"}, "2023-11-14T22:13:20.123Z", map[string]any{"n": 1.5}}) {
		t.Errorf("A got node-bin %v", l["args"])
	}

	// The emitter reaches Go and Node clients, and its requests act on both.
	emit := func(cmd map[string]any) {
		t.Helper()
		if l := emitter.Call(cmd, wait); l["error"] != nil {
			t.Fatalf("emitter: %v", l["error"])
		}
	}
	emit(map[string]any{"op": "emit", "rooms": []string{"r:1"}, "except": []string{"user:u1"}, "event": "em-exc", "args": []any{map[string]any{"$bin": "07"}}})
	emit(map[string]any{"op": "socketsJoin", "rooms": []string{"user:u2", "user:u4"}, "join": []string{"em-room"}})
	g2.waitSubscribed(t, "/", "em-room")
	emit(map[string]any{"op": "emit", "rooms": []string{"em-room"}, "event": "em-room-msg"})
	emit(map[string]any{"op": "serverSideEmit", "event": "plain-servers", "args": []any{"from-emitter"}})
	emit(map[string]any{"op": "emit", "event": "sentinel-em"})
	for _, c := range []string{"A", "B", "C", "D"} {
		clients.Wait(wait, c+" sentinel-em", gotEvent(c, "sentinel-em"))
	}
	checkCounts(t, clients, map[string]int{"A em-exc": 0, "B em-exc": 1, "C em-exc": 1, "D em-exc": 0,
		"B em-room-msg": 1, "D em-room-msg": 1, "A em-room-msg": 0})
	g1.events.wait(t, `/ plain-servers ["from-emitter"]`)
	g2.events.wait(t, `/ plain-servers ["from-emitter"]`)
	node.Wait(wait, "server-side from emitter", func(l cluster.Line) bool { return l.Str("serverSide") == "plain-servers" })

	// Requests from the Node node, answered by the Go nodes.
	sockets := call(map[string]any{"op": "fetchSockets"}).([]any)
	var names []string
	for _, s := range sockets {
		m := s.(map[string]any)
		names = append(names, m["data"].(map[string]any)["name"].(string))
		if rooms := m["rooms"].([]any); !slices.Contains(rooms, any(m["id"])) {
			t.Errorf("socket %v: rooms lack its id", m)
		}
		if m["auth"] == nil {
			t.Errorf("socket %v: no handshake auth", m)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"A", "B", "C", "D"}) {
		t.Errorf("node fetchSockets found %v", names)
	}
	rooms := call(map[string]any{"op": "allRooms"}).([]any)
	for _, r := range []string{"user:u1", "user:u2", "user:u3", "em-room"} {
		if !slices.Contains(rooms, any(r)) {
			t.Errorf("node allRooms lacks %s: %v", r, rooms)
		}
	}
	if n := call(map[string]any{"op": "serverCount"}); n != 3.0 {
		t.Errorf("node server count %v, want 3", n)
	}
	acks := call(map[string]any{"op": "serverSideEmitWithAck", "event": "ping-servers", "args": []any{"q"}}).([]any)
	slices.SortFunc(acks, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
	if !reflect.DeepEqual(acks, []any{"pong-from-g1", "pong-from-g2"}) {
		t.Errorf("node serverSideEmitWithAck got %v", acks)
	}
	g1.events.wait(t, `/ ping-servers ["q"]`)
	answers := call(map[string]any{"op": "emitWithAck", "rooms": []string{"r:1"}, "event": "node-ackme", "timeout": 5000}).([]any)
	slices.SortFunc(answers, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
	if !reflect.DeepEqual(answers, []any{"ack-from-A", "ack-from-B", "ack-from-C"}) {
		t.Errorf("node emitWithAck got %v", answers)
	}
	call(map[string]any{"op": "socketsJoin", "rooms": []string{"user:u1"}, "join": []string{"n-joined"}})
	g1.waitSubscribed(t, "/", "n-joined")
	call(map[string]any{"op": "emit", "rooms": []string{"n-joined"}, "event": "n-joined-msg"})
	clients.Wait(wait, "A n-joined-msg", gotEvent("A", "n-joined-msg"))

	// Requests from a Go node, answered by the Node node.
	socks, err := g1.srv.Of("/").FetchSockets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := socketNames(t, socks); !slices.Equal(got, []string{"A", "B", "C", "D"}) {
		t.Errorf("g1 FetchSockets found %v", got)
	}
	for _, s := range socks {
		if s.Handshake == nil || len(s.Handshake.Auth) < 3 || s.Handshake.Time.IsZero() {
			t.Errorf("socket %s: handshake %+v", s.ID, s.Handshake)
		}
	}
	goRooms, err := g2.adapter("/").AllRooms(ctx)
	if err != nil || !slices.Contains(goRooms, "user:u4") {
		t.Errorf("g2 AllRooms %v, %v: lacks user:u4 of the Node node", goRooms, err)
	}
	ssAcks, err := g1.srv.Of("/").ServerSideEmitWithAck(ctx, "ping-servers", "from-g1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range ssAcks {
		got = append(got, a.String())
	}
	slices.Sort(got)
	if want := []string{`["pong-from-g2"]`, `["pong-from-n1"]`}; !slices.Equal(got, want) {
		t.Errorf("g1 ServerSideEmitWithAck got %v, want %v", got, want)
	}
	node.Wait(wait, "ping from g1", func(l cluster.Line) bool {
		return l.Str("serverSide") == "ping-servers" && reflect.DeepEqual(l["args"], []any{"from-g1"})
	})
	ackCtx, ackCancel := context.WithTimeout(ctx, 5*time.Second)
	goAcks, err := g2.srv.Of("/").To("r:1", "user:u4").EmitWithAck(ackCtx, "go-ackme", []byte{5})
	ackCancel()
	if err != nil {
		t.Fatalf("g2 EmitWithAck: %v", err)
	}
	got = nil
	for _, a := range goAcks {
		got = append(got, a.String())
	}
	slices.Sort(got)
	if want := []string{`["ack-from-A"]`, `["ack-from-B"]`, `["ack-from-C"]`, `["ack-from-D"]`}; !slices.Equal(got, want) {
		t.Errorf("g2 EmitWithAck got %v, want %v", got, want)
	}
	must(t, ns1.In("user:u3").SocketsJoin(ctx, "g-joined"))
	must(t, ns1.To("g-joined").Emit("g-joined-msg"))
	clients.Wait(wait, "C g-joined-msg", gotEvent("C", "g-joined-msg"))
	must(t, ns1.In("g-joined").SocketsLeave(ctx, "g-joined"))
	must(t, ns1.To("g-joined").Emit("g-joined-after-leave"))
	must(t, ns1.To("user:u3").Emit("sentinel-leave"))
	clients.Wait(wait, "C sentinel-leave", gotEvent("C", "sentinel-leave"))
	checkCounts(t, clients, map[string]int{"C g-joined-after-leave": 0})
	if local := call(map[string]any{"op": "localRooms"}).(map[string]any); local["g-joined"] != nil {
		t.Errorf("g-joined still on the Node node after SocketsLeave: %v", local["g-joined"])
	}

	// Disconnects both ways.
	call(map[string]any{"op": "disconnectSockets", "rooms": []string{"user:u2"}})
	clients.Wait(wait, "B disconnected", func(l cluster.Line) bool { return l.Str("client") == "B" && l["disconnected"] != nil })
	must(t, g2.srv.Of("/").In("user:u4").DisconnectSockets(ctx, true))
	clients.Wait(wait, "D disconnected", func(l cluster.Line) bool { return l.Str("client") == "D" && l["disconnected"] != nil })

	if !node.Alive() {
		t.Fatalf("the Node node died:\n%s", node.Stderr())
	}
	for _, g := range []*goNode{g1, g2} {
		if st := g.cluster.Stats(); st.Malformed != 0 || st.PublishDropped != 0 || st.ReceiveDropped != 0 {
			t.Errorf("%s stats %+v", g.name, st)
		}
	}
}
