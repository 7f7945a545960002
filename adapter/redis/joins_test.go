package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	goredis "github.com/redis/go-redis/v9"

	"github.com/tomato-code/realtime/emitter"
	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/socketio"
	"github.com/tomato-code/realtime/test/cluster"
)

// wsClient speaks Socket.IO by hand over a websocket: a connect costs a few packets, so a test
// can make hundreds.
type wsClient struct {
	t    testing.TB
	conn net.Conn
	r    io.Reader
}

func dialWS(t testing.TB, url string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	conn, br, _, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/socket.io/?EIO=4&transport=websocket")
	if err != nil {
		t.Fatal(err)
	}
	c := &wsClient{t: t, conn: conn, r: conn}
	if br != nil {
		c.r = br // it holds frames that came with the handshake response, then reads conn
	}
	t.Cleanup(func() { conn.Close() })
	if open, err := c.read(wait); err != nil || !strings.HasPrefix(open, `0{"sid":`) {
		t.Fatalf("open packet %q, %v", open, err)
	}
	return c
}

// read returns the next text message that is not an Engine.IO ping (it answers those).
func (c *wsClient) read(within time.Duration) (string, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(within))
	for {
		data, err := wsutil.ReadServerText(readWriter{c.r, c.conn})
		if err != nil {
			return "", err
		}
		if string(data) == "2" {
			c.send("3")
			continue
		}
		return string(data), nil
	}
}

func (c *wsClient) send(s string) {
	if err := wsutil.WriteClientText(c.conn, []byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

// readWriter reads from the client's reader (which may hold buffered frames) and writes, for
// control frames, to the connection.
type readWriter struct {
	io.Reader
	io.Writer
}

// connectUser connects the client to "/" as user, with auth {"user": user}, and returns the
// CONNECT reply and how long it took.
func (c *wsClient) connectUser(user string, within time.Duration) (string, time.Duration, error) {
	start := time.Now()
	c.send(`40{"user":"` + user + `"}`)
	reply, err := c.read(within)
	return reply, time.Since(start), err
}

// joinUserRoom is the service's middleware in short: the socket joins the room of the user
// its auth names.
func joinUserRoom(s *socketio.Socket) error {
	var auth struct {
		User string `json:"user"`
	}
	if err := json.Unmarshal(s.Auth(), &auth); err != nil || auth.User == "" {
		return fmt.Errorf("no user")
	}
	s.Join("user:" + auth.User)
	return nil
}

// viaProxy makes a node reach Redis (at url) through a freezer.
func viaProxy(t *testing.T, url string, delay time.Duration) (*freezer, func(*Config)) {
	t.Helper()
	ropts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startDelayingFreezer(t, ropts.Addr, delay)
	return proxy, func(c *Config) {
		o := *ropts
		o.Addr = proxy.l.Addr().String()
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout = time.Second, time.Second, time.Second
		c.Options = &o
	}
}

// With SubscribeRooms, a client that sees "connect" is reachable at once by the room its
// middleware joined and by its own id, from another node or from an emitter: the CONNECT
// reply waited for Redis to confirm their subscriptions. Node b reaches Redis through a
// proxy that adds 2 ms each way, as a Redis on another host would: without the wait, its
// SUBSCRIBE would reach Redis after the publication. Every connect is a new user, so new
// channels.
func TestConnectThenRoomBroadcast(t *testing.T) {
	testutil.CheckGoroutines(t)
	url, key := cluster.RedisURL(t), cluster.Key(t)
	_, slow := viaProxy(t, url, 2*time.Millisecond)
	a := startGoNode(t, "a", url, key, nodeOptions{mode: SubscribeRooms})
	b := startGoNode(t, "b", url, key, nodeOptions{mode: SubscribeRooms, cfg: slow})
	b.srv.Of("/").Use(joinUserRoom)
	em := emitter.New(cluster.Client(t, url), emitter.Config{Key: key})
	ctx := context.Background()
	for i := range 200 {
		c := dialWS(t, b.url)
		user := fmt.Sprintf("u%d", i)
		reply, _, err := c.connectUser(user, wait)
		if err != nil || !strings.HasPrefix(reply, `40{"sid":"`) {
			t.Fatalf("connect %d: %q, %v", i, reply, err)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(reply, `40{"sid":"`), `"}`)
		// Its user room, then its own room: the socket joins the latter as it connects.
		via := "node a"
		if i%2 == 0 {
			must(t, a.srv.Of("/").To("user:"+user).Emit("hello", i))
			must(t, a.srv.Of("/").To(id).Emit("hello-id", i))
		} else {
			via = "the emitter"
			must(t, em.To("user:"+user).Emit(ctx, "hello", i))
			must(t, em.To(id).Emit(ctx, "hello-id", i))
		}
		for _, want := range []string{fmt.Sprintf(`42["hello",%d]`, i), fmt.Sprintf(`42["hello-id",%d]`, i)} {
			if got, err := c.read(3 * time.Second); got != want {
				t.Fatalf("connect %d: the broadcasts to user:%s and its id through %s, right after the connect, got %q, %v; want %q",
					i, user, via, got, err, want)
			}
		}
		c.conn.Close()
	}
	if st := b.cluster.Stats(); st.JoinWaitTimeouts != 0 {
		t.Errorf("%d join waits timed out", st.JoinWaitTimeouts)
	}
}

// Without Redis a connect does not wait for it.
func TestConnectWithoutRedis(t *testing.T) {
	testutil.CheckGoroutines(t)
	cl, err := New(Config{URL: "redis://127.0.0.1:1", Subscription: SubscribeRooms, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	srv := socketio.NewServer(socketio.Config{Adapter: cl.NewAdapter, JoinWaitTimeout: time.Minute})
	srv.Of("/").Use(joinUserRoom)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Shutdown(context.Background())
		hs.Close()
		_ = cl.Close()
	})
	// Once the node has failed to reach Redis: a failure that leaves it not ready, as it was,
	// gives no signal.
	for deadline := time.Now().Add(wait); cl.Health().LastError == ""; {
		if time.Now().After(deadline) {
			t.Fatal("no Redis error reported")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c := dialWS(t, hs.URL)
	reply, took, err := c.connectUser("u1", wait)
	if err != nil || !strings.HasPrefix(reply, `40{"sid":"`) || took > time.Second {
		t.Fatalf("connect without Redis: %q, %v after %v; want the reply at once", reply, err, took)
	}
}

// frozenRedisNode starts a node in SubscribeRooms mode whose Redis connections go through a
// freezer, with the user-room middleware, and freezes Redis once the node is synced.
func frozenRedisNode(t *testing.T, cfg func(*Config), joinWait time.Duration) *goNode {
	t.Helper()
	url, key := cluster.RedisURL(t), cluster.Key(t)
	proxy, via := viaProxy(t, url, 0)
	n := startGoNode(t, "g1", url, key, nodeOptions{mode: SubscribeRooms,
		cfg: func(c *Config) {
			via(c)
			cfg(c)
		},
		server: func(c *socketio.Config) { c.JoinWaitTimeout = joinWait },
	})
	n.srv.Of("/").Use(joinUserRoom)
	proxy.freeze()
	t.Cleanup(proxy.thaw) // before the node's cleanup, which needs Redis to close promptly
	return n
}

// A connect while Redis is silent (a partition the node has not noticed yet) waits
// JoinWaitTimeout, no more, and is counted.
func TestConnectRedisSilentTimeout(t *testing.T) {
	testutil.CheckGoroutines(t)
	const joinWait = 300 * time.Millisecond
	n := frozenRedisNode(t, func(c *Config) { c.HealthCheckInterval = time.Minute }, joinWait)
	c := dialWS(t, n.url)
	reply, took, err := c.connectUser("u1", wait)
	if err != nil || !strings.HasPrefix(reply, `40{"sid":"`) || took < joinWait || took > joinWait+2*time.Second {
		t.Fatalf("connect with Redis frozen: %q, %v after %v; want the reply after %v", reply, err, took, joinWait)
	}
	if st := n.cluster.Stats(); st.JoinWaitTimeouts != 1 {
		t.Errorf("JoinWaitTimeouts = %d, want 1", st.JoinWaitTimeouts)
	}
}

// A connect waiting for Redis goes ahead as soon as the node finds Redis unreachable, before
// JoinWaitTimeout.
func TestConnectRedisLostDuringWait(t *testing.T) {
	testutil.CheckGoroutines(t)
	n := frozenRedisNode(t, func(c *Config) { c.HealthCheckInterval = 100 * time.Millisecond }, time.Minute)
	c := dialWS(t, n.url)
	reply, took, err := c.connectUser("u1", wait)
	if err != nil || !strings.HasPrefix(reply, `40{"sid":"`) {
		t.Fatalf("connect with Redis frozen: %q, %v after %v", reply, err, took)
	}
	if st := n.cluster.Stats(); st.JoinWaitTimeouts != 0 || n.cluster.Ready() {
		t.Errorf("JoinWaitTimeouts = %d, ready %v; want 0, false", st.JoinWaitTimeouts, n.cluster.Ready())
	}
	t.Logf("connected %v after the connect, Redis frozen", took)
}

// A client that goes away while its connect waits for Redis is not connected, and the
// channel subscribed for it (its user room) is unsubscribed: the node is left
// with its fixed channels.
func TestConnectAbandonedDuringWait(t *testing.T) {
	testutil.CheckGoroutines(t)
	n := frozenRedisNode(t, func(c *Config) { c.HealthCheckInterval = time.Minute }, time.Minute)
	var connected atomic.Int32
	n.srv.Of("/").OnConnection(func(*socketio.Socket) { connected.Add(1) })
	a := n.adapter("/")
	fixed := map[string]bool{a.ch.Broadcast: true, a.ch.Request: true, a.ch.Response: true, a.ch.SpecificResponse(a.uid): true}
	onlyFixed := func(c *Cluster) bool {
		for ch, s := range c.subs {
			if s.a != nil && !fixed[ch] {
				return false
			}
		}
		return len(c.joinWaits) == 0
	}
	if !onlyFixed(n.cluster) {
		t.Fatal("the node has more than its fixed channels to start with")
	}
	c := dialWS(t, n.url)
	c.send(`40{"user":"u1"}`)
	n.waitState(t, "wait for the connect", func(c *Cluster) bool { return len(c.joinWaits) > 0 })
	c.conn.Close()
	n.waitState(t, "end of the wait, with only the fixed channels left", onlyFixed)
	if connected.Load() != 0 || a.mem.HasRoom("user:u1") {
		t.Errorf("%d connection handlers ran, in user:u1 %v; want none", connected.Load(), a.mem.HasRoom("user:u1"))
	}
}

// connectSocket connects a client to node n's namespace "/" and returns it with its socket on
// the node, once the node is synced: a test can make the socket join and leave rooms.
func connectSocket(t *testing.T, n *goNode) (*wsClient, *socketio.Socket) {
	t.Helper()
	sockets := make(chan *socketio.Socket, 1)
	n.srv.Of("/").OnConnection(func(s *socketio.Socket) { sockets <- s })
	client := dialWS(t, n.url)
	if reply, _, err := client.connectUser("u1", wait); err != nil || !strings.HasPrefix(reply, "40") {
		t.Fatalf("connect: %q, %v", reply, err)
	}
	s := <-sockets
	n.synced(t)
	return client, s
}

// A room's channel leaves nothing behind in the node once its room is empty and Redis has
// answered: a socket that joins and leaves a thousand rooms, three times over, some of them
// left or joined again while their commands are in flight, leaves the node with the entries
// and counts it started with.
func TestRoomChurnLeavesNoState(t *testing.T) {
	testutil.CheckGoroutines(t)
	n := startGoNode(t, "g1", cluster.RedisURL(t), cluster.Key(t), nodeOptions{mode: SubscribeRooms})
	_, s := connectSocket(t, n)
	type state struct{ subs, have, confirmed, matched, dirty, waits int }
	stateOf := func(c *Cluster) state {
		return state{len(c.subs), c.haveCount, c.confirmedCount, c.matched, len(c.dirty), len(c.joinWaits)}
	}
	c := n.cluster
	c.mu.Lock()
	start := stateOf(c)
	c.mu.Unlock()
	rooms := make([]string, 1000)
	for i := range rooms {
		rooms[i] = fmt.Sprintf("churn:%d", i)
	}
	for round := range 3 {
		s.Join(rooms...)
		if round == 1 {
			for _, room := range rooms[:500] {
				s.Leave(room) // before or after their subscriptions went out
			}
		}
		n.synced(t)
		for _, room := range rooms {
			s.Leave(room)
		}
		if round == 2 {
			s.Join(rooms[:500]...) // while their unsubscriptions may be in flight
			for _, room := range rooms[:500] {
				s.Leave(room)
			}
		}
		// Synced once Redis has answered every command, the subscriptions and unsubscriptions
		// of one room that were in flight together among them.
		n.synced(t)
		c.mu.Lock()
		got := stateOf(c)
		c.mu.Unlock()
		if got != start {
			t.Fatalf("state %+v once synced after round %d, want the starting state %+v", got, round, start)
		}
	}
}

// A node is not synced while Redis has not answered a SUBSCRIBE and an UNSUBSCRIBE of one
// channel, in either order, although the pair leaves its counts of wanted and confirmed
// subscriptions as they were: a test that publishes once the node is synced could otherwise
// race the pair. Redis is frozen behind a proxy while the pair is sent. Once a room left and
// joined again is synced, a broadcast to it from another connection arrives.
func TestUnansweredPairIsNotSynced(t *testing.T) {
	testutil.CheckGoroutines(t)
	url, key := cluster.RedisURL(t), cluster.Key(t)
	proxy, via := viaProxy(t, url, 0)
	n := startGoNode(t, "g1", url, key, nodeOptions{mode: SubscribeRooms, cfg: func(c *Config) {
		via(c)
		c.HealthCheckInterval = time.Minute // no reconnect while frozen, however slow the machine
	}})
	t.Cleanup(proxy.thaw) // before the node's cleanup, which needs Redis to close promptly
	client, s := connectSocket(t, n)
	c := n.cluster
	ch := n.adapter("/").ch.Room("r")
	// waitSent waits until the subscription loop has sent what the room's changes asked for,
	// which leaves the channel's entry as given.
	waitSent := func(what string, have, confirmed bool, inflight int32) {
		t.Helper()
		n.waitState(t, what, func(c *Cluster) bool {
			e := c.subs[ch]
			return len(c.dirty) == 0 && e != nil && e.have == have && e.confirmed == confirmed && e.inflight == inflight
		})
	}

	proxy.freeze()
	s.Join("r")
	waitSent("SUBSCRIBE of r", true, false, 1)
	s.Leave("r")
	waitSent("UNSUBSCRIBE of r after its SUBSCRIBE", false, false, 2)
	if c.isSynced() {
		t.Error("synced while Redis has answered neither the SUBSCRIBE nor the UNSUBSCRIBE of r")
	}
	proxy.thaw()
	n.synced(t)
	c.mu.Lock()
	left := c.subs[ch] != nil
	c.mu.Unlock()
	if left {
		t.Error("r's entry is left once Redis answered both commands")
	}

	s.Join("r")
	n.synced(t)
	proxy.freeze()
	s.Leave("r")
	waitSent("UNSUBSCRIBE of r", false, true, 1)
	s.Join("r")
	waitSent("SUBSCRIBE of r after its UNSUBSCRIBE", true, true, 2)
	c.mu.Lock()
	synced, pending := c.synced(), c.pendingLocked(ch)
	c.mu.Unlock()
	if synced || !pending {
		t.Errorf("with the UNSUBSCRIBE and SUBSCRIBE of r unanswered: synced %v, r pending for a connecting socket %v; want false, true",
			synced, pending)
	}
	proxy.thaw()
	n.synced(t)
	must(t, cluster.Client(t, url).Publish(context.Background(), ch, broadcastMsg(t, "other", eventPacket("after-rejoin"), "r")).Err())
	if msg, err := client.read(wait); err != nil || msg != `42["after-rejoin"]` {
		t.Errorf("after r was joined again: %q, %v; want the broadcast", msg, err)
	}
}
