package load

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nodepeer "github.com/tomato-code/realtime/bench/peers/node"
	"github.com/tomato-code/realtime/internal/testutil"
)

// workerEnv makes the test binary a load worker: TestMain serves the controller instead of
// running tests, which is how the multi-process path is tested without cmd/load.
const workerEnv = "REALTIME_BENCH_LOAD_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		if err := RunWorker(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A short run of every scenario against the Node.js reference service: all connections up,
// heartbeats answered, every emit delivered once, in one process and in two worker processes.
func TestSmokeAgainstNodeReference(t *testing.T) {
	testutil.CheckGoroutines(t)
	dir := testutil.NodeDir(t)
	var logs testutil.LogBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	peer, err := nodepeer.Start(ctx, nodepeer.Config{
		NodePath: filepath.Join(dir, "node_modules"),
		// A short heartbeat, so that the clients must answer pings within the run.
		// At debug level the reference logs each connection with its user.
		Env:    []string{"PING_INTERVAL=200", "PING_TIMEOUT=5000", "LOG_LEVEL=debug"},
		Output: &logs,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()

	const conns = 60
	runs := 0
	for _, procs := range []int{1, 2} {
		t.Run(fmt.Sprintf("procs=%d", procs), func(t *testing.T) {
			t.Setenv(workerEnv, "1") // inherited by worker processes only: this one is past TestMain
			res, err := Run(ctx, Config{
				URLs:          []string{peer.URL()},
				PIDs:          []int{peer.PID()},
				Secret:        peer.JWTSecret(),
				Key:           peer.InternalKey(),
				Conns:         conns,
				Procs:         procs,
				Sources:       2,
				Settle:        10 * time.Millisecond,
				Idle:          500 * time.Millisecond,
				Warmup:        50,
				Rate:          500,
				Emits:         200,
				MaxEmits:      300,
				APIConns:      4,
				FanoutEmits:   3,
				BatchSize:     10,
				BatchRequests: 10,
				Payload:       100,
				Drain:         3 * time.Second,
				WorkerCommand: func() []string { return []string{os.Args[0]} },
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Procs != procs || res.Connect.Connected != conns || res.Connect.Failed != 0 {
				t.Fatalf("procs %d, connected %d, failed %d: %v", res.Procs, res.Connect.Connected, res.Connect.Failed, res.Notes)
			}
			if res.Connect.LatencyUS.N != conns || res.Connect.PerSecond <= 0 {
				t.Fatalf("connect figures %+v", res.Connect)
			}
			// One warm-up connection came and went before the run's connections.
			runs++
			if n := logs.Count("user=" + warmupUser); n != runs {
				t.Fatalf("%d warm-up connections seen after %d runs, want one per run", n, runs)
			}
			line := logs.WaitLine(t, "user="+warmupUser, time.Second)
			id := strings.Fields(line)[1]
			logs.WaitLine(t, "disconnect "+id+" client namespace disconnect", 5*time.Second)
			// The baseline is read twice, around the warm-up connection, and the figures
			// per connection are taken from the second reading.
			c := res.Connect
			if c.RSSStartKiB <= 0 || c.RSSBeforeKiB <= 0 || c.RSSAfterKiB <= 0 ||
				c.KiBPerConn != round(float64(c.RSSAfterKiB-c.RSSBeforeKiB)/conns, 2) {
				t.Fatalf("memory figures: start %d, before %d, after %d KiB, %v KiB per connection",
					c.RSSStartKiB, c.RSSBeforeKiB, c.RSSAfterKiB, c.KiBPerConn)
			}
			if res.Idle == nil || res.Idle.Pings == 0 {
				t.Fatalf("no ping answered in the idle window: %+v", res.Idle)
			}
			want := map[string]int64{ // expected deliveries per phase
				"targeted-rate": 200,
				"targeted-max":  300,
				"fanout":        3 * conns,
				"fanout-burst":  3 * conns,
				"batch":         10 * 10,
			}
			if len(res.Phases) != len(want) {
				t.Fatalf("%d phases, want %d", len(res.Phases), len(want))
			}
			for _, p := range res.Phases {
				if p.Expected != want[p.Name] || p.Delivered != p.Expected || p.Lost != 0 || p.Extra != 0 || p.APIErrors != 0 {
					t.Errorf("%s: expected %d (want %d), delivered %d, lost %d, extra %d, API errors %d",
						p.Name, p.Expected, want[p.Name], p.Delivered, p.Lost, p.Extra, p.APIErrors)
				}
				if p.LatencyUS.N != uint64(p.Delivered) || p.LatencyUS.Max <= 0 || p.APILatencyUS.N != uint64(p.Requests) {
					t.Errorf("%s: latency histograms %+v %+v", p.Name, p.LatencyUS, p.APILatencyUS)
				}
			}
			if res.End.Connected != conns || res.End.Dropped != 0 || res.End.Unstamped != 0 {
				t.Fatalf("end state %+v, notes %v", res.End, res.Notes)
			}
		})
	}
}
