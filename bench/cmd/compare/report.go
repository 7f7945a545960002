package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tomato-code/realtime/bench/internal/chart"
	"github.com/tomato-code/realtime/bench/internal/load"
)

// metric is one row of the comparison.
type metric struct {
	name   string
	unit   string
	higher bool // higher is better
	get    func(*load.Result) (float64, bool)
	info   bool // a count to check the run by, not a figure to compare
}

func phase(r *load.Result, name string) (*load.PhaseResult, bool) {
	for i := range r.Phases {
		if r.Phases[i].Name == name {
			return &r.Phases[i], true
		}
	}
	return nil, false
}

// phaseMetric reads a figure of a named phase.
func phaseMetric(ph, name, unit string, higher bool, f func(*load.PhaseResult) float64) metric {
	return metric{name: ph + ": " + name, unit: unit, higher: higher, get: func(r *load.Result) (float64, bool) {
		p, ok := phase(r, ph)
		if !ok {
			return 0, false
		}
		return f(p), true
	}}
}

func ms(us int64) float64 { return float64(us) / 1000 }

// metrics lists the rows in the order they are printed.
func metrics() []metric {
	m := []metric{
		{name: "connect: connections per second", unit: "conn/s", higher: true, get: func(r *load.Result) (float64, bool) { return r.Connect.PerSecond, r.Connect.Connected > 0 }},
		{name: "connect: handshake latency p50", unit: "ms", higher: false, get: func(r *load.Result) (float64, bool) { return ms(r.Connect.LatencyUS.P50), r.Connect.Connected > 0 }},
		{name: "connect: handshake latency p99", unit: "ms", higher: false, get: func(r *load.Result) (float64, bool) { return ms(r.Connect.LatencyUS.P99), r.Connect.Connected > 0 }},
		{name: "connect: handshakes per core-second", unit: "1/s", higher: true, get: func(r *load.Result) (float64, bool) {
			return r.Connect.HandshakesPerCoreS, r.Connect.HandshakesPerCoreS > 0
		}},
		{name: "connect: server RSS per connection", unit: "KiB", higher: false, get: func(r *load.Result) (float64, bool) { return r.Connect.KiBPerConn, r.Connect.KiBPerConn > 0 }},
		{name: "idle: server CPU", unit: "% core", higher: false, get: func(r *load.Result) (float64, bool) {
			if r.Idle == nil {
				return 0, false
			}
			return r.Idle.ServerCPUPct, true
		}},
		{name: "idle: server CPU per connection", unit: "µs/s", higher: false, get: func(r *load.Result) (float64, bool) {
			if r.Idle == nil {
				return 0, false
			}
			return r.Idle.ServerCPUUSPerConnS, true
		}},
		{name: "idle: server RSS per connection (end of the idle window)", unit: "KiB", higher: false, get: func(r *load.Result) (float64, bool) {
			if r.Idle == nil {
				return 0, false
			}
			return r.Idle.KiBPerConn, r.Idle.KiBPerConn > 0
		}},
		{name: "idle: pings answered", unit: "", higher: true, get: func(r *load.Result) (float64, bool) {
			if r.Idle == nil {
				return 0, false
			}
			return float64(r.Idle.Pings), true
		}, info: true},
	}
	for _, ph := range []string{"targeted-rate", "targeted-max", "fanout", "fanout-burst", "batch"} {
		m = append(m,
			phaseMetric(ph, "emits per second", "1/s", true, func(p *load.PhaseResult) float64 { return p.EmitsPerS }),
			phaseMetric(ph, "deliveries per second", "1/s", true, func(p *load.PhaseResult) float64 { return p.DeliveriesPerS }),
			phaseMetric(ph, "API latency p99", "ms", false, func(p *load.PhaseResult) float64 { return ms(p.APILatencyUS.P99) }),
			phaseMetric(ph, "end-to-end latency p50", "ms", false, func(p *load.PhaseResult) float64 { return ms(p.LatencyUS.P50) }),
			phaseMetric(ph, "end-to-end latency p99", "ms", false, func(p *load.PhaseResult) float64 { return ms(p.LatencyUS.P99) }),
			phaseMetric(ph, "end-to-end latency max", "ms", false, func(p *load.PhaseResult) float64 { return ms(p.LatencyUS.Max) }),
			phaseMetric(ph, "server CPU per emit", "µs", false, func(p *load.PhaseResult) float64 { return p.ServerCPUUSPerEmit }),
			phaseMetric(ph, "server CPU per delivery", "µs", false, func(p *load.PhaseResult) float64 { return p.ServerCPUUSPerDelivery }),
			phaseMetric(ph, "lost deliveries", "", false, func(p *load.PhaseResult) float64 { return float64(p.Lost) }),
		)
	}
	return m
}

// report holds the medians of every metric per server.
type report struct {
	servers []string
	results map[string][]*load.Result
	rows    []row
	notes   []string
	when    time.Time
	conns   int
	rounds  int
}

type row struct {
	m      metric
	values []float64 // per server; NaN when missing
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func buildReport(o options, results map[string][]*load.Result) *report {
	rep := &report{servers: o.servers, results: results, when: time.Now().UTC(), conns: o.conns, rounds: o.rounds}
	for _, m := range metrics() {
		r := row{m: m}
		any := false
		for _, s := range o.servers {
			var vals []float64
			for _, res := range results[s] {
				if v, ok := m.get(res); ok {
					vals = append(vals, v)
				}
			}
			med := median(vals)
			any = any || !math.IsNaN(med)
			r.values = append(r.values, med)
		}
		if any {
			rep.rows = append(rep.rows, r)
		}
	}
	for _, s := range o.servers {
		for i, res := range results[s] {
			for _, n := range res.Notes {
				rep.notes = append(rep.notes, fmt.Sprintf("%s round %d: %s", s, i+1, n))
			}
			for _, p := range res.Phases {
				if p.Client.Limited {
					rep.notes = append(rep.notes, fmt.Sprintf("%s round %d: the load client was the limit in %s (%.2f cores)", s, i+1, p.Name, p.Client.CPUCores))
				}
			}
			if res.Connect.Client.Limited {
				rep.notes = append(rep.notes, fmt.Sprintf("%s round %d: the load client was the limit while connecting", s, i+1))
			}
		}
	}
	return rep
}

// ratio is how many times better the last server is than the first on row r (>1: better).
func (r row) ratio() (float64, bool) {
	if len(r.values) < 2 || r.m.info {
		return 0, false
	}
	first, last := r.values[0], r.values[len(r.values)-1]
	if math.IsNaN(first) || math.IsNaN(last) || first <= 0 || last <= 0 {
		return 0, false
	}
	if r.m.higher {
		return last / first, true
	}
	return first / last, true
}

func format(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v == 0:
		return "0"
	case math.Abs(v) >= 1000 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

func (rep *report) header() []string {
	h := []string{"figure", "unit"}
	h = append(h, rep.servers...)
	if len(rep.servers) >= 2 {
		h = append(h, fmt.Sprintf("%s vs %s (x better)", rep.servers[len(rep.servers)-1], rep.servers[0]))
	}
	return h
}

func (rep *report) cells(r row) []string {
	c := []string{r.m.name, r.m.unit}
	for _, v := range r.values {
		c = append(c, format(v))
	}
	if len(rep.servers) >= 2 {
		if x, ok := r.ratio(); ok {
			c = append(c, fmt.Sprintf("%.2f", x))
		} else {
			c = append(c, "-")
		}
	}
	return c
}

// text is the table for the terminal.
func (rep *report) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d connections, median of %d round(s)\n\n", rep.conns, rep.rounds)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(rep.header(), "\t")+"\t")
	for _, r := range rep.rows {
		fmt.Fprintln(tw, strings.Join(rep.cells(r), "\t")+"\t")
	}
	tw.Flush()
	for _, n := range rep.notes {
		fmt.Fprintln(&b, "note:", n)
	}
	return b.String()
}

// markdown is the table for docs/performance.md.
func (rep *report) markdown() string {
	var b strings.Builder
	h := rep.header()
	fmt.Fprintf(&b, "| %s |\n|%s\n", strings.Join(h, " | "), strings.Repeat("---|", len(h)))
	for _, r := range rep.rows {
		fmt.Fprintf(&b, "| %s |\n", strings.Join(rep.cells(r), " | "))
	}
	for _, n := range rep.notes {
		fmt.Fprintf(&b, "\nNote: %s\n", n)
	}
	return b.String()
}

// save writes the raw results, the table and the chart into dir.
func (rep *report) save(dir string) error {
	raw, err := json.MarshalIndent(rep.results, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), raw, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "table.md"), []byte(rep.markdown()), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "table.txt"), []byte(rep.text()), 0o644); err != nil {
		return err
	}
	return rep.writeChart(filepath.Join(dir, "chart.png"))
}

// value returns the median of metric name for every server.
func (rep *report) value(name string) []float64 {
	for _, r := range rep.rows {
		if r.m.name == name {
			return r.values
		}
	}
	return make([]float64, len(rep.servers))
}

var seriesColors = map[string]chart.Series{
	"node": {Name: "Node.js socket.io 4.8", Color: chart.Orange},
	"go":   {Name: "Go realtime", Color: chart.Blue},
}

func (rep *report) writeChart(path string) error {
	c := chart.Chart{
		Title: fmt.Sprintf("Realtime service, %d connections, one core each", rep.conns),
	}
	for _, s := range rep.servers {
		c.Series = append(c.Series, seriesColors[s])
	}
	latency := func(ph, title string) chart.Panel {
		return chart.Panel{
			Title: title,
			Log:   true,
			Groups: []chart.Group{
				{Label: "p50", Values: rep.value(ph + ": end-to-end latency p50")},
				{Label: "p99", Values: rep.value(ph + ": end-to-end latency p99")},
				{Label: "max", Values: rep.value(ph + ": end-to-end latency max")},
			},
			Format: func(v float64) string { return format(v) },
		}
	}
	c.Panels = []chart.Panel{
		latency("targeted-rate", "Targeted emits at a fixed rate: end-to-end latency (ms, log)"),
		latency("fanout", "One emit to the room of every connection: end-to-end latency (ms, log)"),
		{
			Title: "Server memory per idle connection (KiB) and CPU per delivery (us), log",
			Log:   true,
			Groups: []chart.Group{
				{Label: "KiB/conn", Values: rep.value("connect: server RSS per connection")},
				{Label: "us/targeted", Values: rep.value("targeted-max: server CPU per delivery")},
				{Label: "us/fan-out", Values: rep.value("fanout-burst: server CPU per delivery")},
				{Label: "us/batch", Values: rep.value("batch: server CPU per delivery")},
			},
			Format: func(v float64) string { return format(v) },
		},
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := c.WritePNG(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
