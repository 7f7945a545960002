package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tomato-code/realtime/bench/internal/load"
	"github.com/tomato-code/realtime/bench/internal/stats"
)

func result(perSecond, kib float64, p99us int64, lost int64) *load.Result {
	return &load.Result{
		Connect: load.ConnectResult{Connected: 10, PerSecond: perSecond, KiBPerConn: kib},
		Phases: []load.PhaseResult{{
			Name:      "fanout",
			LatencyUS: stats.Summary{P99: p99us},
			Lost:      lost,
		}},
	}
}

func TestReportMediansAndRatios(t *testing.T) {
	o := options{servers: []string{"node", "go"}, conns: 10, rounds: 3}
	rep := buildReport(o, map[string][]*load.Result{
		"node": {result(100, 30, 90_000, 0), result(300, 20, 100_000, 0), result(200, 25, 200_000, 0)},
		"go":   {result(1000, 3, 10_000, 0), result(900, 2, 20_000, 0), result(1100, 2.5, 30_000, 0)},
	})
	get := func(name string) row {
		for _, r := range rep.rows {
			if r.m.name == name {
				return r
			}
		}
		t.Fatalf("no row %q", name)
		return row{}
	}
	// Higher is better: go/node of the medians.
	if r := get("connect: connections per second"); r.values[0] != 200 || r.values[1] != 1000 {
		t.Fatalf("medians %v", r.values)
	} else if x, ok := r.ratio(); !ok || x != 5 {
		t.Fatalf("ratio %v %v, want 5", x, ok)
	}
	// Lower is better: node/go.
	if x, ok := get("connect: server RSS per connection").ratio(); !ok || x != 10 {
		t.Fatalf("memory ratio %v, want 10", x)
	}
	if x, ok := get("fanout: end-to-end latency p99").ratio(); !ok || x != 5 {
		t.Fatalf("latency ratio %v, want 5", x)
	}
	// Zero losses on both sides: no ratio.
	if _, ok := get("fanout: lost deliveries").ratio(); ok {
		t.Fatal("a ratio of zero losses")
	}
	// Phases that did not run have no row.
	for _, r := range rep.rows {
		if strings.HasPrefix(r.m.name, "batch:") {
			t.Fatalf("row %q for a phase that did not run", r.m.name)
		}
	}
	md := rep.markdown()
	if !strings.Contains(md, "| connect: connections per second | conn/s | 200 | 1000 | 5.00 |") {
		t.Fatalf("markdown table:\n%s", md)
	}
	dir := t.TempDir()
	if err := rep.save(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"results.json", "table.md", "table.txt", "chart.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
}

func TestMedian(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Fatalf("median %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Fatalf("median %v", m)
	}
	if !math.IsNaN(median(nil)) {
		t.Fatal("median of nothing is a number")
	}
}
