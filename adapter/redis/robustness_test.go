package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tomato-code/realtime/adapter/redis/wire"
	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/socketio"
	"github.com/tomato-code/realtime/test/cluster"
)

// startNodeWithClientInA starts one Go node, with the leak check, and one client in room "a"
// on it; it returns them, the node's adapter of "/" and a Redis client to publish with.
func startNodeWithClientInA(t *testing.T) (*goNode, *cluster.Proc, *Adapter, *goredis.Client) {
	t.Helper()
	testutil.CheckGoroutines(t)
	url, key := cluster.RedisURL(t), cluster.Key(t)
	g1 := startGoNode(t, "g1", url, key, nodeOptions{})
	clients := startClients(t, clientSpec{Name: "A", URL: g1.url, Rooms: []string{"a"}})
	g1.joined(t, "/", "A")
	g1.synced(t)
	return g1, clients, g1.adapter("/"), cluster.Client(t, url)
}

// Garbage on every channel a node listens to is counted and dropped; the node goes on
// delivering. (No Node.js node here: garbage on a broadcast channel kills Node nodes.)
func TestMalformedMessages(t *testing.T) {
	g1, clients, a, rc := startNodeWithClientInA(t)
	deep := strings.Repeat("\x91", wire.MaxDepth+5) + "\xc0"
	garbage := map[string][]string{
		a.ch.Broadcast: {"\xc1", "\x80", "\x93\xa1x", "\x93\xa1x\xa1y\x80", "\x93\xa1x\x82\xa4type\x02\xa4data\xa1x\x80",
			deep, "\x93\xa1x\x82\xa4type\x02\xa4data\x91\xa1e\xc0", "\xdd\xff\xff\xff\xff", ""},
		a.ch.Room("a"):                   {"\xc1", "{}", "\x93\xa1x\x83\xa4type\x00\xa4data\x91\xa1e\xa3nsp\xa1/\x80"},
		a.ch.Request:                     {"{", `{"type":5}`, `{"type":"x"}`, "\xc1", `{"type":7,"packet":1}`, `{"type":2,"opts":"x","rooms":[]}`, "[]", ""},
		a.ch.Response:                    {"{", `{"requestId":1}`, "\xc1", `{"type":9}`},
		a.ch.SpecificResponse(a.uid):     {"{"},
		a.ch.Broadcast + "unknown-room#": {"\xc1"}, // not subscribed: never even received
	}
	ctx := context.Background()
	want := 0
	for ch, msgs := range garbage {
		for _, m := range msgs {
			if err := rc.Publish(ctx, ch, m).Err(); err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(ch, "unknown-room#") {
				want++
			}
		}
	}
	// A valid broadcast from "another node" after the garbage still arrives.
	valid, err := wire.AppendBroadcast(nil, wire.Broadcast{UID: "other", Packet: wire.Packet{Nsp: "/", Data: json.RawMessage(`["ok",1]`)},
		Opts: wire.BroadcastOptions{Rooms: []string{"a"}}})
	if err != nil {
		t.Fatal(err)
	}
	must(t, rc.Publish(ctx, a.ch.Room("a"), valid).Err())
	clients.Wait(wait, "A ok", gotEvent("A", "ok"))
	if st := g1.cluster.Stats(); st.Malformed != uint64(want) {
		t.Errorf("malformed = %d, want %d (stats %+v)", st.Malformed, want, st)
	}
	if n := clients.Count(func(l cluster.Line) bool { return l["event"] != nil }); n != 1 {
		t.Errorf("A received %d events, want only ok", n)
	}
}

// In SubscribeRooms mode a node holds exactly the channels of its local rooms besides its
// fixed ones, and one subscription to the request channel; rooms named like socket ids (the
// socket's own room, and twenty here) have no channel of their own.
func TestRoomSubscriptions(t *testing.T) {
	testutil.CheckGoroutines(t)
	url, key := cluster.RedisURL(t), cluster.Key(t)
	g1 := startGoNode(t, "g1", url, key, nodeOptions{mode: SubscribeRooms})
	g2 := startGoNode(t, "g2", url, key, nodeOptions{mode: SubscribePattern})
	const twenty = "room-of-twenty-bytes"
	clients := startClients(t, clientSpec{Name: "A", URL: g1.url, Rooms: []string{"x", "y", twenty}})
	id := clients.Wait(wait, "A connected", func(l cluster.Line) bool { return l["connected"] != nil }).Str("connected")
	g1.joined(t, "/", "A")
	g1.synced(t)
	rc := cluster.Client(t, url)
	ctx := context.Background()
	channels := func() []string {
		t.Helper()
		list, err := rc.PubSubChannels(ctx, key+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(list)
		return list
	}
	a1, a2 := g1.adapter("/"), g2.adapter("/")
	fixed := []string{a1.ch.Broadcast, a1.ch.Request, a1.ch.Response, a1.ch.SpecificResponse(a1.uid), a2.ch.SpecificResponse(a2.uid)}
	want := append(slices.Clone(fixed), a1.ch.Room("x"), a1.ch.Room("y"))
	slices.Sort(want)
	if got := channels(); !slices.Equal(got, want) {
		t.Errorf("channels\n %v\nwant\n %v", got, want)
	}
	// Broadcasts from another node to the socket's own room and to twenty come through the
	// pattern, once each.
	must(t, g2.srv.Of("/").To(id).Emit("to-id"))
	must(t, g2.srv.Of("/").To(twenty).Emit("to-twenty"))
	must(t, g2.srv.Of("/").To("x").Emit("to-x"))
	clients.Wait(wait, "A to-x", gotEvent("A", "to-x"))
	checkCounts(t, clients, map[string]int{"A to-id": 1, "A to-twenty": 1})
	n, err := rc.PubSubNumSub(ctx, a1.ch.Request).Result()
	if err != nil || n[a1.ch.Request] != 2 {
		t.Errorf("NUMSUB = %v, %v; want one per node", n, err)
	}

	must(t, g2.srv.Of("/").In(id).SocketsLeave(ctx, "x"))
	waitRoomGone(t, g1, "x")
	g1.synced(t)
	want = slices.DeleteFunc(want, func(s string) bool { return s == a1.ch.Room("x") })
	if got := channels(); !slices.Equal(got, want) {
		t.Errorf("after leaving x: channels\n %v\nwant\n %v", got, want)
	}
	must(t, g2.srv.Of("/").DisconnectSockets(ctx, true))
	clients.Wait(wait, "A disconnected", func(l cluster.Line) bool { return l["disconnected"] != nil })
	waitRoomGone(t, g1, id)
	g1.synced(t)
	slices.Sort(fixed)
	if got := channels(); !slices.Equal(got, fixed) {
		t.Errorf("after the disconnect: channels\n %v\nwant\n %v", got, fixed)
	}
}

// waitRoomGone waits until the node has no local socket in room.
func waitRoomGone(t *testing.T, n *goNode, room string) {
	t.Helper()
	a := n.adapter("/")
	n.waitState(t, "end of room "+room+" (held or subscribed)", func(c *Cluster) bool {
		return !a.mem.HasRoom(room) && !c.routed(a.ch.Room(room))
	})
}

// A broadcast on the namespace channel for rooms this node does not hold is dropped after a
// look at its options: its packet is not decoded, so a packet that is not a valid event counts
// as malformed only where one of its rooms is held. What is not MessagePack still counts.
func TestForeignRoomBroadcastsDroppedBeforeDecoding(t *testing.T) {
	g1, clients, a, rc := startNodeWithClientInA(t)
	msg := func(uid string, packet wire.Map, rooms ...string) []byte {
		return broadcastMsg(t, uid, packet, rooms...)
	}
	event := eventPacket
	notEvent := wire.Map{{Key: "type", Value: int64(0)}, {Key: "data", Value: []any{"connect"}}, {Key: "nsp", Value: "/"}}
	ctx := context.Background()
	for _, m := range [][]byte{
		msg("other", notEvent, "x", "y"),         // foreign rooms: dropped unread, not counted
		msg("other", notEvent, "x", "a"),         // a is held: decoded, malformed
		[]byte("\xc1 not msgpack"),               // malformed wherever it goes
		msg("other", event("foreign"), "x", "y"), // reaches nobody here
		msg(a.uid, event("own"), "a", "b"),       // our own: delivered before publishing
		msg("other", event("ok"), "x", "a"),
	} {
		must(t, rc.Publish(ctx, a.ch.Broadcast, m).Err())
	}
	// Our own single-room broadcast, come back on its room's channel: dropped by its uid.
	must(t, rc.Publish(ctx, a.ch.Room("a"), msg(a.uid, event("own-room"), "a")).Err())
	must(t, rc.Publish(ctx, a.ch.Room("a"), msg("other", event("ok2"), "a")).Err())
	clients.Wait(wait, "A ok", gotEvent("A", "ok"))
	clients.Wait(wait, "A ok2", gotEvent("A", "ok2"))
	if st := g1.cluster.Stats(); st.Malformed != 2 || st.Skipped != 4 {
		t.Errorf("malformed = %d, skipped = %d, want 2 and 4 (stats %+v)", st.Malformed, st.Skipped, st)
	}
	if n := clients.Count(func(l cluster.Line) bool { return l["event"] != nil }); n != 2 {
		t.Errorf("A received %d events, want only ok and ok2", n)
	}
}

// A broadcast to a room that a request received just before it creates is delivered: the
// early drop of broadcasts for rooms this node lacks waits while requests are queued. The two
// messages go in one pipeline, so that they usually arrive in one read.
func TestBroadcastRightAfterRemoteJoinIsDelivered(t *testing.T) {
	_, clients, a, rc := startNodeWithClientInA(t)
	ctx := context.Background()
	const rounds = 20
	for i := range rounds {
		room := fmt.Sprintf("fresh%d", i)
		join := fmt.Sprintf(`{"uid":"other","type":2,"opts":{"rooms":["a"],"except":[]},"rooms":[%q]}`, room)
		b := broadcastMsg(t, "other", eventPacket(room), room)
		_, err := rc.Pipelined(ctx, func(p goredis.Pipeliner) error {
			p.Publish(ctx, a.ch.Request, join)
			p.Publish(ctx, a.ch.Room(room), b)
			return nil
		})
		must(t, err)
	}
	for i := range rounds {
		room := fmt.Sprintf("fresh%d", i)
		clients.Wait(wait, "A "+room, gotEvent("A", room))
	}
}

// broadcastMsg is a broadcast as a node publishes it: from node uid, packet to rooms.
func broadcastMsg(t *testing.T, uid string, packet wire.Map, rooms ...string) []byte {
	t.Helper()
	list := make([]any, len(rooms))
	for i, r := range rooms {
		list[i] = r
	}
	b, err := wire.Append(nil, []any{uid, packet, wire.Map{{Key: "rooms", Value: list}, {Key: "except", Value: []any{}}, {Key: "flags", Value: wire.Map{}}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// eventPacket is the packet of an event called name, without arguments, on "/".
func eventPacket(name string) wire.Map {
	return wire.Map{{Key: "type", Value: int64(2)}, {Key: "data", Value: []any{name}}, {Key: "nsp", Value: "/"}}
}

// A SUBSCRIBE that fails is sent again, even when the connection stays: without the retry the
// room's broadcasts would not reach this node until the next reconnect. The failure is
// injected: a connection cannot be made to fail one given command here.
func TestFailedSubscriptionIsRetried(t *testing.T) {
	testutil.CheckGoroutines(t)
	url, key := cluster.RedisURL(t), cluster.Key(t)
	g1 := startGoNode(t, "g1", url, key, nodeOptions{mode: SubscribeRooms})
	g2 := startGoNode(t, "g2", url, key, nodeOptions{mode: SubscribePattern})
	room := g1.adapter("/").ch.Room("r1")
	var failed atomic.Int32
	fault := func(names []string) error {
		if slices.Contains(names, room) && failed.Add(1) == 1 {
			return errors.New("connection broke under the command")
		}
		return nil
	}
	g1.cluster.testSubscribeFault.Store(&fault)
	clients := startClients(t, clientSpec{Name: "A", URL: g1.url, Rooms: []string{"r1"}})
	clients.Wait(wait, "A connected", func(l cluster.Line) bool { return l["connected"] != nil })
	g1.joined(t, "/", "A")
	g1.synced(t) // fails (times out) unless r1's channel was subscribed after all
	if n := failed.Load(); n < 2 {
		t.Fatalf("the subscription of r1 was attempted %d times, want a failure and a retry", n)
	}
	must(t, g2.srv.Of("/").To("r1").Emit("after-retry"))
	clients.Wait(wait, "A after-retry", gotEvent("A", "after-retry"))
}

// A subscription whose command failed, although it reached Redis, and whose room emptied
// before the retry is unsubscribed, so that neither Redis nor the node's record (Cluster.subs,
// the only one: the connection keeps none) keeps a channel nobody wants.
func TestFailedSubscriptionOfALeftRoomIsUnsubscribed(t *testing.T) {
	testutil.CheckGoroutines(t)
	url, key := cluster.RedisURL(t), cluster.Key(t)
	g1 := startGoNode(t, "g1", url, key, nodeOptions{mode: SubscribeRooms})
	g1.cluster.mu.Lock()
	g1.cluster.retryBackoff = backoff{min: time.Minute, max: time.Minute} // the leave comes first
	g1.cluster.mu.Unlock()
	room := g1.adapter("/").ch.Room("r2")
	failed := make(chan struct{})
	var once sync.Once
	fault := func(names []string) (err error) {
		if !slices.Contains(names, room) {
			return nil
		}
		once.Do(func() {
			if err := g1.cluster.subscriber().Subscribe(names...); err != nil { // it went out
				t.Errorf("SUBSCRIBE: %v", err)
			}
			err = errors.New("connection broke under the command")
			close(failed)
		})
		return err
	}
	g1.cluster.testSubscribeFault.Store(&fault)
	clients := startClients(t, clientSpec{Name: "A", URL: g1.url, Rooms: []string{"r2"}})
	id := clients.Wait(wait, "A connected", func(l cluster.Line) bool { return l["connected"] != nil }).Str("connected")
	select {
	case <-failed:
	case <-time.After(wait):
		t.Fatal("the subscription of r2 was never attempted")
	}
	must(t, g1.srv.Of("/").In(id).SocketsLeave(context.Background(), "r2"))
	g1.synced(t) // fails (times out) while Redis still has the channel the node does not want
	g1.checkUnsubscribed(t, url, "r2")
}

// checkUnsubscribed fails t if Redis (at url) or node n's record (Cluster.subs, the only one:
// the connection keeps none) still has the channel of room, of namespace "/".
func (n *goNode) checkUnsubscribed(t *testing.T, url, room string) {
	t.Helper()
	ch := n.adapter("/").ch.Room(room)
	list, err := cluster.Client(t, url).PubSubChannels(context.Background(), n.cluster.cfg.Key+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	n.cluster.mu.Lock()
	entry := n.cluster.subs[ch]
	n.cluster.mu.Unlock()
	if slices.Contains(list, ch) || entry != nil {
		t.Errorf("%s's channel is still subscribed: Redis %v, the node's entry %+v", room, list, entry)
	}
}

// A subscription that Redis confirms but the node does not want (a command that reached Redis
// while its answer was written off, for one) is unsubscribed by the next pass instead of
// staying until the next reconnect, with the node never synced meanwhile. The test subscribes
// a room's channel on the node's connection behind the node's back.
func TestUnwantedConfirmedSubscriptionIsUnsubscribed(t *testing.T) {
	testutil.CheckGoroutines(t)
	url, key := cluster.RedisURL(t), cluster.Key(t)
	n := startGoNode(t, "g1", url, key, nodeOptions{mode: SubscribeRooms})
	n.synced(t)
	// Synced, the node has no pass to make: the next one is the confirmation's doing.
	passes := make(chan struct{}, 1)
	hook := func([]string) {
		select {
		case passes <- struct{}{}:
		default:
		}
	}
	n.cluster.testPassWorkedOut.Store(&hook)
	t.Cleanup(func() { n.cluster.testPassWorkedOut.Store(nil) })
	ch := n.adapter("/").ch.Room("stray")
	must(t, n.cluster.subscriber().Subscribe(ch))
	select {
	case <-passes:
	case <-time.After(wait):
		t.Fatal("no subscription pass followed the stray subscription's confirmation")
	}
	n.synced(t) // the pass's UNSUBSCRIBE answered
	n.checkUnsubscribed(t, url, "stray")
}

// A subscription pass worked out before the node reconnects is not sent on the new
// connection. Its SUBSCRIBE of a room that was left meanwhile would be confirmed there after
// the reconnect had forgotten the subscription, so that no pass would unsubscribe it: Redis
// would keep a channel nobody wants, and the node would not be synced again before its next
// reconnect. The test holds the pass between being worked out and being sent, closes the
// node's connection as a broken one, and leaves the room once the node has a new connection.
func TestPassWorkedOutBeforeReconnect(t *testing.T) {
	testutil.CheckGoroutines(t)
	url, key := cluster.RedisURL(t), cluster.Key(t)
	n := startGoNode(t, "g1", url, key, nodeOptions{mode: SubscribeRooms})
	_, s := connectSocket(t, n)
	c := n.cluster
	ch := n.adapter("/").ch.Room("r")
	held, release := make(chan struct{}), make(chan struct{})
	var holding atomic.Bool
	hold := func(subscribe []string) {
		if slices.Contains(subscribe, ch) && holding.CompareAndSwap(false, true) {
			close(held)
			<-release
		}
	}
	c.testPassWorkedOut.Store(&hold)
	var released sync.Once
	let := func() { released.Do(func() { close(release) }) }
	t.Cleanup(let) // before the node's cleanup, which waits for the subscription loop

	s.Join("r")
	select {
	case <-held:
	case <-time.After(wait):
		t.Fatal("no pass subscribed r")
	}
	must(t, c.subscriber().Close())
	// While the subscription loop is held, only a reconnect marks r as not had: the node has
	// its new connection then, and has forgotten the old one's subscriptions.
	n.waitState(t, "a new connection", func(c *Cluster) bool {
		e := c.subs[ch]
		return e != nil && !e.have
	})
	s.Leave("r")
	let()
	n.synced(t) // fails (times out) while Redis has r's channel for the new connection
	n.checkUnsubscribed(t, url, "r")
}

// A subscription that Redis refuses (NOPERM: the node's ACL user may not subscribe to the
// broadcasts' pattern) leaves the node not ready, with the error in Health, and is tried again
// on new connections with backoff, without the node flapping between ready and not; once the
// ACL allows the pattern the node is synced. The subscriber connection authenticates as that
// user.
func TestRefusedSubscription(t *testing.T) {
	testutil.CheckGoroutines(t)
	url, key := cluster.RedisURL(t), cluster.Key(t)
	admin := cluster.Client(t, url)
	ctx := context.Background()
	user := key + "-user"
	must(t, admin.Do(ctx, "ACL", "SETUSER", user, "on", ">pw", "+@all", "~*", "resetchannels", "&"+key+"-*").Err())
	t.Cleanup(func() { admin.Do(ctx, "ACL", "DELUSER", user) })
	opts, err := goredis.ParseURL(url)
	must(t, err)
	opts.Username, opts.Password = user, "pw"
	logs := &testutil.LogBuffer{}
	cl, err := New(Config{Options: opts, Key: key, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	must(t, err)
	srv := socketio.NewServer(socketio.Config{Adapter: cl.NewAdapter})
	t.Cleanup(func() {
		_ = srv.Shutdown(ctx)
		_ = cl.Close()
	})
	pattern := srv.Of("/").Adapter().(*Adapter).ch.Pattern()

	// Refused on several connections in a row.
	for deadline := time.Now().Add(wait); ; {
		entries, err := admin.ACLLog(ctx, 100).Result()
		must(t, err)
		i := slices.IndexFunc(entries, func(e *goredis.ACLLogEntry) bool { return e.Username == user && e.Object == pattern })
		if i >= 0 && entries[i].Count >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis did not refuse %s three times", pattern)
		}
		time.Sleep(20 * time.Millisecond) // Redis gives no signal for its ACL log
	}
	if h := cl.Health(); h.Ready || !strings.Contains(h.LastError, "NOPERM") {
		t.Errorf("health while refused: %+v", h)
	}

	must(t, admin.Do(ctx, "ACL", "SETUSER", user, "allchannels").Err())
	waitCtx, cancel := context.WithTimeout(ctx, 2*wait)
	defer cancel()
	if err := cl.waitSynced(waitCtx); err != nil {
		t.Fatalf("not synced once allowed: %v (health %+v)", err, cl.Health())
	}
	if down, up := logs.Count("Redis unreachable"), logs.Count("Redis reachable again"); down > 1 || up > 1 {
		t.Errorf("logged %d outages and %d recoveries, want one of each at most:\n%s", down, up, logs.String())
	}
}
