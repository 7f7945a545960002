package service

import (
	"context"
	"testing"
	"time"
)

func TestPaceVisitsEveryItemInBatches(t *testing.T) {
	items := make([]int, 100)
	for i := range items {
		items[i] = i
	}
	var seen []int
	var waits []time.Duration
	var before []int // items visited when each wait began
	paceWith(context.Background(), items, 200*time.Millisecond, func(i int) { seen = append(seen, i) },
		func(_ context.Context, d time.Duration) bool {
			waits = append(waits, d)
			before = append(before, len(seen))
			return true
		})
	if len(seen) != 100 {
		t.Fatalf("visited %d items", len(seen))
	}
	for i, v := range seen {
		if v != i {
			t.Fatalf("order: %v", seen)
		}
	}
	// 200ms in 50ms steps: 4 batches of 25, 3 waits of 50ms between them.
	if len(waits) != 3 || waits[0] != 50*time.Millisecond || before[0] != 25 || before[1] != 50 || before[2] != 75 {
		t.Fatalf("waits %v after %v items", waits, before)
	}

	// Few items: one per batch, the whole duration still used.
	waits, before, seen = nil, nil, nil
	paceWith(context.Background(), []int{1, 2, 3}, time.Second, func(i int) { seen = append(seen, i) },
		func(_ context.Context, d time.Duration) bool { waits = append(waits, d); return true })
	if len(seen) != 3 || len(waits) != 2 || waits[0] != time.Second/3 {
		t.Fatalf("small drain: seen %v waits %v", seen, waits)
	}
}

func TestPaceStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	pace(ctx, []int{1, 2, 3}, time.Hour, func(int) {
		n++
		cancel()
	})
	if n != 1 {
		t.Fatalf("visited %d items after cancel, want 1", n)
	}
	pace(context.Background(), []int{}, time.Second, func(int) { t.Fatal("called on no items") })
	m := 0
	pace(context.Background(), []int{1, 2}, 0, func(int) { m++ })
	if m != 2 {
		t.Fatalf("zero duration visited %d", m)
	}
}
