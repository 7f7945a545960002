package service

import (
	"encoding/json"
	"math"
	"net/http"
	"sync/atomic"
	"time"
)

// AdapterState is what /health and /ready learn from the cluster adapter.
type AdapterState interface {
	// Name is "memory" for one node, "redis" with the Redis adapter.
	Name() string
	// Ready returns nil while the adapter can reach the cluster.
	Ready() error
}

// memoryAdapter is the state of the in-memory adapter: always ready.
type memoryAdapter struct{}

func (memoryAdapter) Name() string { return "memory" }
func (memoryAdapter) Ready() error { return nil }

// probes serves /health and /ready.
type probes struct {
	started     time.Time
	draining    *atomic.Bool
	connections func() int // sockets on "/" on this node
	adapter     AdapterState
}

type adapterBody struct {
	Name  string `json:"name"`
	Ready bool   `json:"ready"`
	Error string `json:"error,omitempty"`
}

// health answers liveness: 200 while the process serves, with the node's numbers.
func (p *probes) health(w http.ResponseWriter, r *http.Request) {
	if !getOnly(w, r) {
		return
	}
	a := adapterBody{Name: p.adapter.Name(), Ready: true}
	if err := p.adapter.Ready(); err != nil {
		a.Ready, a.Error = false, err.Error()
	}
	uptime := math.Round(time.Since(p.started).Seconds()*1000) / 1000
	writeProbe(w, http.StatusOK, struct {
		Status            string      `json:"status"`
		ActiveConnections int         `json:"activeConnections"`
		Uptime            float64     `json:"uptime"`
		Adapter           adapterBody `json:"adapter"`
		Draining          bool        `json:"draining,omitempty"`
	}{"healthy", p.connections(), uptime, a, p.draining.Load()})
}

// ready answers load balancers: 503 while draining or while the adapter cannot reach the
// cluster, so that no new client is sent here then.
func (p *probes) ready(w http.ResponseWriter, r *http.Request) {
	if !getOnly(w, r) {
		return
	}
	type body struct {
		Status string `json:"status"`
		Reason string `json:"reason,omitempty"`
	}
	if p.draining.Load() {
		writeProbe(w, http.StatusServiceUnavailable, body{"draining", "the node is shutting down"})
		return
	}
	if err := p.adapter.Ready(); err != nil {
		writeProbe(w, http.StatusServiceUnavailable, body{"not ready", p.adapter.Name() + " adapter: " + err.Error()})
		return
	}
	writeProbe(w, http.StatusOK, body{Status: "ready"})
}

func getOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeProbe(w, http.StatusMethodNotAllowed, map[string]string{"message": "Method not allowed"})
	return false
}

func writeProbe(w http.ResponseWriter, status int, body any) {
	data, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}
