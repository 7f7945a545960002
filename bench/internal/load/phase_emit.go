package load

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tomato-code/realtime/bench/internal/httpsend"
	"github.com/tomato-code/realtime/bench/internal/stats"
)

// plan is one emit phase: what to send, how many, how fast.
type plan struct {
	name   string
	phase  int      // the stamp's phase number, set by Run
	req    *request // template, cloned per sender
	perReq int      // emits per request
	fanout bool     // each emit reaches every connection, not one
	// await sends each request only once every delivery of the previous one arrived, so that
	// the phase measures the latency of a lone emit, without queueing behind the previous ones.
	await    bool
	requests int
	rate     float64 // requests per second; 0: as fast as conc senders go
	conc     int
}

// plans returns the phases of a scenario.
func (r *runner) plans(name string) []plan {
	cfg := &r.cfg
	u, _ := url.Parse(cfg.EmitURL) // validated
	host := u.Host
	// Templates carry phase 0; emitPhase writes the phase into its own copy.
	user := singleEmit(host, cfg.Key, cfg.Event, "u", true, "", 0, cfg.Payload)
	switch name {
	case ScenarioTargeted:
		return []plan{
			// An open-loop fixed rate needs enough senders to absorb the server's slowest
			// answers without falling behind the schedule.
			{name: "targeted-rate", req: user, perReq: 1, requests: cfg.Emits, rate: cfg.Rate, conc: max(cfg.APIConns, 64)},
			{name: "targeted-max", req: user, perReq: 1, requests: cfg.MaxEmits, conc: cfg.APIConns},
		}
	case ScenarioFanout:
		room := "restaurant:" + cfg.RestaurantID
		req := singleEmit(host, cfg.Key, cfg.Event, "", false, room, 0, cfg.Payload)
		return []plan{
			{name: "fanout", req: req, perReq: 1, fanout: true, requests: cfg.FanoutEmits, conc: 1, await: true},
			{name: "fanout-burst", req: req, perReq: 1, fanout: true, requests: cfg.FanoutEmits, rate: cfg.FanoutRate, conc: 1},
		}
	case ScenarioBatch:
		return []plan{{name: "batch", req: batchEmit(host, cfg.Key, cfg.Event, "u", cfg.BatchSize, 0, cfg.Payload),
			perReq: cfg.BatchSize, requests: cfg.BatchRequests, conc: cfg.APIConns}}
	}
	return nil
}

// sendCounters are the sending side of a phase, shared by its senders.
type sendCounters struct {
	requests, ok, errs, late atomic.Int64
	firstErr                 sync.Once
	errText                  string
}

// emitPhase sends a plan's requests, waits for the deliveries, and measures.
func (r *runner) emitPhase(ctx context.Context, p plan) (PhaseResult, error) {
	cfg := &r.cfg
	res := PhaseResult{Name: p.name, TargetRate: p.rate}
	st0, err := r.stats()
	if err != nil {
		return res, err
	}
	up := r.upIndices(st0)
	if len(up) == 0 {
		return res, fmt.Errorf("load: phase %s: no connection is up", p.name)
	}
	p.req = p.req.clone()
	setPhase(p.req, p.phase)

	var api stats.Recorder
	var sc sendCounters
	start := time.Now()
	r.setStatus(func() string {
		n, _ := r.delivered(p.phase)
		return fmt.Sprintf("%s: %d/%d requests sent, %d errors, %d delivered, %.1fs",
			p.name, sc.requests.Load(), p.requests, sc.errs.Load(), n, time.Since(start).Seconds())
	})
	before, err := r.sample()
	if err != nil {
		return res, err
	}
	sctx, cancel := context.WithTimeout(ctx, cfg.PhaseTimeout)
	r.send(sctx, p, up, &api, &sc)
	timedOut := sctx.Err() != nil && ctx.Err() == nil
	cancel()
	sendEnd := time.Now()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if timedOut {
		r.note("phase %s: sending stopped after %v with %d of %d requests sent", p.name, cfg.PhaseTimeout, sc.requests.Load(), p.requests)
	}
	if sc.errText != "" {
		r.note("phase %s: %d API errors, first: %s", p.name, sc.errs.Load(), sc.errText)
	}

	emits := sc.ok.Load() * int64(p.perReq)
	expected := emits
	if p.fanout {
		expected = emits * int64(len(up))
	}

	// Wait for the deliveries: until all arrived, or none arrived for cfg.Drain.
	lastChange := sendEnd
	lastN := int64(-1)
	for {
		n, err := r.delivered(p.phase)
		if err != nil {
			return res, err
		}
		now := time.Now()
		if n != lastN {
			lastN, lastChange = n, now
		}
		if n >= expected || now.Sub(lastChange) > cfg.Drain || now.Sub(sendEnd) > cfg.PhaseTimeout {
			break
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	lastDelivery := lastChange
	if lastN == 0 {
		lastDelivery = sendEnd
	}
	after, err := r.sample()
	if err != nil {
		return res, err
	}
	st1, err := r.stats()
	if err != nil {
		return res, err
	}
	lat := st1.Phases[p.phase]

	res.Requests = sc.requests.Load()
	res.Emits = emits
	res.APIErrors = sc.errs.Load()
	res.Late = sc.late.Load()
	res.Expected = expected
	res.Delivered = int64(lat.N)
	res.Lost = max(expected-res.Delivered, 0)
	res.Extra = max(res.Delivered-expected, 0)
	sendS := sendEnd.Sub(start).Seconds()
	if lastDelivery.Before(sendEnd) {
		lastDelivery = sendEnd
	}
	dur := lastDelivery.Sub(start).Seconds()
	res.SendS = round(sendS, 3)
	res.DurationS = round(dur, 3)
	if sendS > 0 {
		res.EmitsPerS = round(float64(emits)/sendS, 1)
	}
	if dur > 0 {
		res.DeliveriesPerS = round(float64(res.Delivered)/dur, 1)
	}
	res.APILatencyUS = api.Snapshot().Summarize()
	res.LatencyUS = lat.Summarize()
	cpu := after.server.CPUSince(before.server).Seconds()
	res.ServerCPUS = round(cpu, 3)
	if emits > 0 {
		res.ServerCPUUSPerEmit = round(cpu*1e6/float64(emits), 2)
	}
	if res.Delivered > 0 {
		res.ServerCPUUSPerDelivery = round(cpu*1e6/float64(res.Delivered), 3)
	}
	res.Client = r.clientLoad(before, after)
	if res.Lost > 0 {
		r.note("phase %s: %d of %d deliveries missing after %v without progress", p.name, res.Lost, expected, cfg.Drain)
	}
	return res, nil
}

// setPhase writes the phase number into every stamp of req. Templates are built with phase 0,
// a single digit, so the phase must fit one digit too (Run numbers at most 9 emit phases).
func setPhase(req *request, phase int) {
	for _, off := range req.stamps {
		// The stamp reads "bp":<phase>,"bt":<time>: the phase digit sits just before
		// `,"bt":` that precedes the time slot.
		i := off - len(`,"bt":`) - 1
		req.b[i] = byte('0' + phase)
	}
}

// upIndices lists the global indices of the connections that are up.
func (r *runner) upIndices(st shardStats) []int32 {
	down := make(map[int]bool, len(st.Down))
	for _, d := range st.Down {
		down[d] = true
	}
	if len(st.Down) >= maxDownReported {
		r.note("more than %d connections down: some emits may target them and count as lost", maxDownReported)
	}
	up := make([]int32, 0, r.cfg.Conns)
	for i := range r.cfg.Conns {
		if !down[i] {
			up = append(up, int32(i))
		}
	}
	return up
}

const maxDownReported = 1000

// send runs p.conc senders until p.requests requests are sent or ctx ends. With a rate, a
// dispatcher hands out send times and the senders report those they start late.
func (r *runner) send(ctx context.Context, p plan, up []int32, api *stats.Recorder, sc *sendCounters) {
	var jobs chan time.Time
	if p.rate > 0 {
		jobs = make(chan time.Time, p.conc*4)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	seed := uint64(time.Now().UnixNano())
	for w := range p.conc {
		client := r.apiClient(w)
		req := p.req.clone()
		rng := rand.New(rand.NewPCG(seed, uint64(w)))
		pick := func() int { return int(up[rng.IntN(len(up))]) }
		var awaited int64 // deliveries the await mode waits for (one sender only)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var due time.Time
				if jobs != nil {
					at, ok := <-jobs
					if !ok {
						return
					}
					due = at
				} else if next.Add(1) > int64(p.requests) {
					return
				}
				if ctx.Err() != nil {
					return
				}
				now := time.Now()
				if !due.IsZero() && now.Sub(due) > time.Millisecond {
					sc.late.Add(1)
				}
				req.patch(now.UnixMicro(), pick)
				status, body, err := client.Do(ctx, req.b)
				api.Record(time.Since(now).Microseconds())
				sc.requests.Add(1)
				if err == nil && status/100 == 2 {
					sc.ok.Add(1)
					if p.await {
						awaited += int64(len(up))
						r.awaitDelivered(ctx, p.phase, awaited)
					}
					continue
				}
				sc.errs.Add(1)
				sc.firstErr.Do(func() {
					if err != nil {
						sc.errText = err.Error()
					} else {
						sc.errText = fmt.Sprintf("status %d: %.200s", status, body)
					}
				})
			}
		}()
	}
	if jobs != nil {
		dispatch(ctx, jobs, p.requests, p.rate)
		close(jobs)
	}
	wg.Wait()
}

// awaitDelivered waits until phase has n deliveries, or none arrived for the drain time.
func (r *runner) awaitDelivered(ctx context.Context, phase int, n int64) {
	last, lastChange := int64(-1), time.Now()
	for ctx.Err() == nil {
		got, err := r.delivered(phase)
		if err != nil || got >= n {
			return
		}
		if got != last {
			last, lastChange = got, time.Now()
		} else if time.Since(lastChange) > r.cfg.Drain {
			return
		}
		time.Sleep(200 * time.Microsecond) // a counter without a change signal
	}
}

// dispatch sends the scheduled times of n requests at rate per second into jobs.
func dispatch(ctx context.Context, jobs chan<- time.Time, n int, rate float64) {
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	for k := 0; k < n; {
		due := start.Add(time.Duration(k) * interval)
		if d := time.Until(due); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		}
		// Hand out every request due by now: timer wake-ups are coarser than short intervals.
		now := time.Now()
		for k < n {
			due := start.Add(time.Duration(k) * interval)
			if due.After(now) {
				break
			}
			select {
			case jobs <- due:
			case <-ctx.Done():
				return
			}
			k++
		}
	}
}

// apiClient returns the w-th keep-alive connection to the internal API, kept across phases.
func (r *runner) apiClient(w int) *httpsend.Client {
	r.apiM.Lock()
	defer r.apiM.Unlock()
	for len(r.api) <= w {
		u, _ := url.Parse(r.cfg.EmitURL)
		r.api = append(r.api, httpsend.NewClient(u.Host, 30*time.Second))
	}
	return r.api[w]
}
