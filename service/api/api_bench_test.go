package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
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
	benchmarkHandlerAt(b, slog.LevelWarn, path, body)
}

// benchmarkHandlerAt is benchmarkHandler with the logger at level: at info, the service's
// default, every call writes its line (to nowhere here, formatted all the same).
func benchmarkHandlerAt(b *testing.B, level slog.Level, path, body string) {
	h := New(Config{Hub: nopHub{}, Key: key, Logger: slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: level})),
		Observe: func(string, int, time.Duration) {}, ObserveEmits: func(string, int) {}})
	rd := strings.NewReader(body)
	req := httptest.NewRequest("POST", path, rd)
	req.Header.Set(KeyHeader, key)
	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	cpu0, n := processCPU(b), 0
	for b.Loop() {
		rd.Reset(body)
		req.Body = io.NopCloser(rd)
		clear(w.header)
		h.ServeHTTP(w, req)
		if w.status != 200 {
			b.Fatalf("status %d", w.status)
		}
		n++
	}
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(n), "cpu-ns/op")
}

func BenchmarkEmitHandler(b *testing.B) {
	benchmarkHandler(b, RouteEmit, `{"event":"order:update","room":"user:42","payload":{"id":7,"status":"ready","items":[1,2,3],"note":"extra cheese"}}`)
}

func BenchmarkEmitHandlerLogged(b *testing.B) {
	benchmarkHandlerAt(b, slog.LevelInfo, RouteEmit, `{"event":"order:update","room":"user:42","payload":{"id":7,"status":"ready","items":[1,2,3],"note":"extra cheese"}}`)
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

// BenchmarkEmitOverTCP: emits through a real net/http server on a keep-alive loopback
// connection, logging at info as the service does by default, so that net/http's own work
// per request (header parsing, the answer's header, the body reader) and the log line are
// counted. The client writes prepared bytes and reads the answers by hand: its own
// allocations are nearly none, so allocs/op is the server's.
func BenchmarkEmitOverTCP(b *testing.B) {
	h := New(Config{Hub: nopHub{}, Key: key, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Observe: func(string, int, time.Duration) {}, ObserveEmits: func(string, int) {}})
	srv := httptest.NewServer(h)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	const body = `{"event":"order:update","room":"user:42","payload":{"id":7,"status":"ready","items":[1,2,3],"note":"extra cheese"}}`
	req := []byte("POST " + RouteEmit + " HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\nX-Internal-Key: " + key +
		"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	rd := bufio.NewReader(conn)
	b.ReportAllocs()
	// The time per request is mostly the loopback round trip; the process's CPU time per
	// request (client included, which only writes and reads) is the figure to compare. On a
	// busy machine it also varies less than the time.
	cpu0, n := processCPU(b), 0
	for b.Loop() {
		if _, err := conn.Write(req); err != nil {
			b.Fatal(err)
		}
		if err := readAnswer(rd); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(n), "cpu-ns/op")
}

// processCPU is the CPU time the process used so far, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// readAnswer reads one 200 answer with a Content-Length and discards it.
func readAnswer(rd *bufio.Reader) error {
	line, err := rd.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("answer %q", line)
	}
	n := -1
	for {
		line, err = rd.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if n < 0 {
		return errors.New("answer without Content-Length")
	}
	_, err = rd.Discard(n)
	return err
}
