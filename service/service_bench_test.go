package service

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// benchWriter is a ResponseWriter that keeps only the status, as net/http reuses its
// per-connection buffers: what a benchmark counts is the service's own work.
type benchWriter struct {
	header http.Header
	status int
}

func (w *benchWriter) Header() http.Header         { return w.header }
func (w *benchWriter) WriteHeader(status int)      { w.status = status }
func (w *benchWriter) Write(p []byte) (int, error) { return len(p), nil }

// SetReadDeadline is there because net/http's ResponseWriter has it.
func (w *benchWriter) SetReadDeadline(time.Time) error { return nil }

// BenchmarkServiceEmit: an API emit through the main listener's handler, routing, API, hub and
// Socket.IO broadcast included, to a room nobody is in (delivery to sockets and the network
// writes are measured by the socketio benchmarks and the load tool).
func BenchmarkServiceEmit(b *testing.B) {
	// At info, the service's default: a call that worked writes no "api call" line (see
	// BenchmarkServiceEmitLogged).
	benchmarkServiceEmit(b, slog.LevelInfo)
}

// BenchmarkServiceEmitLogged is BenchmarkServiceEmit at debug, at which every API call writes
// its line (formatted, then discarded here).
func BenchmarkServiceEmitLogged(b *testing.B) {
	benchmarkServiceEmit(b, slog.LevelDebug)
}

func benchmarkServiceEmit(b *testing.B, level slog.Level) {
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: level}))
	s, err := New(testConfig(nil), log, Options{Stdout: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	const body = `{"event":"order:update","room":"user:42","payload":{"id":7,"status":"ready","items":[1,2,3],"note":"extra cheese"}}`
	rd := strings.NewReader(body)
	req := httptest.NewRequest("POST", "/api/v1/internal/emit", rd)
	req.Header.Set("X-Internal-Key", "key")
	w := &benchWriter{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		req.Body = io.NopCloser(rd)
		clear(w.header)
		h.ServeHTTP(w, req)
		if w.status != 200 {
			b.Fatalf("status %d", w.status)
		}
	}
}
