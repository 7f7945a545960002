package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// nopHub does nothing, so that the benchmarks measure the API's own work: key check, body
// read, validation, answer.
type nopHub struct{}

func (nopHub) Emit(context.Context, Target, string, []json.RawMessage, bool) error { return nil }
func (nopHub) EmitWithAck(_ context.Context, _ Target, _ string, _ []json.RawMessage, _ bool, _ time.Duration, done func(AckResult)) error {
	done(AckResult{})
	return nil
}
func (nopHub) Join(context.Context, Target, []string) error          { return nil }
func (nopHub) Leave(context.Context, Target, []string) error         { return nil }
func (nopHub) Disconnect(context.Context, Target, bool) error        { return nil }
func (nopHub) Sockets(context.Context, Target) ([]SocketInfo, error) { return nil, nil }

func benchmarkRoute(b *testing.B, path, body string) {
	h := New(Config{Hub: nopHub{}, Key: key, Logger: slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))})
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set(KeyHeader, key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// discardWriter is a ResponseWriter that keeps only the status, so that a benchmark measures
// the handler and not httptest's recorder.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// SetReadDeadline is there because net/http's ResponseWriter has it.
func (w *discardWriter) SetReadDeadline(time.Time) error { return nil }

// benchmarkHandler reuses one request and one writer across iterations, as net/http reuses
// its per-connection buffers: what is left is what the handler itself allocates per call.
func benchmarkHandler(b *testing.B, path, body string) {
	h := New(Config{Hub: nopHub{}, Key: key, Logger: slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Observe: func(string, int, time.Duration) {}, ObserveEmits: func(string, int) {}})
	rd := strings.NewReader(body)
	req := httptest.NewRequest("POST", path, rd)
	req.Header.Set(KeyHeader, key)
	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
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

func BenchmarkEmitHandler(b *testing.B) {
	benchmarkHandler(b, RouteEmit, `{"event":"order:update","room":"user:42","payload":{"id":7,"status":"ready","items":[1,2,3],"note":"extra cheese"}}`)
}

func BenchmarkEmitBatch100Handler(b *testing.B) {
	one := `{"event":"order:update","room":"user:42","payload":{"id":7,"status":"ready"}}`
	benchmarkHandler(b, RouteEmitBatch, `{"emits":[`+strings.TrimSuffix(strings.Repeat(one+",", 100), ",")+`]}`)
}

func BenchmarkEmit(b *testing.B) {
	benchmarkRoute(b, RouteEmit, `{"event":"order:update","room":"user:42","payload":{"id":7,"status":"ready","items":[1,2,3],"note":"extra cheese"}}`)
}

func BenchmarkEmitBatch100(b *testing.B) {
	one := `{"event":"order:update","room":"user:42","payload":{"id":7,"status":"ready"}}`
	benchmarkRoute(b, RouteEmitBatch, `{"emits":[`+strings.TrimSuffix(strings.Repeat(one+",", 100), ",")+`]}`)
}
