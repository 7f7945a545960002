package service

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

type fakeAdapter struct{ err error }

func (f *fakeAdapter) Name() string { return "redis" }
func (f *fakeAdapter) Ready() error { return f.err }

func probe(t *testing.T, h http.HandlerFunc, method string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest(method, "/", nil))
	var body map[string]any
	if method != http.MethodHead {
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("body %q: %v", rec.Body.String(), err)
		}
	}
	return rec.Code, body
}

func TestProbes(t *testing.T) {
	var draining atomic.Bool
	ad := &fakeAdapter{}
	p := &probes{started: time.Now().Add(-1500 * time.Millisecond), draining: &draining, connections: func() int { return 7 }, adapter: ad}

	code, body := probe(t, p.health, "GET")
	if code != 200 || body["status"] != "healthy" || body["activeConnections"] != 7.0 || body["uptime"].(float64) < 1.5 ||
		body["adapter"].(map[string]any)["ready"] != true || body["draining"] != nil {
		t.Fatalf("health: %d %v", code, body)
	}
	if code, body = probe(t, p.ready, "GET"); code != 200 || body["status"] != "ready" {
		t.Fatalf("ready: %d %v", code, body)
	}

	ad.err = errors.New("connection refused")
	if code, body = probe(t, p.ready, "GET"); code != 503 || body["reason"] != "redis adapter: connection refused" {
		t.Fatalf("ready with the adapter down: %d %v", code, body)
	}
	code, body = probe(t, p.health, "GET")
	if a := body["adapter"].(map[string]any); code != 200 || a["ready"] != false || a["error"] != "connection refused" {
		t.Fatalf("health with the adapter down: %d %v", code, body)
	}

	ad.err = nil
	draining.Store(true)
	if code, body = probe(t, p.ready, "GET"); code != 503 || body["status"] != "draining" {
		t.Fatalf("ready while draining: %d %v", code, body)
	}
	if code, body = probe(t, p.health, "GET"); code != 200 || body["draining"] != true {
		t.Fatalf("health while draining: %d %v", code, body)
	}
	if code, _ := probe(t, p.ready, "HEAD"); code != 503 {
		t.Fatalf("HEAD ready: %d", code)
	}
	if code, _ := probe(t, p.health, "POST"); code != 405 {
		t.Fatalf("POST health: %d", code)
	}
}
