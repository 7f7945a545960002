package socketio

import (
	"context"
	"sync"
	"testing"
)

// TestOnBroadcast checks that Config.OnBroadcast is told, before Emit returns, how many local
// sockets took each broadcast and how many a volatile one skipped.
func TestOnBroadcast(t *testing.T) {
	var mu sync.Mutex
	var got []Delivery
	srv := testServer(t, Config{OnBroadcast: func(ns string, d Delivery) {
		if ns != "/" {
			t.Errorf("namespace %q", ns)
		}
		mu.Lock()
		got = append(got, d)
		mu.Unlock()
	}})
	cls, _ := roomFixture(t, srv)
	ns := srv.Of("/")
	last := func() Delivery {
		mu.Lock()
		defer mu.Unlock()
		if len(got) == 0 {
			t.Fatal("OnBroadcast not called")
		}
		d := got[len(got)-1]
		got = nil
		return d
	}

	ns.To("a", "b").Emit("e")
	if d := last(); d != (Delivery{Queued: 3}) {
		t.Errorf("to a, b: %+v", d)
	}
	cls[1].f.mu.Lock()
	cls[1].f.writable = false
	cls[1].f.mu.Unlock()
	ns.Volatile().Emit("e")
	if d := last(); d != (Delivery{Queued: 3, VolatileSkipped: 1}) {
		t.Errorf("volatile: %+v", d)
	}
	ns.To("a").Emit("e") // not volatile: the busy socket is still queued to
	if d := last(); d != (Delivery{Queued: 2}) {
		t.Errorf("not volatile: %+v", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no answers needed: only the delivery is reported
	ns.Volatile().To("b").EmitWithAck(ctx, "q")
	if d := last(); d != (Delivery{Queued: 1, VolatileSkipped: 1}) {
		t.Errorf("volatile with ack: %+v", d)
	}
	ns.To("nobody").Emit("e")
	if d := last(); d != (Delivery{}) {
		t.Errorf("no target: %+v", d)
	}
}
