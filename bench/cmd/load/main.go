// Command load measures a Socket.IO server that has the Realtime Service contract (DESIGN.md):
// it opens N WebSocket connections with minted JWTs, holds them, drives the internal emit API
// and reports, as one JSON line on standard output, connect rate and latency, the server's memory
// per connection and idle CPU, and for each emit phase the deliveries, losses, API and
// end-to-end latency percentiles and the server's CPU time per emit and per delivery.
//
// Progress goes to standard error once a second. Linux only (epoll, /proc).
//
//	go run ./bench/cmd/load -url http://127.0.0.1:3000 -pid 1234 -secret S -key K -n 2000
//
// With more connections than one process may open, it re-executes itself as worker processes
// (-procs) that hold the connections while this process drives the API and aggregates.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/tomato-code/realtime/bench/internal/load"
)

// workerFlag makes the process a worker of another load process (see load.RunWorker).
const workerFlag = "-internal-worker"

func main() {
	if len(os.Args) == 2 && os.Args[1] == workerFlag {
		if err := load.RunWorker(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "load worker:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := load.Run(ctx, cfg)
	if res != nil {
		line, _ := json.Marshal(res)
		fmt.Println(string(line))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// cpuProfile is the -cpuprofile file.
var cpuProfile string

func parseFlags(args []string) (load.Config, error) {
	var cfg load.Config
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	urls := fs.String("url", "http://127.0.0.1:3000", "server base URL; several, comma-separated, make a cluster run (connections spread over them)")
	fs.StringVar(&cfg.EmitURL, "emit-url", "", "server whose internal API receives the emits (default: the first -url)")
	pids := fs.String("pid", "", "server process id(s), comma-separated, whose memory and CPU are measured")
	fs.StringVar(&cfg.Secret, "secret", os.Getenv("JWT_SECRET"), "HS256 secret of the client tokens (default $JWT_SECRET)")
	fs.StringVar(&cfg.Key, "key", os.Getenv("INTERNAL_SERVICE_KEY"), "internal API key (default $INTERNAL_SERVICE_KEY)")
	fs.IntVar(&cfg.Conns, "n", 1000, "connections")
	fs.IntVar(&cfg.Procs, "procs", 0, "worker processes holding the connections (0: as many as the open-file limit needs)")
	fs.IntVar(&cfg.Sources, "sources", 0, "loopback source addresses 127.0.0.2... (0: one per 20,000 connections)")
	fs.Float64Var(&cfg.ConnectRate, "connect-rate", 0, "new connections per second (0: no cap)")
	fs.IntVar(&cfg.ConnectConcurrency, "connect-concurrency", 256, "handshakes in flight")
	fs.DurationVar(&cfg.ConnectTimeout, "connect-timeout", 0, "bound on the connect phase (default 2m)")
	warmConn := fs.Bool("warmup-connect", true, "open and close one connection per server before reading the memory baseline (one-time costs out of the per-connection figures)")
	fs.DurationVar(&cfg.Settle, "settle", 0, "pause before reading the server's memory (default 2s)")
	fs.DurationVar(&cfg.Idle, "idle", 0, "window of the idle CPU measurement (default 30s: every connection is pinged once at the default 25s ping interval; negative skips)")
	scenarios := fs.String("scenarios", "targeted,fanout,batch", "emit scenarios after connect, comma-separated (empty: connect only)")
	fs.IntVar(&cfg.Warmup, "warmup", 1000, "untimed targeted emits before the first phase (negative: none)")
	fs.Float64Var(&cfg.Rate, "rate", 1000, "emits per second of the fixed-rate targeted phase")
	fs.IntVar(&cfg.Emits, "emits", 5000, "emits of the fixed-rate targeted phase")
	fs.IntVar(&cfg.MaxEmits, "max-emits", 20000, "emits of the maximum-rate targeted phase")
	fs.IntVar(&cfg.APIConns, "api-conns", 8, "keep-alive connections to the internal API (concurrency of the maximum-rate phases)")
	fs.IntVar(&cfg.FanoutEmits, "fanout-emits", 10, "emits to the room of all connections, in each fan-out phase (fanout: one at a time, each once the previous one reached everyone; fanout-burst: back to back)")
	fs.Float64Var(&cfg.FanoutRate, "fanout-rate", 0, "emits per second of fanout-burst (0: each as soon as the API answered the previous one)")
	fs.IntVar(&cfg.BatchSize, "batch-size", 100, "emits per batch request")
	fs.IntVar(&cfg.BatchRequests, "batch-requests", 100, "batch requests")
	fs.IntVar(&cfg.Payload, "payload", 0, "padding bytes added to each event's payload")
	fs.DurationVar(&cfg.PhaseTimeout, "phase-timeout", 0, "bound on the sending part of each phase (default 1m)")
	fs.DurationVar(&cfg.Drain, "drain", 0, "wait for missing deliveries without progress before counting them lost (default 5s)")
	fs.StringVar(&cfg.RestaurantID, "restaurant", "r1", "restaurantId claim of every token (the fan-out room)")
	fs.StringVar(&cfg.Event, "event", "bench", "event name of the emits")
	fs.StringVar(&cfg.Label, "label", "", "label copied into the result")
	fs.BoolVar(&cfg.ImmediateACKs, "immediate-acks", false, "keep the kernel's immediate ACKs on the client connections (default: delayed ACKs once connected, cheaper per delivery)")
	quiet := fs.Bool("quiet", false, "no progress on standard error")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write this process's CPU profile to `file`")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.URLs = splitList(*urls)
	cfg.NoWarmupConnect = !*warmConn
	for _, p := range splitList(*pids) {
		pid, err := strconv.Atoi(p)
		if err != nil || pid <= 0 {
			return cfg, fmt.Errorf("bad -pid %q", p)
		}
		cfg.PIDs = append(cfg.PIDs, pid)
	}
	cfg.Scenarios = splitList(*scenarios)
	if cfg.Scenarios == nil {
		cfg.Scenarios = []string{}
	}
	if !*quiet {
		cfg.Progress = os.Stderr
	}
	cfg.WorkerCommand = func() []string {
		exe, err := os.Executable()
		if err != nil {
			exe = os.Args[0]
		}
		return []string{exe, workerFlag}
	}
	return cfg, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
