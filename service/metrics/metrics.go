// Package metrics holds the Prometheus metrics of the Realtime Service, registered on a
// private registry and served by Handler in the text exposition format.
//
// Names and labels (see README.md, "Health, readiness, metrics", for the operator's view):
//
//	realtime_connections{namespace}                  gauge: sockets connected on this node
//	realtime_connects_total{namespace}               counter: accepted Socket.IO connections
//	realtime_connect_errors_total{namespace,reason}  counter: refused ones (no_token, invalid_token)
//	realtime_disconnects_total{namespace,reason}     counter: by Socket.IO disconnect reason
//	realtime_events_received_total{namespace}        counter: events received from clients
//	realtime_events_sent_total{namespace}            counter: events emitted (one per emit, not per recipient)
//	realtime_broadcast_recipients                    histogram: sockets of this node one broadcast reached
//	realtime_api_requests_total{route,code}          counter: internal API requests
//	realtime_api_request_duration_seconds{route}     histogram: their duration
//	realtime_api_emits_total{route}                  counter: emits performed through the API (a batch counts each entry)
//	realtime_adapter_published_total                 counter: messages this node published to the cluster
//	realtime_adapter_received_total                  counter: cluster messages this node received
//	realtime_adapter_publish_dropped_total           counter: messages not published (queue full while Redis was away)
//	realtime_adapter_ready                           gauge: 1 while the cluster adapter reaches the cluster
//	realtime_write_queue_drops_total{kind}           counter: volatile packets skipped, sessions closed on a full queue
//	realtime_draining                                gauge: 1 while a SIGTERM drain runs
//
// plus the Go runtime and process collectors (go_*, process_*).
package metrics

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of service metrics. Its methods are safe for concurrent use; a nil
// *Metrics records nothing, so that code paths can call it unconditionally.
type Metrics struct {
	registry *prometheus.Registry

	connections   *prometheus.GaugeVec
	connects      *prometheus.CounterVec
	connectErrors *prometheus.CounterVec
	disconnects   *prometheus.CounterVec
	eventsIn      *prometheus.CounterVec
	eventsOut     *prometheus.CounterVec
	fanout        prometheus.Histogram
	apiRequests   *prometheus.CounterVec
	apiDuration   *prometheus.HistogramVec
	apiEmits      *prometheus.CounterVec
	adapter       atomic.Pointer[func() AdapterStats]
	apiLane       atomic.Pointer[func() APILaneStats]
	drops         *prometheus.CounterVec
	draining      prometheus.Gauge

	// Children of the vectors the emit path updates, cached (see children).
	eventsInBy    *children[string, prometheus.Counter]
	eventsOutBy   *children[string, prometheus.Counter]
	apiRoutes     *children[string, *apiRoute]
	dropsVolatile prometheus.Counter
}

// apiRoute holds the children of the API metrics for one route.
type apiRoute struct {
	duration prometheus.Observer
	emits    prometheus.Counter
	codes    *children[int, prometheus.Counter]
}

// Reasons of realtime_connect_errors_total.
const (
	RefusedNoToken      = "no_token"
	RefusedInvalidToken = "invalid_token"
	RefusedOther        = "other"
)

// Kinds of realtime_write_queue_drops_total.
const (
	DropVolatile      = "volatile"         // a volatile packet skipped because the socket was busy
	DropSessionClosed = "write_queue_full" // a session closed because its write queue overflowed
)

// knownDisconnectReasons keeps the reason label bounded whatever a library reports.
var knownDisconnectReasons = map[string]bool{
	"transport close":             true,
	"transport error":             true,
	"ping timeout":                true,
	"parse error":                 true,
	"forced close":                true,
	"server shutting down":        true,
	"write queue full":            true,
	"forced server close":         true,
	"server namespace disconnect": true,
	"client namespace disconnect": true,
}

// New creates the metrics and registers them, with the Go and process collectors.
func New() *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry()}
	ns := []string{"namespace"}
	m.connections = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "realtime_connections", Help: "Socket.IO sockets connected on this node.",
	}, ns)
	m.connects = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realtime_connects_total", Help: "Socket.IO connections accepted.",
	}, ns)
	m.connectErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realtime_connect_errors_total", Help: "Socket.IO connections refused, by reason.",
	}, []string{"namespace", "reason"})
	m.disconnects = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realtime_disconnects_total", Help: "Socket.IO disconnections, by reason.",
	}, []string{"namespace", "reason"})
	m.eventsIn = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realtime_events_received_total", Help: "Events received from clients.",
	}, ns)
	m.eventsOut = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realtime_events_sent_total", Help: "Events emitted to clients, counted once per emit.",
	}, ns)
	m.fanout = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "realtime_broadcast_recipients",
		Help:    "Sockets of this node reached by one emit.",
		Buckets: []float64{0, 1, 2, 5, 10, 100, 1000, 10000, 100000},
	})
	m.apiRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realtime_api_requests_total", Help: "Internal API requests, by route and status code.",
	}, []string{"route", "code"})
	m.apiDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "realtime_api_request_duration_seconds",
		Help:    "Internal API request duration, by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10, 60},
	}, []string{"route"})
	m.apiEmits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realtime_api_emits_total", Help: "Emits performed through the internal API, by route (a batch counts each entry).",
	}, []string{"route"})
	m.drops = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realtime_write_queue_drops_total", Help: "Packets dropped on the write path: volatile packets skipped, sessions closed on a full write queue.",
	}, []string{"kind"})
	m.draining = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "realtime_draining", Help: "1 while the node drains after SIGTERM.",
	})
	m.registry.MustRegister(
		m.connections, m.connects, m.connectErrors, m.disconnects, m.eventsIn, m.eventsOut, m.fanout,
		m.apiRequests, m.apiDuration, m.apiEmits, newAdapterCollector(m), newAPILaneCollector(m), m.drops, m.draining,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	// Series that exist from the start read 0 instead of being absent until the first event.
	m.connections.WithLabelValues("/")
	m.dropsVolatile = m.drops.WithLabelValues(DropVolatile)
	m.drops.WithLabelValues(DropSessionClosed)
	m.eventsInBy = newChildren(func(ns string) prometheus.Counter { return m.eventsIn.WithLabelValues(ns) })
	m.eventsOutBy = newChildren(func(ns string) prometheus.Counter { return m.eventsOut.WithLabelValues(ns) })
	m.apiRoutes = newChildren(func(route string) *apiRoute {
		return &apiRoute{
			duration: m.apiDuration.WithLabelValues(route),
			emits:    m.apiEmits.WithLabelValues(route),
			codes: newChildren(func(code int) prometheus.Counter {
				return m.apiRequests.WithLabelValues(route, strconv.Itoa(code))
			}),
		}
	})
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Registry returns the registry, for tests and for callers adding their own collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Connected records an accepted socket.
func (m *Metrics) Connected(namespace string) {
	if m == nil {
		return
	}
	m.connects.WithLabelValues(namespace).Inc()
	m.connections.WithLabelValues(namespace).Inc()
}

// Disconnected records the end of an accepted socket.
func (m *Metrics) Disconnected(namespace, reason string) {
	if m == nil {
		return
	}
	if !knownDisconnectReasons[reason] {
		reason = "other"
	}
	m.disconnects.WithLabelValues(namespace, reason).Inc()
	m.connections.WithLabelValues(namespace).Dec()
}

// ConnectRefused records a refused connection; reason is one of the Refused* constants.
func (m *Metrics) ConnectRefused(namespace, reason string) {
	if m == nil {
		return
	}
	m.connectErrors.WithLabelValues(namespace, reason).Inc()
}

// EventReceived records an event from a client.
func (m *Metrics) EventReceived(namespace string) {
	if m == nil {
		return
	}
	m.eventsInBy.get(namespace).Inc() // once per event a client sends: no vector lookup
}

// EventSent records one emit; recipients is the number of sockets it reached on this node, or
// a negative number when unknown.
func (m *Metrics) EventSent(namespace string, recipients int) {
	if m == nil {
		return
	}
	m.eventsOutBy.get(namespace).Inc()
	if recipients >= 0 {
		m.fanout.Observe(float64(recipients))
	}
}

// APIRequest records one internal API request.
func (m *Metrics) APIRequest(route string, status int, elapsed time.Duration) {
	if m == nil {
		return
	}
	r := m.apiRoutes.get(route)
	r.codes.get(status).Inc()
	r.duration.Observe(elapsed.Seconds())
}

// APIEmits records n emits performed through route.
func (m *Metrics) APIEmits(route string, n int) {
	if m == nil {
		return
	}
	m.apiRoutes.get(route).emits.Add(float64(n))
}

// AdapterStats are the cluster adapter's counters since start.
type AdapterStats struct {
	Published, Received, PublishDropped uint64
	// PublishFailed messages were handed to Redis but failed; Malformed received messages were
	// dropped as undecodable; ReceiveDropped were dropped because the node could not handle
	// them fast enough; Reconnects counts reconnections of the subscriber connection.
	PublishFailed, Malformed, ReceiveDropped, Reconnects uint64
	// Skipped broadcasts from the cluster reached no socket of this node and were dropped
	// undecoded.
	Skipped uint64
	// JoinWaitTimeouts counts the sockets that connected before Redis confirmed the
	// subscriptions of their rooms (REDIS_SUBSCRIPTION=rooms).
	JoinWaitTimeouts uint64
	// QueuedBytes wait in the publish queue now (Redis slow or away).
	QueuedBytes uint64
	Ready       bool
}

// ObserveAdapter makes the adapter metrics read fn at each scrape. Without it they read 0 and
// the adapter counts as ready (one node in memory).
func (m *Metrics) ObserveAdapter(fn func() AdapterStats) {
	if m == nil {
		return
	}
	m.adapter.Store(&fn)
}

// statsCollector reports series read from one snapshot of a component's figures per scrape
// (one AdapterStats, one APILaneStats), rather than one reading per series.
type statsCollector[T any] struct {
	read   func() T
	series []statsSeries[T]
}

type statsSeries[T any] struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(T) uint64
}

func (c *statsCollector[T]) add(name, help string, kind prometheus.ValueType, value func(T) uint64) {
	c.series = append(c.series, statsSeries[T]{prometheus.NewDesc(name, help, nil, nil), kind, value})
}

// Describe implements prometheus.Collector.
func (c *statsCollector[T]) Describe(ch chan<- *prometheus.Desc) {
	for _, s := range c.series {
		ch <- s.desc
	}
}

// Collect implements prometheus.Collector.
func (c *statsCollector[T]) Collect(ch chan<- prometheus.Metric) {
	st := c.read()
	for _, s := range c.series {
		ch <- prometheus.MustNewConstMetric(s.desc, s.kind, float64(s.value(st)))
	}
}

func newAdapterCollector(m *Metrics) *statsCollector[AdapterStats] {
	c := &statsCollector[AdapterStats]{read: m.adapterStats}
	add := c.add
	counter, gauge := prometheus.CounterValue, prometheus.GaugeValue
	add("realtime_adapter_published_total", "Messages this node published to the cluster.", counter,
		func(s AdapterStats) uint64 { return s.Published })
	add("realtime_adapter_received_total", "Messages this node received from the cluster.", counter,
		func(s AdapterStats) uint64 { return s.Received })
	add("realtime_adapter_publish_dropped_total", "Messages not published because the publish queue was full.", counter,
		func(s AdapterStats) uint64 { return s.PublishDropped })
	add("realtime_adapter_publish_failed_total", "Messages handed to Redis whose publish failed (connection lost while sending).", counter,
		func(s AdapterStats) uint64 { return s.PublishFailed })
	add("realtime_adapter_malformed_total", "Messages received from the cluster that could not be decoded, dropped.", counter,
		func(s AdapterStats) uint64 { return s.Malformed })
	add("realtime_adapter_receive_dropped_total", "Messages received from the cluster and dropped because the node's handling queue was full.", counter,
		func(s AdapterStats) uint64 { return s.ReceiveDropped })
	add("realtime_adapter_skipped_total", "Broadcasts from the cluster for no socket of this node, dropped without decoding.", counter,
		func(s AdapterStats) uint64 { return s.Skipped })
	add("realtime_adapter_join_wait_timeouts_total", "Sockets connected before Redis confirmed the subscriptions of their rooms (REDIS_SUBSCRIPTION=rooms).", counter,
		func(s AdapterStats) uint64 { return s.JoinWaitTimeouts })
	add("realtime_adapter_reconnects_total", "Reconnections of the adapter's subscriber connection.", counter,
		func(s AdapterStats) uint64 { return s.Reconnects })
	add("realtime_adapter_publish_queue_bytes", "Bytes waiting in the adapter's publish queue.", gauge,
		func(s AdapterStats) uint64 { return s.QueuedBytes })
	add("realtime_adapter_ready", "1 while the adapter reaches the cluster (always 1 in memory).", gauge,
		func(s AdapterStats) uint64 {
			if s.Ready {
				return 1
			}
			return 0
		})
	return c
}

// APILaneStats are the figures of the lane that serves the internal API's keep-alive
// connections (service/lane) since start.
type APILaneStats struct {
	// Takeovers counts connections taken from net/http; Requests, the calls the lane read
	// itself; Handbacks, connections given back to net/http (a request outside the lane's
	// HTTP subset); Open, the connections it holds now.
	Takeovers, Requests, Handbacks, Open uint64
}

// ObserveAPILane makes the lane metrics read fn at each scrape. Without it they read 0 (a
// service not started by its Run has no lane).
func (m *Metrics) ObserveAPILane(fn func() APILaneStats) {
	if m == nil {
		return
	}
	m.apiLane.Store(&fn)
}

func newAPILaneCollector(m *Metrics) *statsCollector[APILaneStats] {
	c := &statsCollector[APILaneStats]{read: func() APILaneStats {
		if fn := m.apiLane.Load(); fn != nil {
			return (*fn)()
		}
		return APILaneStats{}
	}}
	counter := prometheus.CounterValue
	c.add("realtime_api_lane_takeovers_total", "Internal API keep-alive connections taken over from net/http by the lane.", counter,
		func(s APILaneStats) uint64 { return s.Takeovers })
	c.add("realtime_api_lane_requests_total", "Internal API calls the lane read itself (the calls after the first of a taken-over connection).", counter,
		func(s APILaneStats) uint64 { return s.Requests })
	c.add("realtime_api_lane_handbacks_total", "Connections the lane gave back to net/http, at a request outside the HTTP it reads itself.", counter,
		func(s APILaneStats) uint64 { return s.Handbacks })
	c.add("realtime_api_lane_connections", "Internal API connections the lane holds now.", prometheus.GaugeValue,
		func(s APILaneStats) uint64 { return s.Open })
	return c
}

func (m *Metrics) adapterStats() AdapterStats {
	if fn := m.adapter.Load(); fn != nil {
		return (*fn)()
	}
	return AdapterStats{Ready: true}
}

// Delivered records one broadcast delivered on this node (emitted here or by another node):
// the sockets whose write queue took it, and those a volatile packet was skipped for.
func (m *Metrics) Delivered(recipients, volatileSkipped int) {
	if m == nil {
		return
	}
	m.fanout.Observe(float64(recipients))
	if volatileSkipped > 0 {
		m.dropsVolatile.Add(float64(volatileSkipped))
	}
}

// WriteQueueDrop records a drop of kind DropVolatile or DropSessionClosed.
func (m *Metrics) WriteQueueDrop(kind string) {
	if m == nil {
		return
	}
	m.drops.WithLabelValues(kind).Inc()
}

// SetDraining sets realtime_draining.
func (m *Metrics) SetDraining(on bool) {
	if m == nil {
		return
	}
	if on {
		m.draining.Set(1)
	} else {
		m.draining.Set(0)
	}
}
