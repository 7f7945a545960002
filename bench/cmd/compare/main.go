// Command compare runs the load tool against the Node.js reference service and our Go service on
// this machine, each server pinned to one core and the load tool to another (taskset), in
// alternating rounds, and prints every figure of both side by side with the ratio. It writes
// the raw results, a Markdown table and a PNG chart to its output folder.
//
// Run it from the repository root (Linux, node and the npm packages of test/node installed):
//
//	go run ./bench/cmd/compare -n 2000 -rounds 2
//	go run ./bench/cmd/compare -n 2000 -- -scenarios fanout -fanout-emits 20
//
// Arguments after -- go to every load run (see go run ./bench/cmd/load -h).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tomato-code/realtime/bench/internal/load"
)

// options are the command line.
type options struct {
	repo      string
	out       string
	chart     string
	servers   []string
	conns     int
	rounds    int
	nodes     int
	redisURL  string
	serverCPU string
	loadCPU   string
	timeout   time.Duration
	profile   bool
	loadArgs  []string
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.StringVar(&o.repo, "repo", ".", "repository root")
	fs.StringVar(&o.out, "out", "", "output folder (default bench/results/<time>)")
	fs.StringVar(&o.chart, "chart", "", "also write the chart to this path (e.g. docs/performance.png)")
	servers := fs.String("servers", "node,go", "servers to run, in order: node, go")
	fs.IntVar(&o.conns, "n", 2000, "connections per load run")
	fs.IntVar(&o.rounds, "rounds", 1, "rounds; each runs every server once, the order alternating between rounds")
	fs.IntVar(&o.nodes, "nodes", 1, "nodes per server; more than one makes a cluster on Redis (needs -redis)")
	fs.StringVar(&o.redisURL, "redis", "", "Redis URL of a cluster run (loopback)")
	fs.StringVar(&o.serverCPU, "server-cpu", "0", "CPU list the servers are pinned to (taskset -c); empty: no pinning")
	fs.StringVar(&o.loadCPU, "load-cpu", "1", "CPU list the load tool is pinned to; empty: no pinning")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "bound on each load run")
	fs.BoolVar(&o.profile, "profile", false, "record the servers with perf during each load run and write the top symbols to <out>/<run>.perf.txt")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.loadArgs = fs.Args()
	o.servers = strings.Split(*servers, ",")
	for _, s := range o.servers {
		if s != "node" && s != "go" {
			return o, fmt.Errorf("unknown server %q (want node or go)", s)
		}
	}
	if o.rounds < 1 || o.conns < 1 || o.nodes < 1 {
		return o, errors.New("-rounds, -n and -nodes must be positive")
	}
	if o.nodes > 1 && o.redisURL == "" {
		return o, errors.New("a cluster run (-nodes > 1) needs -redis")
	}
	if runtime.GOOS != "linux" {
		return o, errors.New("the comparison needs Linux (taskset, /proc, epoll)")
	}
	return o, nil
}

func run(ctx context.Context, o options) error {
	repo, err := filepath.Abs(o.repo)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(repo, "bench", "peers", "node", "server.js")); err != nil {
		return fmt.Errorf("%s does not look like the repository root: %w", repo, err)
	}
	if slices.Contains(o.servers, "node") {
		if _, err := os.Stat(filepath.Join(repo, "test", "node", "node_modules", "socket.io")); err != nil {
			return errors.New("the Node.js reference needs the npm packages of test/node: run (cd test/node && npm ci) first")
		}
	}
	if o.out == "" {
		o.out = filepath.Join(repo, "bench", "results", time.Now().UTC().Format("20060102-150405"))
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if o.serverCPU != "" || o.loadCPU != "" {
		if _, err := exec.LookPath("taskset"); err != nil {
			return errors.New("taskset not found (util-linux); pass -server-cpu '' -load-cpu '' to run unpinned")
		}
	}
	bin := filepath.Join(o.out, "bin")
	logf("building the Go service and the load tool into %s", bin)
	loadBin, err := goBuild(ctx, repo, bin, "./bench/cmd/load", "load")
	if err != nil {
		return err
	}
	if o.profile {
		if _, err := exec.LookPath("perf"); err != nil {
			return errors.New("-profile needs perf (linux-perf)")
		}
	}
	specs := map[string]serverSpec{
		"node": nodeSpec(repo, o.profile),
	}
	for _, s := range o.servers {
		if s == "go" {
			goBin, err := goBuild(ctx, repo, bin, "./cmd/realtime", "realtime")
			if err != nil {
				return err
			}
			specs["go"] = goSpec(goBin)
		}
	}

	results := map[string][]*load.Result{}
	for round := range o.rounds {
		order := append([]string(nil), o.servers...)
		if round%2 == 1 {
			for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
				order[i], order[j] = order[j], order[i]
			}
		}
		for _, name := range order {
			logf("round %d/%d: %s", round+1, o.rounds, name)
			res, err := runOnce(ctx, o, specs[name], loadBin, fmt.Sprintf("%s-%d", name, round+1))
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", name, round+1, err)
			}
			results[name] = append(results[name], res)
		}
	}

	rep := buildReport(o, results)
	fmt.Print(rep.text())
	if err := rep.save(o.out); err != nil {
		return err
	}
	if o.chart != "" {
		if err := rep.writeChart(o.chart); err != nil {
			return err
		}
	}
	logf("results, table and chart in %s", o.out)
	return nil
}

// runOnce starts a server's nodes, runs the load tool against them and stops them.
func runOnce(ctx context.Context, o options, spec serverSpec, loadBin, label string) (*load.Result, error) {
	secret := randomHex(24)
	key := randomHex(16)
	redisKey := "bench-" + randomHex(4)
	var nodes []*serverProcess
	defer func() {
		for _, n := range nodes {
			n.stop()
		}
	}()
	var urls, pids []string
	for i := range o.nodes {
		env := []string{"JWT_SECRET=" + secret, "INTERNAL_SERVICE_KEY=" + key}
		if o.nodes > 1 {
			env = append(env, "REDIS_URL="+o.redisURL, "REDIS_KEY="+redisKey)
		}
		logPath := filepath.Join(o.out, fmt.Sprintf("%s-node%d.log", label, i+1))
		p, err := startServer(ctx, spec, o.serverCPU, env, logPath)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, p)
		urls = append(urls, p.url)
		pids = append(pids, fmt.Sprint(p.cmd.Process.Pid))
	}
	// A cluster run emits through the first node and connects the clients to the others, so
	// that every delivery crosses Redis.
	emitURL := urls[0]
	if len(urls) > 1 {
		urls = urls[1:]
	}
	args := []string{
		"-url", strings.Join(urls, ","),
		"-emit-url", emitURL,
		"-pid", strings.Join(pids, ","),
		"-secret", secret,
		"-key", key,
		"-n", fmt.Sprint(o.conns),
		"-label", spec.name,
	}
	args = append(args, o.loadArgs...)
	rctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if o.profile {
		stopProfile, err := startProfile(pids, o.serverCPU, filepath.Join(o.out, label))
		if err != nil {
			return nil, err
		}
		defer stopProfile()
	}
	return runLoad(rctx, o.loadCPU, loadBin, args, label)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "compare: "+format+"\n", args...)
}
