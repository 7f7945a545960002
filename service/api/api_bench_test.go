package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
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

func BenchmarkEmit(b *testing.B) {
	benchmarkRoute(b, RouteEmit, `{"event":"order:update","room":"user:42","payload":{"id":7,"status":"ready","items":[1,2,3],"note":"extra cheese"}}`)
}

func BenchmarkEmitBatch100(b *testing.B) {
	one := `{"event":"order:update","room":"user:42","payload":{"id":7,"status":"ready"}}`
	benchmarkRoute(b, RouteEmitBatch, `{"emits":[`+strings.TrimSuffix(strings.Repeat(one+",", 100), ",")+`]}`)
}
