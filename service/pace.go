package service

import (
	"context"
	"time"
)

// minBatchGap is the shortest pause between two drain batches: below it, batches would follow
// each other as fast as a single close-everything would, without the spreading drain wants.
const minBatchGap = 50 * time.Millisecond

// pace calls fn on every item, in batches spread evenly over d, so that clients closed during a
// drain reconnect to other nodes gradually instead of all at once (NATS calls this lame duck
// mode). The first batch goes at once. It returns early, leaving items unvisited, when ctx
// ends.
func pace[T any](ctx context.Context, items []T, d time.Duration, fn func(T)) {
	paceWith(ctx, items, d, fn, sleep)
}

// paceWith is pace with the wait between batches supplied, so tests need no clock.
func paceWith[T any](ctx context.Context, items []T, d time.Duration, fn func(T), wait func(context.Context, time.Duration) bool) {
	if len(items) == 0 {
		return
	}
	batches := max(1, min(int(d/minBatchGap), len(items)))
	size := (len(items) + batches - 1) / batches
	gap := d / time.Duration(batches)
	for start := 0; start < len(items); start += size {
		if start > 0 && !wait(ctx, gap) {
			return
		}
		for _, it := range items[start:min(start+size, len(items))] {
			fn(it)
		}
	}
}

// sleep waits d or until ctx ends; it reports whether the full wait happened.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
