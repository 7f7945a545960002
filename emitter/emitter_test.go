package emitter_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tomato-code/realtime/emitter"
	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/test/cluster"
)

// capture subscribes to every channel under key and returns the channel of messages.
func capture(t *testing.T, url, key string) <-chan *redis.Message {
	t.Helper()
	c := cluster.Client(t, url)
	ps := c.PSubscribe(context.Background(), key+"*")
	if _, err := ps.Receive(context.Background()); err != nil { // the subscription is live
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	return ps.Channel(redis.WithChannelSize(1000))
}

type published struct{ channel, payload string }

func collect(t *testing.T, ch <-chan *redis.Message, key string, n int) []published {
	t.Helper()
	var out []published
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case m := <-ch:
			out = append(out, published{strings.Replace(m.Channel, key, "KEY", 1), m.Payload})
		case <-timeout:
			t.Fatalf("captured %d of %d messages", len(out), n)
		}
	}
	return out
}

var date = time.UnixMilli(1700000000123)

// The same calls on @socket.io/redis-emitter and on the Go emitter publish the same bytes on
// the same channels.
func TestBytesMatchNodeEmitter(t *testing.T) {
	testutil.CheckGoroutines(t)
	url := cluster.RedisURL(t)
	nodeKey, goKey := cluster.Key(t), cluster.Key(t)
	nodeMsgs, goMsgs := capture(t, url, nodeKey), capture(t, url, goKey)

	type call struct {
		node map[string]any
		run  func(ctx context.Context, e *emitter.Emitter) error
	}
	bin := map[string]any{"$bin": "010203ff"}
	calls := []call{
		{map[string]any{"op": "emit", "event": "all", "args": []any{map[string]any{"a": 1, "10": 2, "2": "é€😀"}, "x", 12.5, -3, 4294967296, nil, true}},
			func(ctx context.Context, e *emitter.Emitter) error {
				return e.Emit(ctx, "all", map[string]any{"a": 1, "10": 2, "2": "é€😀"}, "x", 12.5, -3, int64(4294967296), nil, true)
			}},
		{map[string]any{"op": "emit", "rooms": []string{"user:u2"}, "event": "bin", "args": []any{bin, map[string]any{"$date": date.UnixMilli()}, map[string]any{"nested": bin}, []any{bin}}},
			func(ctx context.Context, e *emitter.Emitter) error {
				b := []byte{1, 2, 3, 0xff}
				return e.To("user:u2").Emit(ctx, "bin", b, date, map[string]any{"nested": b}, []any{b})
			}},
		{map[string]any{"op": "emit", "rooms": []string{"restaurant:r1", "user:u3"}, "except": []string{"user:u2"}, "event": "em-multi-except", "args": []any{2}},
			func(ctx context.Context, e *emitter.Emitter) error {
				return e.To("restaurant:r1").To("user:u3", "restaurant:r1").Except("user:u2").Emit(ctx, "em-multi-except", 2)
			}},
		{map[string]any{"op": "emit", "rooms": []string{"user:u2"}, "volatile": true, "compress": true, "event": "em-volatile", "args": []any{map[string]any{"$bin": "6869"}, map[string]any{"$date": 1700000000500}}},
			func(ctx context.Context, e *emitter.Emitter) error {
				return e.Volatile().Compress(true).To("user:u2").Emit(ctx, "em-volatile", []byte("hi"), time.UnixMilli(1700000000500))
			}},
		{map[string]any{"op": "emit", "compress": false, "event": "nocompress", "args": []any{}},
			func(ctx context.Context, e *emitter.Emitter) error { return e.Compress(false).Emit(ctx, "nocompress") }},
		{map[string]any{"op": "emit", "nsp": "/orders", "rooms": []string{"o1"}, "event": "order", "args": []any{map[string]any{"id": 7, "items": []any{"a", "b"}}}},
			func(ctx context.Context, e *emitter.Emitter) error {
				return e.Of("orders").To("o1").Emit(ctx, "order", json.RawMessage(`{"id":7,"items":["a","b"]}`))
			}},
		{map[string]any{"op": "socketsJoin", "rooms": []string{"user:u1"}, "join": []string{"a", "b"}},
			func(ctx context.Context, e *emitter.Emitter) error { return e.In("user:u1").SocketsJoin(ctx, "a", "b") }},
		{map[string]any{"op": "socketsLeave", "leave": []string{"a"}},
			func(ctx context.Context, e *emitter.Emitter) error { return e.SocketsLeave(ctx, "a") }},
		{map[string]any{"op": "disconnectSockets", "rooms": []string{"user:u1"}, "except": []string{"vip"}, "close": true},
			func(ctx context.Context, e *emitter.Emitter) error {
				return e.In("user:u1").Except("vip").DisconnectSockets(ctx, true)
			}},
		{map[string]any{"op": "disconnectSockets", "nsp": "/orders"},
			func(ctx context.Context, e *emitter.Emitter) error {
				return e.Of("/orders").DisconnectSockets(ctx, false)
			}},
		{map[string]any{"op": "serverSideEmit", "event": "plain-servers", "args": []any{"from-emitter", map[string]any{"n": 1}, bin}},
			func(ctx context.Context, e *emitter.Emitter) error {
				return e.ServerSideEmit(ctx, "plain-servers", "from-emitter", map[string]any{"n": 1}, []byte{1, 2, 3, 0xff})
			}},
	}

	node := cluster.Start(t, "emitter.js", []string{"REDIS_URL=" + url, "KEY=" + nodeKey})
	node.Wait(10*time.Second, "ready", func(l cluster.Line) bool { return l["ready"] == true })
	for _, c := range calls {
		if r := node.Call(c.node, 10*time.Second); r["error"] != nil {
			t.Fatalf("node emitter: %v", r["error"])
		}
	}
	ctx := context.Background()
	e := emitter.New(cluster.Client(t, url), emitter.Config{Key: goKey})
	for _, c := range calls {
		if err := c.run(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	want, got := collect(t, nodeMsgs, nodeKey, len(calls)), collect(t, goMsgs, goKey, len(calls))
	for i := range calls {
		if got[i] != want[i] {
			t.Errorf("call %d:\n go   %s %x\n node %s %x", i, got[i].channel, got[i].payload, want[i].channel, want[i].payload)
		}
	}
}

type failingPublisher struct{}

func (failingPublisher) Publish(ctx context.Context, channel string, message any) *redis.IntCmd {
	cmd := redis.NewIntCmd(ctx)
	cmd.SetErr(errors.New("connection refused"))
	return cmd
}

func TestErrors(t *testing.T) {
	t.Parallel()
	e := emitter.New(failingPublisher{}, emitter.Config{})
	ctx := context.Background()
	for _, ev := range []string{"connect", "disconnect", "connect_error", "disconnecting", "newListener", "removeListener"} {
		if err := e.Emit(ctx, ev); !errors.Is(err, emitter.ErrReservedEvent) {
			t.Errorf("Emit(%q) = %v, want ErrReservedEvent", ev, err)
		}
	}
	if err := e.Emit(ctx, "ok"); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("publish failure not returned: %v", err)
	}
	if err := e.Emit(ctx, "ch", make(chan int)); err == nil {
		t.Error("an argument JSON cannot encode was accepted")
	}
	if err := e.In("r").SocketsJoin(ctx, "x"); err == nil {
		t.Error("SocketsJoin publish failure not returned")
	}
}

// Operators are immutable: deriving one leaves its parent unchanged.
func TestOperatorsAreImmutable(t *testing.T) {
	testutil.CheckGoroutines(t)
	url := cluster.RedisURL(t)
	key := cluster.Key(t)
	msgs := capture(t, url, key)
	e := emitter.New(cluster.Client(t, url), emitter.Config{Key: key})
	base := e.To("a")
	_ = base.To("b").Volatile()
	_ = base.Except("c")
	if err := base.Emit(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	m := collect(t, msgs, key, 1)[0]
	if m.channel != "KEY#/#a#" {
		t.Fatalf("published on %s, want the single room channel", m.channel)
	}
	if want := "93a7656d697474657283a47479706502a46461746191a178a36e7370a12f83a5726f6f6d7391a161a5666c61677380a665786365707490"; fmt.Sprintf("%x", m.payload) != want {
		t.Fatalf("payload %x\nwant    %s", m.payload, want)
	}
}
