package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/tomato-code/realtime/adapter/redis/wire"
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
	url, key := cluster.RedisURL(b), cluster.Key(b)
	cl, err := New(Config{URL: url, Key: key, Subscription: mode, Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	srv := socketio.NewServer(socketio.Config{Adapter: cl.NewAdapter})
	defer srv.Shutdown(context.Background())
	a := srv.Of("/").Adapter().(*Adapter)
	ctx := context.Background()
	if err := cl.waitSynced(ctx); err != nil {
		b.Fatal(err)
	}
	// The last message, published after the measured ones, on a channel none of them uses.
	sentinelCh := a.ch.Broadcast
	if twoRooms {
		sentinelCh = a.ch.Room("sentinel") // received through the pattern
	}
	sentinel := make(chan struct{}, 1)
	hook := func(channel string) {
		if channel == sentinelCh {
			sentinel <- struct{}{}
		}
	}
	cl.testHook.Store(&hook)

	msg, err := wire.AppendBroadcast(nil, wire.Broadcast{UID: "other", Packet: wire.Packet{Nsp: "/",
		Data: json.RawMessage(`["order:update",{"id":"o-123456","status":"preparing","eta":1200}]`)},
		Opts: wire.BroadcastOptions{Rooms: []string{"user:x", "user:y"}[:map[bool]int{false: 1, true: 2}[twoRooms]]}})
	if err != nil {
		b.Fatal(err)
	}
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
