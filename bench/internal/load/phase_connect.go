package load

import (
	"context"
	"fmt"
	"time"

	"github.com/tomato-code/realtime/bench/internal/token"
	"github.com/tomato-code/realtime/client"
)

// connectPhase opens every connection and waits until each has connected or failed, then lets
// the server settle and reads its memory.
func (r *runner) connectPhase(ctx context.Context) error {
	cfg := &r.cfg
	startRSS, err := r.sample()
	if err != nil {
		return err
	}
	if !cfg.NoWarmupConnect {
		r.setStatus(func() string { return "connect: warm-up connection" })
		if err := r.warmupConnect(ctx); err != nil {
			return err
		}
	}
	before, err := r.sample()
	if err != nil {
		return err
	}
	r.res.Connect.RSSStartKiB = startRSS.server.RSSKiB
	start := time.Now()
	var last shardStats
	r.setStatus(func() string {
		return fmt.Sprintf("connect: %d/%d connected, %d failed, %.1fs",
			last.Connected, cfg.Conns, last.Failed, time.Since(start).Seconds())
	})
	procs := len(r.shards)
	for k, sh := range r.shards {
		rate := cfg.ConnectRate / float64(procs)
		conc := max(cfg.ConnectConcurrency/procs, 1)
		if err := sh.connect(r.ranges[k][0], r.ranges[k][1], rate, conc); err != nil {
			return err
		}
	}
	deadline := time.NewTimer(cfg.ConnectTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		st, err := r.stats()
		if err != nil {
			return err
		}
		last = st
		if !st.Pacing && st.Connected+st.Failed+st.Dropped >= int64(cfg.Conns) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			r.note("connect phase timed out after %v with %d of %d connected", cfg.ConnectTimeout, st.Connected, cfg.Conns)
			break wait
		case <-tick.C:
		}
	}
	end, err := r.sample()
	if err != nil {
		return err
	}
	elapsed := end.server.At.Sub(start).Seconds()
	res := &r.res.Connect
	res.Requested = int64(cfg.Conns)
	res.Connected = last.Connected
	res.Failed = last.Failed + last.Dropped
	res.DurationS = round(elapsed, 3)
	if elapsed > 0 {
		res.PerSecond = round(float64(last.Connected)/elapsed, 1)
	}
	res.LatencyUS = last.ConnectLatency.Summarize()
	res.RSSBeforeKiB = before.server.RSSKiB
	cpu := end.server.CPUSince(before.server).Seconds()
	res.ServerCPUS = round(cpu, 3)
	if cpu > 0 {
		res.HandshakesPerCoreS = round(float64(last.Connected)/cpu, 1)
	}
	res.Client = r.clientLoad(before, end)

	r.setStatus(func() string { return "connect: settling before reading the server's memory" })
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(cfg.Settle):
	}
	after, err := r.sample()
	if err != nil {
		return err
	}
	st, err := r.stats()
	if err != nil {
		return err
	}
	res.RSSAfterKiB = after.server.RSSKiB
	if st.Connected > 0 && len(cfg.PIDs) > 0 {
		res.KiBPerConn = round(float64(after.server.RSSKiB-before.server.RSSKiB)/float64(st.Connected), 2)
	}
	if res.Failed > 0 {
		r.note("%d connections failed: %v", res.Failed, st.Errors)
	}
	return nil
}

// warmupUser is the user of the warm-up connection: no connection of the run has it.
const warmupUser = "load-warmup"

// warmupConnect opens one Socket.IO connection to each server, as the run's connections do
// (websocket, a token with the same claims), and closes it. The memory baseline is read
// after it, so that the per-connection figures leave out what a server pays once, on its
// first connection: code first executed (file-backed pages: about 1.3 MB of the Go
// service's binary), tables and pools built on first use. Those costs are not per
// connection, and they would weigh more the fewer connections a run holds.
func (r *runner) warmupConnect(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tok := token.NewMinter([]byte(r.cfg.Secret)).Mint(token.Claims{
		UserID:       warmupUser,
		RestaurantID: r.cfg.RestaurantID,
		Expires:      token.ExpiresIn(time.Minute),
	})
	for _, u := range r.cfg.URLs {
		s, err := client.Connect(ctx, u, map[string]string{"token": tok})
		if err != nil {
			return fmt.Errorf("load: warm-up connection to %s: %w", u, err)
		}
		if err := s.Disconnect(); err != nil {
			return fmt.Errorf("load: closing the warm-up connection to %s: %w", u, err)
		}
	}
	return nil
}

// idlePhase measures the server's CPU while the connections only exchange heartbeats.
func (r *runner) idlePhase(ctx context.Context) error {
	cfg := &r.cfg
	before, err := r.sample()
	if err != nil {
		return err
	}
	st0, err := r.stats()
	if err != nil {
		return err
	}
	start := time.Now()
	r.setStatus(func() string {
		return fmt.Sprintf("idle: %.0f/%.0fs with %d connections", time.Since(start).Seconds(), cfg.Idle.Seconds(), st0.Connected)
	})
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(cfg.Idle):
	}
	after, err := r.sample()
	if err != nil {
		return err
	}
	st1, err := r.stats()
	if err != nil {
		return err
	}
	wall := after.server.At.Sub(before.server.At).Seconds()
	cpu := after.server.CPUSince(before.server).Seconds()
	idle := &IdleResult{WindowS: round(wall, 3), Pings: st1.Pings - st0.Pings}
	if wall > 0 {
		idle.ServerCPUPct = round(100*cpu/wall, 2)
		if st1.Connected > 0 {
			idle.ServerCPUUSPerConnS = round(cpu/wall/float64(st1.Connected)*1e6, 3)
		}
	}
	if st1.Connected > 0 && len(cfg.PIDs) > 0 && r.res.Connect.RSSBeforeKiB > 0 {
		idle.KiBPerConn = round(float64(after.server.RSSKiB-r.res.Connect.RSSBeforeKiB)/float64(st1.Connected), 2)
	}
	r.res.Idle = idle
	return nil
}
