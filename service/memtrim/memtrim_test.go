package memtrim

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
)

func TestShouldTrim(t *testing.T) {
	t.Parallel()
	const mb = 1 << 20
	base := Heap{Allocated: 1000 * mb, Live: 40 * mb, Objects: 70 * mb, Free: 10 * mb}
	cases := []struct {
		name string
		prev Heap
		now  Heap
		want bool
	}{
		{"quiet, 40 MB reclaimable of 40 live", base, base, true},
		{"quiet, allocations just under a sixteenth", base, with(base, func(h *Heap) { h.Allocated += 40*mb/16 - 1 }), true},
		{"busy: a sixteenth of the live heap allocated", base, with(base, func(h *Heap) { h.Allocated += 40 * mb / 16 }), false},
		{"little to reclaim: under a quarter of live", base, with(base, func(h *Heap) { h.Objects, h.Free = 45*mb, 4*mb }), false},
		{"small heap: under MinReclaimable", base, Heap{Allocated: base.Allocated, Live: 2 * mb, Objects: 2 * mb, Free: mb - 1}, false},
		{"small heap: MinReclaimable", base, Heap{Allocated: base.Allocated, Live: 2 * mb, Objects: 2 * mb, Free: mb}, true},
		{"no collection yet", base, with(base, func(h *Heap) { h.Live = 0 }), false},
		{"counter went back (cannot happen; no trim)", base, with(base, func(h *Heap) { h.Allocated-- }), false},
	}
	for _, c := range cases {
		if got := ShouldTrim(c.prev, c.now); got != c.want {
			t.Errorf("%s: ShouldTrim = %v, want %v", c.name, got, c.want)
		}
	}
}

func with(h Heap, f func(*Heap)) Heap {
	f(&h)
	return h
}

var sink [][]byte

// After a burst of garbage the process goes quiet: Run trims, and what it reclaimed is gone
// from the heap's free and dead memory.
func TestRunTrimsAQuietHeap(t *testing.T) {
	testutil.CheckGoroutines(t)
	keep := make([][]byte, 0, 1<<14)
	for i := range 1 << 17 { // 64 MiB in 512-byte objects, one in eight kept
		b := make([]byte, 512)
		if i%8 == 0 {
			keep = append(keep, b)
		}
		sink = append(sink, b)
	}
	sink = nil
	runtime.GC() // so that Live is what is kept, and the rest is dead or free
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var trims [][2]Heap
	trimmed := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, 10*time.Millisecond, func(before, after Heap) {
			mu.Lock()
			trims = append(trims, [2]Heap{before, after})
			mu.Unlock()
			select {
			case trimmed <- struct{}{}:
			default:
			}
		})
	}()
	select {
	case <-trimmed:
	case <-time.After(10 * time.Second):
		t.Fatal("no trim of a quiet heap with about 56 MiB to reclaim")
	}
	cancel()
	<-done
	mu.Lock()
	before, after := trims[0][0], trims[0][1]
	mu.Unlock()
	if after.Reclaimable() >= before.Reclaimable()/2 {
		t.Errorf("reclaimable %d -> %d bytes: the trim gave back little", before.Reclaimable(), after.Reclaimable())
	}
	runtime.KeepAlive(keep)
}
