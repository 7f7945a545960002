package load

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/tomato-code/realtime/bench/internal/httpsend"
	"github.com/tomato-code/realtime/bench/internal/loop"
	"github.com/tomato-code/realtime/bench/internal/procfs"
)

// fileReserve is what a process keeps of its open-file limit for things other than the load
// connections: API connections, pipes, /proc reads, the runtime.
const fileReserve = 200

// clientLimit is the share of its CPUs above which the client is flagged as the limit.
const clientLimit = 0.9

// runner is the state of one Run.
type runner struct {
	cfg     Config
	shards  []shard
	ranges  [][2]int
	res     *Result
	cpus    int
	status  func() string // the current phase's progress line
	statusM sync.Mutex
	apiM    sync.Mutex
	api     []*httpsend.Client // keep-alive connections to the internal API
}

// Run performs the connect phase and then the configured scenarios, and returns what it
// measured. It returns an error only when the run could not start or could not go on; problems
// it can measure (failed connections, lost events, API errors) are in the Result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, cpus: procfs.AllowedCPUs()}
	r.res = &Result{
		Tool:       "realtime-bench/load",
		Label:      cfg.Label,
		Started:    time.Now().UTC(),
		URLs:       cfg.URLs,
		EmitURL:    cfg.EmitURL,
		ServerPIDs: cfg.PIDs,
		Conns:      cfg.Conns,
		Sources:    cfg.Sources,
		ClientCPUs: r.cpus,
	}
	if err := r.startShards(); err != nil {
		return nil, err
	}
	defer r.closeShards()

	stopProgress := r.progress()
	defer stopProgress()

	if err := r.connectPhase(ctx); err != nil {
		return r.res, err
	}
	if cfg.Idle > 0 {
		if err := r.idlePhase(ctx); err != nil {
			return r.res, err
		}
	}
	if len(cfg.Scenarios) > 0 && cfg.Warmup > 0 {
		// JIT-compiled servers (Node.js) are several times slower on their first thousand
		// requests: warm them up with untimed emits (phase 0), so that every phase measures the
		// server in its steady state.
		warm := r.plans(ScenarioTargeted)[1]
		warm.name, warm.requests = "warmup", cfg.Warmup
		if _, err := r.emitPhase(ctx, warm); err != nil {
			return r.res, err
		}
	}
	phase := 1
	for _, name := range cfg.Scenarios {
		for _, p := range r.plans(name) {
			if ctx.Err() != nil {
				return r.res, ctx.Err()
			}
			if phase > 9 {
				return r.res, errors.New("load: more than 9 emit phases")
			}
			p.phase = phase
			phase++
			res, err := r.emitPhase(ctx, p)
			if err != nil {
				return r.res, err
			}
			r.res.Phases = append(r.res.Phases, res)
		}
	}
	st, err := r.stats()
	if err != nil {
		return r.res, err
	}
	r.res.End = EndState{
		Connected: st.Connected,
		Failed:    st.Failed,
		Dropped:   st.Dropped,
		Pings:     st.Pings,
		Unstamped: st.Unstamped,
		Errors:    st.Errors,
	}
	return r.res, nil
}

func (r *runner) startShards() error {
	cfg := &r.cfg
	procs := cfg.Procs
	if procs <= 0 {
		per := max(raiseFileLimit()-fileReserve, 100)
		procs = (cfg.Conns + per - 1) / per
	} else {
		raiseFileLimit()
	}
	r.res.Procs = procs
	var targets []netip.AddrPort
	for _, u := range cfg.URLs {
		a, _ := loopbackAddr(u) // validated
		targets = append(targets, a)
	}
	sources := sourceAddrs(cfg.Sources)
	lcfg := loop.Config{
		Targets:       targets,
		Sources:       sources,
		Secret:        []byte(cfg.Secret),
		RestaurantID:  cfg.RestaurantID,
		ImmediateACKs: cfg.ImmediateACKs,
	}
	for k := range procs {
		r.ranges = append(r.ranges, [2]int{k * cfg.Conns / procs, (k + 1) * cfg.Conns / procs})
		var sh shard
		var err error
		if procs == 1 {
			sh, err = newLocalShard(lcfg)
		} else {
			if cfg.WorkerCommand == nil {
				return errors.New("load: several processes needed but no worker command")
			}
			sh, err = startRemoteShard(cfg.WorkerCommand(), workerSetup{
				Targets:       targets,
				Sources:       sources,
				Secret:        cfg.Secret,
				UserPrefix:    "u",
				RestaurantID:  cfg.RestaurantID,
				ImmediateACKs: cfg.ImmediateACKs,
			})
		}
		if err != nil {
			r.closeShards()
			return err
		}
		r.shards = append(r.shards, sh)
	}
	return nil
}

func (r *runner) closeShards() {
	for _, sh := range r.shards {
		if err := sh.close(); err != nil {
			r.note("closing connections: %v", err)
		}
	}
	r.shards = nil
	for _, c := range r.api {
		c.Close()
	}
	r.api = nil
}

func (r *runner) note(format string, args ...any) {
	r.res.Notes = append(r.res.Notes, fmt.Sprintf(format, args...))
}

// stats merges the counters of every shard.
func (r *runner) stats() (shardStats, error) {
	var all shardStats
	for _, sh := range r.shards {
		st, err := sh.stats()
		if err != nil {
			return all, err
		}
		all.Stats.Merge(st.Stats)
		all.CPU += st.CPU
		all.Pacing = all.Pacing || st.Pacing
	}
	return all, nil
}

// delivered sums a phase's deliveries over the shards.
func (r *runner) delivered(phase int) (int64, error) {
	var n int64
	for _, sh := range r.shards {
		d, err := sh.delivered(phase)
		if err != nil {
			return n, err
		}
		n += d
	}
	return n, nil
}

// sample is the server's and the client's resource use at one moment.
type sample struct {
	server    procfs.Sample
	clientCPU time.Duration
}

func (r *runner) sample() (sample, error) {
	srv, err := procfs.Read(r.cfg.PIDs)
	if err != nil {
		return sample{}, fmt.Errorf("load: reading the server's /proc: %w", err)
	}
	s := sample{server: srv, clientCPU: procfs.SelfCPU()}
	for _, sh := range r.shards {
		if _, ok := sh.(*remoteShard); !ok {
			continue
		}
		st, err := sh.stats()
		if err != nil {
			return s, err
		}
		s.clientCPU += st.CPU
	}
	return s, nil
}

// clientLoad is the client's CPU use between two samples.
func (r *runner) clientLoad(a, b sample) ClientLoad {
	wall := b.server.At.Sub(a.server.At).Seconds()
	if wall <= 0 {
		return ClientLoad{}
	}
	cores := (b.clientCPU - a.clientCPU).Seconds() / wall
	return ClientLoad{CPUCores: round(cores, 3), Limited: cores >= clientLimit*float64(r.cpus)}
}

// setStatus installs the progress line of the current phase.
func (r *runner) setStatus(f func() string) {
	r.statusM.Lock()
	r.status = f
	r.statusM.Unlock()
}

// progress prints the status line every second until the returned function is called.
func (r *runner) progress() func() {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r.statusM.Lock()
				f := r.status
				r.statusM.Unlock()
				if f != nil {
					fmt.Fprintln(r.cfg.Progress, f())
				}
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	if v >= 0 {
		return float64(int64(v*p+0.5)) / p
	}
	return -float64(int64(-v*p+0.5)) / p
}
