package load

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tomato-code/realtime/bench/internal/loop"
)

// shard holds a part of the connections, in this process (localShard) or in a worker process
// (remoteShard).
type shard interface {
	// connect starts opening the connections with global indices from to to-1, at most rate
	// per second (0: no cap) and conc handshakes in flight; it returns at once.
	connect(from, to int, rate float64, conc int) error
	stats() (shardStats, error)
	// delivered returns how many stamped events of phase arrived.
	delivered(phase int) (int64, error)
	close() error
}

// shardStats are a shard's counters and, for a worker, its CPU time.
type shardStats struct {
	loop.Stats
	// CPU is the worker process's CPU time; zero for the local shard, whose CPU is the
	// controller's own.
	CPU time.Duration `json:"cpu_ns"`
	// Pacing is set while connections are still being started.
	Pacing bool `json:"pacing"`
}

// localShard is a loop.Set in this process.
type localShard struct {
	set    *loop.Set
	ctx    context.Context
	cancel context.CancelFunc
	pacing atomic.Bool
	wg     sync.WaitGroup
	cpu    func() time.Duration
}

func newLocalShard(cfg loop.Config) (*localShard, error) {
	set, err := loop.New(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &localShard{set: set, ctx: ctx, cancel: cancel}, nil
}

func (s *localShard) connect(from, to int, rate float64, conc int) error {
	s.pacing.Store(true)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.pacing.Store(false)
		pace(s.ctx, s.set, from, to, rate, conc)
	}()
	return nil
}

func (s *localShard) stats() (shardStats, error) {
	st := shardStats{Stats: s.set.Stats(), Pacing: s.pacing.Load()}
	if s.cpu != nil {
		st.CPU = s.cpu()
	}
	return st, nil
}

func (s *localShard) delivered(phase int) (int64, error) { return s.set.Delivered(phase), nil }

func (s *localShard) close() error {
	s.cancel()
	s.wg.Wait()
	return s.set.Close()
}

// pace opens connections from to to-1 on set, keeping under rate per second and conc
// handshakes in flight, until all are started or ctx ends.
func pace(ctx context.Context, set *loop.Set, from, to int, rate float64, conc int) {
	const tick = 2 * time.Millisecond
	const chunk = 64 // opened per step, so that the loops interleave opening with reading
	start := time.Now()
	next := from
	t := time.NewTicker(tick)
	defer t.Stop()
	for next < to {
		n := min(to-next, chunk)
		if rate > 0 {
			due := from + int(rate*time.Since(start).Seconds()) + 1
			n = min(n, due-next)
		}
		n = min(n, conc-int(set.InFlight()))
		if n > 0 {
			set.Open(next, next+n)
			next += n
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
