package lane

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
)

// small answers as the API answers an emit: a small JSON body with its headers given as
// shared slices, the request body read whole. It allocates nothing itself.
var small = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	h := w.Header()
	h["Content-Type"] = jsonType
	h["Cache-Control"] = noStore
	w.Write(success)
})

var (
	jsonType = []string{"application/json; charset=utf-8"}
	noStore  = []string{"no-store"}
	success  = []byte(`{"success":true}` + "\n")
)

// emitRequest is an emit as Go's http.Client sends it.
var emitRequest = func() []byte {
	body := `{"event":"order:update","room":"user:42","payload":{"id":7,"status":"ready","items":[1,2,3],"note":"extra cheese"}}`
	return []byte("POST /api/v1/internal/emit HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nUser-Agent: Go-http-client/1.1\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\nContent-Type: application/json\r\nX-Key: key\r\nAccept-Encoding: gzip\r\n\r\n" + body)
}()

// rawClient sends one request at a time on one connection and reads the answer, allocating
// nothing, so that what a benchmark counts is the server's.
type rawClient struct {
	c   net.Conn
	buf []byte
}

func newRawClient(tb testing.TB, addr string) *rawClient {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return &rawClient{c: c, buf: make([]byte, 4096)}
}

var errAnswer = errors.New("unexpected answer")

// do sends req and reads one answer with a Content-Length body.
func (rc *rawClient) do(req []byte) error {
	if _, err := rc.c.Write(req); err != nil {
		return err
	}
	n := 0
	for {
		m, err := rc.c.Read(rc.buf[n:])
		if err != nil {
			return err
		}
		n += m
		end := bytes.Index(rc.buf[:n], []byte("\r\n\r\n"))
		if end < 0 {
			continue
		}
		if !bytes.HasPrefix(rc.buf, []byte("HTTP/1.1 200 ")) {
			return errAnswer
		}
		i := bytes.Index(rc.buf[:end], []byte("\r\nContent-Length: "))
		if i < 0 {
			return errAnswer
		}
		i += len("\r\nContent-Length: ")
		length := 0
		for ; rc.buf[i] >= '0' && rc.buf[i] <= '9'; i++ {
			length = length*10 + int(rc.buf[i]-'0')
		}
		switch total := end + 4 + length; {
		case n == total:
			return nil
		case n > total:
			return errAnswer
		}
	}
}

// serveNetHTTP serves h with net/http alone.
func serveNetHTTP(tb testing.TB, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	tb.Cleanup(func() { srv.Shutdown(context.Background()); <-done })
	return ln.Addr().String()
}

// BenchmarkLaneRequest: sequential emits on one keep-alive connection over loopback TCP,
// served by the lane. cpu-ns/op is the process's CPU time (client and server) per request.
func BenchmarkLaneRequest(b *testing.B) {
	h := start(b, small, nil)
	benchmarkRequests(b, h.addr)
	if st := h.lane.Stats(); st.Requests == 0 {
		b.Fatal("the lane served nothing")
	}
}

// BenchmarkNetHTTPRequest: the same with net/http serving every request.
func BenchmarkNetHTTPRequest(b *testing.B) {
	benchmarkRequests(b, serveNetHTTP(b, small))
}

func benchmarkRequests(b *testing.B, addr string) {
	rc := newRawClient(b, addr)
	if err := rc.do(emitRequest); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	for b.Loop() {
		if err := rc.do(emitRequest); err != nil {
			b.Fatal(err)
		}
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func TestLaneAllocatesNothingPerRequest(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	testutil.CheckGoroutines(t)
	h := start(t, small, nil)
	rc := newRawClient(t, h.addr)
	// The first request is net/http's; the first the lane reads makes the strings it keeps.
	for range 2 {
		if err := rc.do(emitRequest); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	allocs := testing.AllocsPerRun(500, func() {
		if e := rc.do(emitRequest); e != nil {
			err = e
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if allocs != 0 {
		t.Errorf("%v allocations per request", allocs)
	}
	if st := h.lane.Stats(); st.Requests < 500 {
		t.Errorf("the lane read %d requests", st.Requests)
	}
}
