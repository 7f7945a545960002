package redis

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tomato-code/realtime/adapter/redis/wire"
	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/socketio"
	"github.com/tomato-code/realtime/test/cluster"
)

// Three Go nodes on one Redis, a client on each: every broadcast form and every request type
// goes across.
func TestThreeGoNodes(t *testing.T) {
	for _, mode := range []SubscriptionMode{SubscribeRooms, SubscribePattern} {
		t.Run(map[SubscriptionMode]string{SubscribeRooms: "rooms", SubscribePattern: "pattern"}[mode], func(t *testing.T) {
			testThreeGoNodes(t, mode)
		})
	}
}

func testThreeGoNodes(t *testing.T, mode SubscriptionMode) {
	testutil.CheckGoroutines(t)
	url, key := cluster.RedisURL(t), cluster.Key(t)
	opts := nodeOptions{mode: mode, namespaces: []string{"/orders"}}
	n1 := startGoNode(t, "g1", url, key, opts)
	n2 := startGoNode(t, "g2", url, key, opts)
	n3 := startGoNode(t, "g3", url, key, opts)
	clients := startClients(t,
		clientSpec{Name: "A", URL: n1.url, Rooms: []string{"user:u1", "r:1"}},
		clientSpec{Name: "B", URL: n2.url, Rooms: []string{"user:u2", "r:1"}},
		clientSpec{Name: "C", URL: n3.url, Rooms: []string{"user:u3"}, Transports: []string{"polling"}},
		clientSpec{Name: "D", URL: n2.url, Nsp: "/orders", Rooms: []string{"o1"}},
	)
	n1.joined(t, "/", "A")
	n2.joined(t, "/", "B")
	n3.joined(t, "/", "C")
	n2.joined(t, "/orders", "D")
	for _, n := range []*goNode{n1, n2, n3} {
		n.synced(t) // the clients' rooms are subscribed
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, n := range []*goNode{n1, n2, n3} {
		if c, err := n.srv.Of("/").Adapter().ServerCount(ctx); err != nil || c != 3 {
			t.Fatalf("%s: server count %d, %v; want 3", n.name, c, err)
		}
	}

	// Broadcasts.
	ns1, ns3 := n1.srv.Of("/"), n3.srv.Of("/")
	must(t, ns1.Emit("all", 1))
	must(t, ns1.To("r:1").Except("user:u2").Emit("exc", []byte{1, 2}))
	must(t, ns1.To("r:1").Except("user:u1").Emit("exc2"))
	must(t, ns1.To("user:u1", "user:u2", "user:u3", "r:1").Emit("multi"))
	must(t, ns3.To("user:u2").Emit("single", map[string]any{"k": "v"}))
	must(t, ns3.To("nobody").Emit("nobody"))
	must(t, n3.srv.Of("/orders").To("o1").Emit("order", json.RawMessage(`{"id":7}`)))
	must(t, ns1.Local().Emit("local-only"))
	must(t, ns1.Emit("sentinel1"))
	must(t, ns3.Emit("sentinel3"))
	for _, c := range []string{"A", "B", "C"} {
		clients.Wait(wait, c+" sentinel1", gotEvent(c, "sentinel1"))
		clients.Wait(wait, c+" sentinel3", gotEvent(c, "sentinel3"))
	}
	clients.Wait(wait, "D order", gotEvent("D", "order"))
	checkCounts(t, clients, map[string]int{
		"A all": 1, "B all": 1, "C all": 1, "D all": 0,
		"A exc": 1, "B exc": 0, "C exc": 0, "A exc2": 0, "B exc2": 1,
		"A multi": 1, "B multi": 1, "C multi": 1,
		"B single": 1, "A single": 0, "C single": 0,
		"A local-only": 1, "B local-only": 0, "C local-only": 0,
	})
	exc := clients.Wait(wait, "A exc", gotEvent("A", "exc"))
	if want := []any{map[string]any{"$bin": "0102"}}; !reflect.DeepEqual(exc["args"], want) {
		t.Errorf("A got exc %v, want %v", exc["args"], want)
	}

	// FetchSockets, from every node.
	for _, n := range []*goNode{n1, n2, n3} {
		socks, err := n.srv.Of("/").FetchSockets(ctx)
		if err != nil {
			t.Fatalf("%s: FetchSockets: %v", n.name, err)
		}
		if got := socketNames(t, socks); !slices.Equal(got, []string{"A", "B", "C"}) {
			t.Errorf("%s: FetchSockets found %v", n.name, got)
		}
	}
	socks, err := n3.srv.Of("/").In("r:1").FetchSockets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := socketNames(t, socks); !slices.Equal(got, []string{"A", "B"}) {
		t.Errorf("FetchSockets(r:1) found %v", got)
	}
	for _, s := range socks {
		if !slices.Contains(s.Rooms, s.ID) || !slices.Contains(s.Rooms, "r:1") || s.Handshake == nil || len(s.Handshake.Auth) == 0 {
			t.Errorf("socket %+v lacks its rooms or handshake", s.SocketInfo)
		}
	}

	// AllRooms (type 1) and the legacy allSockets (type 0), answered by every node.
	rooms, err := n2.adapter("/").AllRooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"user:u1", "user:u2", "user:u3", "r:1"} {
		if !slices.Contains(rooms, r) {
			t.Errorf("AllRooms lacks %s: %v", r, rooms)
		}
	}
	res, err := n2.adapter("/").ask(ctx, wire.Request{Type: wire.TypeSockets, Rooms: []string{"r:1"}}, 1)
	if err != nil || len(res.sockets) != 1 {
		t.Errorf("allSockets(r:1) from g2: %+v, %v; want A's id from g1", res, err)
	}

	// SocketsJoin and SocketsLeave, cluster-wide.
	must(t, n3.srv.Of("/").In("user:u1", "user:u2").SocketsJoin(ctx, "vip"))
	if mode == SubscribeRooms { // a room created by a remote join is subscribed an instant later
		n1.waitSubscribed(t, "/", "vip")
		n2.waitSubscribed(t, "/", "vip")
	}
	must(t, ns3.To("vip").Emit("vip-1"))
	clients.Wait(wait, "A vip-1", gotEvent("A", "vip-1"))
	clients.Wait(wait, "B vip-1", gotEvent("B", "vip-1"))
	// From the node that emits next: one publisher's messages arrive in order.
	must(t, n3.srv.Of("/").In("vip").SocketsLeave(ctx, "vip", "r:1"))
	must(t, ns3.To("vip").Emit("vip-2"))
	must(t, ns3.To("r:1").Emit("r1-after-leave"))
	must(t, ns3.Emit("sentinel3b"))
	clients.Wait(wait, "A sentinel3b", gotEvent("A", "sentinel3b"))
	clients.Wait(wait, "B sentinel3b", gotEvent("B", "sentinel3b"))
	checkCounts(t, clients, map[string]int{"A vip-2": 0, "B vip-2": 0, "A r1-after-leave": 0, "B r1-after-leave": 0})

	// Server-side emits, with and without acks.
	must(t, ns1.ServerSideEmit(ctx, "plain-servers", "x", 2))
	n2.events.wait(t, `/ plain-servers ["x",2]`)
	n3.events.wait(t, `/ plain-servers ["x",2]`)
	acks, err := n2.srv.Of("/").ServerSideEmitWithAck(ctx, "ping-servers", []byte{7})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range acks {
		got = append(got, a.String())
	}
	slices.Sort(got)
	if want := []string{`["pong-from-g1"]`, `["pong-from-g3"]`}; !slices.Equal(got, want) {
		t.Errorf("server-side acks %v, want %v", got, want)
	}
	n1.events.wait(t, `/ ping-servers [{"type":"Buffer","data":[7]}]`)

	// Broadcast with acknowledgements, across the cluster: every client answers.
	ackCtx, ackCancel := context.WithTimeout(ctx, 5*time.Second)
	answers, err := n2.srv.Of("/").EmitWithAck(ackCtx, "ackme", "q")
	ackCancel()
	if err != nil {
		t.Fatalf("EmitWithAck: %v (got %d answers)", err, len(answers))
	}
	got = nil
	for _, a := range answers {
		got = append(got, a.String())
	}
	slices.Sort(got)
	if want := []string{`["ack-from-A"]`, `["ack-from-B"]`, `["ack-from-C"]`}; !slices.Equal(got, want) {
		t.Errorf("acks %v, want %v", got, want)
	}

	// DisconnectSockets, cluster-wide.
	must(t, n1.srv.Of("/").In("user:u3").DisconnectSockets(ctx, false))
	clients.Wait(wait, "C disconnected", func(l cluster.Line) bool {
		return l.Str("client") == "C" && l.Str("disconnected") == "io server disconnect"
	})
	must(t, n1.srv.Of("/orders").DisconnectSockets(ctx, true))
	clients.Wait(wait, "D disconnected", func(l cluster.Line) bool { return l.Str("client") == "D" && l["disconnected"] != nil })

	if st := n1.cluster.Stats(); st.Malformed != 0 || st.PublishDropped != 0 || st.Published == 0 {
		t.Errorf("g1 stats %+v", st)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func socketNames(t *testing.T, socks []*socketio.RemoteSocket) []string {
	t.Helper()
	var names []string
	for _, s := range socks {
		var d struct{ Name string }
		if err := s.DecodeData(&d); err != nil {
			t.Fatalf("socket data %s: %v", s.Data, err)
		}
		names = append(names, d.Name)
	}
	slices.Sort(names)
	return names
}

// Without Redis the adapter serves its local sockets and cluster requests fail fast.
func TestUnavailable(t *testing.T) {
	testutil.CheckGoroutines(t)
	cl, err := New(Config{URL: "redis://127.0.0.1:1", Logger: discardLogger(), PublishQueueBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	srv := socketio.NewServer(socketio.Config{Adapter: cl.NewAdapter})
	defer srv.Shutdown(context.Background())
	ns := srv.Of("/")
	must(t, ns.Emit("x")) // queued, delivered locally (to nobody)
	if _, err := ns.FetchSockets(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("FetchSockets = %v, want ErrUnavailable", err)
	}
	if _, err := ns.ServerSideEmitWithAck(context.Background(), "e"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("ServerSideEmitWithAck = %v, want ErrUnavailable", err)
	}
	if cl.Ready() || cl.Health().Ready {
		t.Error("ready without Redis")
	}
	// What waits for Redis is bounded: past PublishQueueBytes broadcasts are dropped and
	// counted, and delivery to local sockets goes on.
	var err2 error
	for i := 0; i < 100 && err2 == nil; i++ {
		err2 = ns.Emit("fill", "0123456789012345678901234567890123456789")
	}
	if !errors.Is(err2, ErrQueueFull) {
		t.Errorf("Emit with a full queue = %v, want ErrQueueFull", err2)
	}
	if st := cl.Stats(); st.PublishDropped == 0 || st.QueuedBytes > 1000 || st.Published != 0 {
		t.Errorf("stats %+v", st)
	}
}
