package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tomato-code/realtime/adapter/redis/wire"
	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/socketio"
	"github.com/tomato-code/realtime/test/cluster"
)

// BenchmarkForeignRoomTraffic measures what a node pays for broadcasts to rooms it does not
// hold, the bulk of a cluster's traffic when users spread over many nodes: another node
// publishes b.N single-room broadcasts to rooms this node has no socket in. With
// SubscribeRooms Redis does not even send them here (received/op 0); with SubscribePattern
// (what Node.js nodes do) every one crosses the network and is read, parsed and dropped.
// pattern-2rooms publishes broadcasts to two foreign rooms, which travel on the namespace
// channel in both modes: the node drops them after reading their options (PeekBroadcast).
func BenchmarkForeignRoomTraffic(b *testing.B) {
	for _, mode := range []SubscriptionMode{SubscribeRooms, SubscribePattern} {
		b.Run(map[SubscriptionMode]string{SubscribeRooms: "rooms", SubscribePattern: "pattern"}[mode], func(b *testing.B) {
			benchForeignRoomTraffic(b, mode, false)
		})
	}
	b.Run("pattern-2rooms", func(b *testing.B) { benchForeignRoomTraffic(b, SubscribePattern, true) })
}

func benchForeignRoomTraffic(b *testing.B, mode SubscriptionMode, twoRooms bool) {
	url := cluster.RedisURL(b)
	cl, a, stop := syncedBenchNode(b, url, mode)
	defer stop()
	ctx := context.Background()
	// The last message, published after the measured ones, on a channel none of them uses.
	sentinelCh := a.ch.Broadcast
	if twoRooms {
		sentinelCh = a.ch.Room("sentinel") // received through the pattern
	}
	sentinel := cl.sentinel(sentinelCh)
	msg := benchBroadcast(b, []string{"user:x", "user:y"}[:map[bool]int{false: 1, true: 2}[twoRooms]]...)
	pub := cluster.Client(b, url)
	before := cl.Stats().Received
	b.ReportAllocs()
	b.ResetTimer()
	pipe := pub.Pipeline()
	for i := range b.N {
		ch := a.ch.Room(fmt.Sprintf("user:%d", i%1000))
		if twoRooms {
			ch = a.ch.Broadcast
		}
		pipe.Publish(ctx, ch, msg)
		if pipe.Len() == 256 || i == b.N-1 {
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := pub.Publish(ctx, sentinelCh, msg).Err(); err != nil {
		b.Fatal(err)
	}
	<-sentinel // everything published before it has reached the node (one connection, in order)
	b.StopTimer()
	b.ReportMetric(float64(cl.Stats().Received-before-1)/float64(b.N), "received/op")
}

// syncedBenchNode makes a node of a benchmark and waits until its subscriptions are live; it
// returns the node's adapter of "/".
func syncedBenchNode(b *testing.B, url string, mode SubscriptionMode) (cl *Cluster, a *Adapter, stop func()) {
	cl, srv, stop := benchNode(b, url, cluster.Key(b), mode)
	if err := cl.waitSynced(context.Background()); err != nil {
		stop()
		b.Fatal(err)
	}
	return cl, srv.Of("/").Adapter().(*Adapter), stop
}

// sentinel returns a channel that receives when the node receives a message on channel: the
// last message of a benchmark, published after the measured ones on the same connection,
// tells that they have all been received.
func (c *Cluster) sentinel(channel string) <-chan struct{} {
	arrived := make(chan struct{}, 1)
	hook := func(ch string) {
		if ch == channel {
			arrived <- struct{}{}
		}
	}
	c.testHook.Store(&hook)
	return arrived
}

// benchBroadcast is another node's broadcast of a small event to rooms.
func benchBroadcast(b *testing.B, rooms ...string) []byte {
	msg, err := wire.AppendBroadcast(nil, wire.Broadcast{UID: "other", Packet: wire.Packet{Nsp: "/",
		Data: json.RawMessage(`["order:update",{"id":"o-123456","status":"preparing","eta":1200}]`)},
		Opts: wire.BroadcastOptions{Rooms: rooms}})
	if err != nil {
		b.Fatal(err)
	}
	return msg
}

// benchNode makes a node of a benchmark, without an HTTP server; stop closes it.
func benchNode(b *testing.B, url, key string, mode SubscriptionMode) (cl *Cluster, srv *socketio.Server, stop func()) {
	cl, err := New(Config{URL: url, Key: key, Subscription: mode, Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	srv = socketio.NewServer(socketio.Config{Adapter: cl.NewAdapter})
	return cl, srv, func() {
		_ = srv.Shutdown(context.Background())
		_ = cl.Close()
	}
}

// BenchmarkRoomChannelHeap measures the live heap a node keeps for each room channel it
// subscribes with SubscribeRooms, where every room a local socket holds (each user's room,
// typically) has a channel: a fresh node's socket joins roomChannels rooms, and the heap is
// compared, after a collection, before and after their channels are subscribed and confirmed
// by Redis. The figure (B/room) covers the Cluster's state and the channel name (the
// subscriber connection keeps no record of its own); the rooms themselves are in both
// measurements. ns/op is the time from the first join to the last confirmation.
func BenchmarkRoomChannelHeap(b *testing.B) {
	const roomChannels = 10000
	testutil.CheckGoroutines(b)
	url, key := cluster.RedisURL(b), cluster.Key(b)
	var total float64
	for range b.N {
		total += roomChannelHeap(b, url, key, roomChannels)
	}
	b.ReportMetric(total/float64(b.N), "B/room")
}

// roomChannelHeap runs one measurement of BenchmarkRoomChannelHeap on a node of its own, so
// that every run starts from empty maps, and returns the heap bytes per room channel.
func roomChannelHeap(b *testing.B, url, key string, n int) float64 {
	b.StopTimer()
	defer b.StartTimer()
	cl, srv, stop := benchNode(b, url, key, SubscribeRooms)
	defer stop()
	sockets := make(chan *socketio.Socket, 1)
	srv.Of("/").OnConnection(func(s *socketio.Socket) { sockets <- s })
	hs := httptest.NewServer(srv)
	defer hs.Close()
	client := dialWS(b, hs.URL)
	defer client.conn.Close()
	if reply, _, err := client.connectUser("bench", wait); err != nil || !strings.HasPrefix(reply, "40") {
		b.Fatalf("connect: %q, %v", reply, err)
	}
	s := <-sockets
	a := srv.Of("/").Adapter().(*Adapter)
	rooms := make([]string, n)
	for i := range rooms {
		rooms[i] = fmt.Sprintf("user:%08d", i) // not 20 bytes: a channel each, not the id pattern
	}
	// Held by the memory adapter alone first, so that the rooms are not part of the difference;
	// the cluster then learns of them one by one, as AddAll tells it.
	a.mem.AddAll(s, rooms)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cl.waitSynced(ctx); err != nil {
		b.Fatal(err)
	}
	before := liveHeap()
	b.StartTimer()
	for _, room := range rooms {
		cl.roomJoined(a, room)
	}
	if err := cl.waitSynced(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	after := liveHeap()
	runtime.KeepAlive(rooms)
	return float64(int64(after)-int64(before)) / float64(n)
}

// liveHeap returns the bytes of heap objects that a collection leaves: the second collection
// frees what finalizers of the first kept.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
