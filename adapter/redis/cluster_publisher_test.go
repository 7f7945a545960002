package redis

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tomato-code/realtime/adapter/redis/wire"
)

func testBroadcast(data string) wire.Broadcast {
	return wire.Broadcast{UID: "u", Packet: wire.Packet{Nsp: "/", Data: json.RawMessage(data)},
		Opts: wire.BroadcastOptions{Rooms: []string{"r"}}}
}

// TestPublishBroadcast: a broadcast is queued as AppendBroadcast writes it, in a buffer that
// goes back to the pool once the batch is released; the released batch keeps no payload.
func TestPublishBroadcast(t *testing.T) {
	t.Parallel()
	c := &Cluster{}
	c.out.init(1<<20, &c.stats)
	var batch []outMsg
	for _, data := range []string{`["e",1]`, `["e","` + strings.Repeat("x", 5000) + `"]`, `["e",2]`} {
		b := testBroadcast(data)
		if err := c.publishBroadcast("ch", b); err != nil {
			t.Fatal(err)
		}
		want, err := wire.AppendBroadcast(nil, b)
		if err != nil {
			t.Fatal(err)
		}
		batch = c.out.take(batch, publishBatch)
		if len(batch) != 1 || batch[0].channel != "ch" || !bytes.Equal(batch[0].payload, want) {
			t.Fatalf("queued %+v, want one message %x on ch", batch, want)
		}
		// A small message is never queued in a buffer four times its size (beyond 1 KiB).
		if m := batch[0]; cap(m.payload) > 4*len(m.payload) && cap(m.payload) > 1<<10 {
			t.Fatalf("%d bytes queued in a buffer of %d", len(m.payload), cap(m.payload))
		}
		releaseBatch(batch)
		if batch[0].payload != nil || batch[0].buf != nil {
			t.Fatal("a released batch still holds its message")
		}
	}
	if got := c.stats.queuedBytes.Load(); got != 0 {
		t.Fatalf("%d bytes still counted as queued", got)
	}
}

// TestPublishBroadcastRefused: a message that does not fit is dropped with ErrQueueFull and
// counted; data that cannot be encoded is an error and queues nothing.
func TestPublishBroadcastRefused(t *testing.T) {
	t.Parallel()
	c := &Cluster{}
	c.out.init(10, &c.stats)
	if err := c.publishBroadcast("ch", testBroadcast(`["e"]`)); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("error %v, want ErrQueueFull", err)
	}
	if n := c.stats.publishDropped.Load(); n != 1 {
		t.Fatalf("%d dropped, want 1", n)
	}
	c.out.init(1<<20, &c.stats)
	err := c.publishBroadcast("ch", testBroadcast(`{"not":"an array"}`))
	if !errors.Is(err, wire.ErrMalformed) || !strings.HasPrefix(err.Error(), "redis adapter: ") {
		t.Fatalf("error %v, want a wrapped wire.ErrMalformed", err)
	}
	if batch := c.out.take(nil, publishBatch); len(batch) != 0 {
		t.Fatalf("queued %d messages", len(batch))
	}
}

// BenchmarkPublishBroadcast is what the emitting goroutine pays to hand a broadcast to the
// publisher (the pipeline itself is not included): encoding into a pooled buffer and queueing.
func BenchmarkPublishBroadcast(b *testing.B) {
	c := &Cluster{}
	c.out.init(1<<30, &c.stats)
	m := testBroadcast(`["order:update",{"id":"o-123456","status":"preparing","eta":1200,"items":[{"sku":"a1","qty":2}],"total":31.5}]`)
	var batch []outMsg
	b.ReportAllocs()
	for b.Loop() {
		if err := c.publishBroadcast("ch", m); err != nil {
			b.Fatal(err)
		}
		batch = c.out.take(batch, publishBatch)
		releaseBatch(batch)
	}
}
