// Package load runs the load tool's scenarios against a server with the service contract of
// DESIGN.md: it opens connections (in this process or in worker processes), drives the internal
// API, measures the server from /proc and itself with getrusage, and returns one Result.
package load

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// Scenario names, in the order Run performs them. The connect phase always runs first: every
// other scenario needs the connections.
const (
	ScenarioTargeted = "targeted" // emits to user:{id} rooms at a fixed rate, then at the maximum rate
	ScenarioFanout   = "fanout"   // emits to the restaurant room every connection is in
	ScenarioBatch    = "batch"    // emit/batch requests to user:{id} rooms
)

// Config is a load run. Zero values mean the defaults in the field comments.
type Config struct {
	// URLs are the base URLs of the servers (http://127.0.0.1:3000). Connection i goes to
	// URLs[i%len(URLs)]; several URLs make a cluster run. Required; loopback addresses only.
	URLs []string
	// EmitURL is the server whose internal API receives the emits. Defaults to URLs[0].
	EmitURL string
	// PIDs are the server processes whose memory and CPU time are measured (summed).
	// Optional: without them the server figures are zero.
	PIDs []int
	// Secret is the HS256 secret of the client tokens; Key the internal API key. Required.
	Secret, Key string
	// Conns is the number of connections. Defaults to 1,000.
	Conns int
	// Procs is the number of worker processes that hold the connections. 0 chooses: one
	// process (this one) when the connections fit its open-file limit, more otherwise.
	Procs int
	// Sources is the number of loopback source addresses (127.0.0.2, 127.0.0.3, ...).
	// 0 chooses one per 20,000 connections.
	Sources int
	// ConnectRate caps new connections per second; 0 means no cap.
	ConnectRate float64
	// ConnectConcurrency caps handshakes in flight. Defaults to 256.
	ConnectConcurrency int
	// ConnectTimeout bounds the connect phase. Defaults to 2 minutes.
	ConnectTimeout time.Duration
	// Settle is the pause after the last connection before the server's memory is read.
	// Defaults to 2 s.
	Settle time.Duration
	// Idle is the window in which the server's CPU is measured with idle connections (only
	// heartbeats). Defaults to 30 s, a little more than Socket.IO's 25 s ping interval, so that
	// every connection is pinged in it; negative skips it.
	Idle time.Duration
	// Scenarios to run after connect, by name. Defaults to targeted, fanout and batch.
	Scenarios []string
	// NoWarmupConnect skips the warm-up connection of the connect phase (see
	// runner.warmupConnect): the memory baseline is then read before any connection.
	NoWarmupConnect bool
	// Warmup is the number of untimed targeted emits sent before the first phase. Defaults to
	// 1,000; negative skips the warm-up.
	Warmup int
	// Rate is the fixed rate of the first targeted phase, emits per second. Defaults to 1,000.
	Rate float64
	// Emits is the number of emits of the fixed-rate targeted phase. Defaults to 5,000.
	Emits int
	// MaxEmits is the number of emits of the maximum-rate targeted phase. Defaults to 20,000.
	MaxEmits int
	// APIConns is the number of keep-alive connections to the internal API (the concurrency of
	// the maximum-rate phases). Defaults to 8.
	APIConns int
	// FanoutEmits is the number of emits to the room of all connections in each of the two
	// fan-out phases: "fanout" sends each once every connection got the previous one (the
	// latency of a lone fan-out), "fanout-burst" sends them back to back (throughput).
	// Defaults to 10.
	FanoutEmits int
	// FanoutRate paces the burst's emits per second; 0 sends each as soon as the API answered
	// the previous one.
	FanoutRate float64
	// BatchSize is the number of emits per batch request; BatchRequests the number of
	// requests. Default 100 and 100.
	BatchSize, BatchRequests int
	// Payload is the number of padding bytes added to each event's payload. Default 0, at most
	// 65,536.
	Payload int
	// PhaseTimeout bounds the sending part of each phase. Defaults to 60 s.
	PhaseTimeout time.Duration
	// Drain is how long a phase waits for missing deliveries after its last emit before
	// counting them lost. Defaults to 5 s.
	Drain time.Duration
	// RestaurantID is the restaurantId claim of every token (the fan-out room). Defaults to "r1".
	RestaurantID string
	// Event is the event name of the emits. Defaults to "bench".
	Event string
	// ImmediateACKs keeps the kernel's immediate ACKs on the client connections instead of
	// switching them to delayed ACKs (see loop.Config).
	ImmediateACKs bool
	// Label is copied into the result (the runner sets the server's name).
	Label string
	// Progress receives a status line every second. nil means none.
	Progress io.Writer
	// WorkerCommand returns the command line of a worker process (it must run RunWorker on its
	// standard input and output). Required when more than one process is used; cmd/load
	// re-executes itself.
	WorkerCommand func() []string
}

// maxConns bounds a run: a typo must not open a million sockets.
const maxConns = 500_000

func (c *Config) setDefaults() {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	defDur := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.Conns, 1000)
	def(&c.ConnectConcurrency, 256)
	def(&c.Warmup, 1000)
	def(&c.Emits, 5000)
	def(&c.MaxEmits, 20000)
	def(&c.APIConns, 8)
	def(&c.FanoutEmits, 10)
	def(&c.BatchSize, 100)
	def(&c.BatchRequests, 100)
	defDur(&c.ConnectTimeout, 2*time.Minute)
	defDur(&c.Settle, 2*time.Second)
	defDur(&c.Idle, 30*time.Second)
	defDur(&c.PhaseTimeout, time.Minute)
	defDur(&c.Drain, 5*time.Second)
	if c.Rate == 0 {
		c.Rate = 1000
	}
	if c.RestaurantID == "" {
		c.RestaurantID = "r1"
	}
	if c.Event == "" {
		c.Event = "bench"
	}
	if c.Scenarios == nil {
		c.Scenarios = []string{ScenarioTargeted, ScenarioFanout, ScenarioBatch}
	}
	if c.EmitURL == "" && len(c.URLs) > 0 {
		c.EmitURL = c.URLs[0]
	}
	if c.Sources == 0 {
		c.Sources = (c.Conns + 19_999) / 20_000
	}
}

func (c *Config) validate() error {
	if len(c.URLs) == 0 {
		return errors.New("load: no server URL")
	}
	if c.Secret == "" || c.Key == "" {
		return errors.New("load: the JWT secret and the internal API key are required")
	}
	if c.Conns < 1 || c.Conns > maxConns {
		return fmt.Errorf("load: %d connections: want 1 to %d", c.Conns, maxConns)
	}
	if c.Sources < 1 || c.Sources > 250 {
		return fmt.Errorf("load: %d source addresses: want 1 to 250", c.Sources)
	}
	if c.Payload < 0 || c.Payload > 1<<16 {
		return fmt.Errorf("load: payload padding %d: want 0 to 65536 bytes", c.Payload)
	}
	if c.BatchSize > 1000 {
		return fmt.Errorf("load: batch size %d: the service contract allows 1,000", c.BatchSize)
	}
	for _, s := range c.Scenarios {
		if !slices.Contains([]string{ScenarioTargeted, ScenarioFanout, ScenarioBatch}, s) {
			return fmt.Errorf("load: unknown scenario %q", s)
		}
	}
	for _, u := range append(slices.Clone(c.URLs), c.EmitURL) {
		if _, err := loopbackAddr(u); err != nil {
			return err
		}
	}
	return nil
}

// loopbackAddr returns the IPv4 address and port of a base URL, refusing anything that is not
// on the loopback network: the load tool only ever loads this machine.
func loopbackAddr(raw string) (netip.AddrPort, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return netip.AddrPort{}, fmt.Errorf("load: %q: want http://127.x.y.z:port", raw)
	}
	host, portStr, err := net.SplitHostPort(u.Host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("load: %q: want http://127.x.y.z:port", raw)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	addr, err := netip.ParseAddr(host)
	port, perr := strconv.ParseUint(portStr, 10, 16)
	if err != nil || perr != nil || !addr.Is4() || !addr.IsLoopback() {
		return netip.AddrPort{}, fmt.Errorf("load: %q: only IPv4 loopback servers can be loaded", raw)
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// sourceAddrs returns n loopback source addresses starting at 127.0.0.2.
func sourceAddrs(n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + i)})
	}
	return out
}
