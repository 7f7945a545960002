package load

import (
	"time"

	"github.com/tomato-code/realtime/bench/internal/stats"
)

// Result is everything a run measured; cmd/load prints it as one JSON line.
type Result struct {
	Tool       string    `json:"tool"`
	Label      string    `json:"label,omitempty"`
	Started    time.Time `json:"started"`
	URLs       []string  `json:"urls"`
	EmitURL    string    `json:"emit_url"`
	ServerPIDs []int     `json:"server_pids,omitempty"`
	Conns      int       `json:"conns"`
	Procs      int       `json:"procs"`
	Sources    int       `json:"sources"`
	// ClientCPUs is the number of CPUs the load client may run on (its affinity).
	ClientCPUs int           `json:"client_cpus"`
	Connect    ConnectResult `json:"connect"`
	Idle       *IdleResult   `json:"idle,omitempty"`
	Phases     []PhaseResult `json:"phases"`
	// End is the state of the connections when the run ended.
	End EndState `json:"end"`
	// Notes are problems the run met that did not stop it.
	Notes []string `json:"notes,omitempty"`
}

// ConnectResult is the connect phase: all connections opened and held.
type ConnectResult struct {
	Requested int64         `json:"requested"`
	Connected int64         `json:"connected"`
	Failed    int64         `json:"failed"`
	DurationS float64       `json:"duration_s"`
	PerSecond float64       `json:"per_s"`
	LatencyUS stats.Summary `json:"latency_us"`
	// RSSStartKiB is the server's RSS before the warm-up connection, RSSBeforeKiB after it:
	// the baseline of the per-connection figures (equal without a warm-up).
	RSSStartKiB  int64 `json:"server_rss_start_kib"`
	RSSBeforeKiB int64 `json:"server_rss_before_kib"`
	RSSAfterKiB  int64 `json:"server_rss_after_kib"`
	// KiBPerConn is the growth of the server's RSS divided by the connections held.
	KiBPerConn float64 `json:"kib_per_conn"`
	// ServerCPUS is the server's CPU time during the phase; HandshakesPerCoreS the connections
	// per second of server CPU.
	ServerCPUS         float64    `json:"server_cpu_s"`
	HandshakesPerCoreS float64    `json:"handshakes_per_core_s"`
	Client             ClientLoad `json:"client"`
}

// IdleResult is the server's CPU while the connections are idle (heartbeats only).
type IdleResult struct {
	WindowS float64 `json:"window_s"`
	// ServerCPUPct is the server's CPU time over the window as a percentage of one core.
	ServerCPUPct float64 `json:"server_cpu_pct"`
	// ServerCPUUSPerConnS is the server's CPU time per connection per second, in microseconds.
	ServerCPUUSPerConnS float64 `json:"server_cpu_us_per_conn_s"`
	// Pings counts the pings the clients answered in the window.
	Pings int64 `json:"pings"`
	// KiBPerConn is the server's RSS at the end of the window, less its RSS before the connect
	// phase, per connection: the steady state, once the garbage of the connect storm has been
	// collected and returned (connect.kib_per_conn is read right after the storm).
	KiBPerConn float64 `json:"kib_per_conn"`
}

// PhaseResult is one emit phase.
type PhaseResult struct {
	Name string `json:"name"`
	// Requests counts API requests; Emits counts emits (a batch request carries several).
	Requests  int64 `json:"requests"`
	Emits     int64 `json:"emits"`
	APIErrors int64 `json:"api_errors"`
	// TargetRate is the intended emits per second of a fixed-rate phase; Late counts emits
	// sent more than 1 ms after their scheduled time.
	TargetRate float64 `json:"target_rate,omitempty"`
	Late       int64   `json:"late,omitempty"`
	// Expected deliveries, those Delivered, and Lost = Expected - Delivered (never negative;
	// Extra counts deliveries beyond the expected).
	Expected  int64 `json:"expected"`
	Delivered int64 `json:"delivered"`
	Lost      int64 `json:"lost"`
	Extra     int64 `json:"extra,omitempty"`
	// SendS is the time spent sending; DurationS runs from the first send to the last
	// delivery.
	SendS          float64       `json:"send_s"`
	DurationS      float64       `json:"duration_s"`
	EmitsPerS      float64       `json:"emits_per_s"`
	DeliveriesPerS float64       `json:"deliveries_per_s"`
	APILatencyUS   stats.Summary `json:"api_latency_us"`
	LatencyUS      stats.Summary `json:"latency_us"`
	ServerCPUS     float64       `json:"server_cpu_s"`
	// ServerCPUUSPerEmit and ServerCPUUSPerDelivery divide the server's CPU time in the phase.
	ServerCPUUSPerEmit     float64    `json:"server_cpu_us_per_emit"`
	ServerCPUUSPerDelivery float64    `json:"server_cpu_us_per_delivery"`
	Client                 ClientLoad `json:"client"`
}

// ClientLoad is the load client's own CPU use in a phase.
type ClientLoad struct {
	// CPUCores is the client's CPU time over the wall time (1.0 = one core busy).
	CPUCores float64 `json:"cpu_cores"`
	// Limited is set when the client used nearly all the CPU it may run on: then the client,
	// not the server, may have bounded the phase's rates.
	Limited bool `json:"limited"`
}

// EndState is the connections' state at the end of the run.
type EndState struct {
	Connected int64            `json:"connected"`
	Failed    int64            `json:"failed"`
	Dropped   int64            `json:"dropped"`
	Pings     int64            `json:"pings"`
	Unstamped int64            `json:"unstamped"`
	Errors    map[string]int64 `json:"errors,omitempty"`
}
