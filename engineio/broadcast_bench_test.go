package engineio

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/tomato-code/realtime/engineio/packet"
)

// sink counts the frames written by many discardConns and signals when a target is reached,
// so that a benchmark can stop its clock when every recipient's writer has finished.
type sink struct {
	frames atomic.Int64
	target atomic.Int64
	done   chan struct{}
}

// discardConn is a net.Conn behind the same seam as a TCP connection: the session writes to
// it through its normal writer, and reads block until Close.
type discardConn struct {
	sink      *sink
	closed    chan struct{}
	closeOnce sync.Once
}

func (c *discardConn) Read([]byte) (int, error) { <-c.closed; return 0, net.ErrClosed }
func (c *discardConn) Write(p []byte) (int, error) {
	if c.sink.frames.Add(1) == c.sink.target.Load() {
		c.sink.done <- struct{}{}
	}
	return len(p), nil
}
func (c *discardConn) Close() error                     { c.closeOnce.Do(func() { close(c.closed) }); return nil }
func (c *discardConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *discardConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *discardConn) SetDeadline(time.Time) error      { return nil }
func (c *discardConn) SetReadDeadline(time.Time) error  { return nil }
func (c *discardConn) SetWriteDeadline(time.Time) error { return nil }

// newDiscardSessions opens n websocket sessions on discardConns and waits until their open
// packets are written.
func newDiscardSessions(tb testing.TB, srv *Server, n int, sk *sink) []*Session {
	req := httptest.NewRequest("GET", "/engine.io/?EIO=4&transport=websocket", nil)
	sessions := make([]*Session, n)
	sk.target.Store(int64(n))
	for i := range sessions {
		c := &discardConn{sink: sk, closed: make(chan struct{})}
		s := srv.newSession(req, &wsConn{conn: c, rd: newFrameReader(c, nil, srv.cfg.MaxPayload)})
		s.mu.Lock()
		s.kickLocked()
		s.mu.Unlock()
		sessions[i] = s
	}
	<-sk.done
	return sessions
}

func newBenchServer() *Server {
	return NewServer(Config{
		PingInterval: time.Hour,
		OnOpen:       func(*Session) SessionHandler { return nil },
	})
}

// BenchmarkBroadcast sends one shared Message to every session, as a room broadcast does, and
// stops the clock when every session's writer has written it. ns/recipient is the cost of one
// delivery; allocs/op must not grow with the number of recipients. The connections offer no
// raw access, so this measures the writer goroutine of each session (as with TLS); the writer
// pool of TCP connections is measured by BenchmarkBroadcastLoopback.
func BenchmarkBroadcast(b *testing.B) {
	payload := []byte(`2["order:update",{"id":"64f1c2","status":"preparing","eta":1200}]`)
	for _, n := range []int{1_000, 10_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			srv := newBenchServer()
			sk := &sink{done: make(chan struct{}, 1)}
			sessions := newDiscardSessions(b, srv, n, sk)
			defer func() {
				for _, s := range sessions {
					s.terminate(ReasonServerShutdown, nil, msgClose, false)
				}
			}()
			// One round first, so that the runtime has goroutines to reuse: the first burst
			// of writers allocates them, later ones do not.
			sk.target.Add(int64(n))
			warm := NewTextMessage(payload)
			for _, s := range sessions {
				s.Send(warm)
			}
			<-sk.done
			b.ReportAllocs()
			b.ResetTimer()
			cpu := processCPU()
			for i := 0; i < b.N; i++ {
				sk.target.Add(int64(n))
				m := NewTextMessage(payload)
				for _, s := range sessions {
					if err := s.Send(m); err != nil {
						b.Fatal(err)
					}
				}
				<-sk.done
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/recipient")
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N*n), "cpu-ns/recipient")
		})
	}
}

// BenchmarkSendBurst measures one session receiving many messages at once: the writer drains
// them with vectored writes of up to maxBatch frames.
func BenchmarkSendBurst(b *testing.B) {
	srv := newBenchServer()
	sk := &sink{done: make(chan struct{}, 1)}
	s := newDiscardSessions(b, srv, 1, sk)[0]
	defer s.terminate(ReasonServerShutdown, nil, msgClose, false)
	msgs := make([]*Message, 100)
	for i := range msgs {
		msgs[i] = NewTextMessage([]byte(`2["tick",` + strconv.Itoa(i) + `]`))
	}
	b.ReportAllocs()
	for b.Loop() {
		sk.target.Add(int64(len(msgs)))
		for _, m := range msgs {
			s.Send(m)
		}
		<-sk.done
	}
}

func BenchmarkMessageEncoding(b *testing.B) {
	payload := []byte(`2["order:update",{"id":"64f1c2","status":"preparing","eta":1200}]`)
	b.Run("websocket", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			NewTextMessage(payload).wsFrame()
		}
	})
	b.Run("polling-binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			NewBinaryMessage(payload).pollRecord()
		}
	})
}

// BenchmarkIdleWebSocketMemory opens idle websocket sessions over real loopback TCP, from a
// child process so that the clients' memory is not counted, and reports the server's growth per
// connection: Go heap, goroutine stacks, and the resident set (VmRSS of /proc/self/status,
// after returning freed memory to the system, so without the collector's headroom). It
// measures once whatever b.N is (ns/op means nothing here): one measurement takes a second or
// two for the default 2,000 connections (ENGINEIO_IDLE_CONNS changes it). There is one
// sub-benchmark per read mode; run one at a time for the resident set
// (-bench 'IdleWebSocketMemory/goroutine'), since memory freed by the first stays mapped.
func BenchmarkIdleWebSocketMemory(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("ENGINEIO_IDLE_CONNS")); err == nil && v > 0 {
		n = v
	}
	for _, mode := range []ReadMode{ReadPoller, ReadGoroutine} {
		b.Run(mode.String(), func(b *testing.B) {
			m := measureIdleMemory(b, mode, n)
			for b.Loop() { // the loop resets reported metrics: report after it
			}
			per := func(v int64) float64 { return float64(v) / float64(n) }
			b.ReportMetric(per(m.heap+m.stack), "bytes/conn")
			b.ReportMetric(per(m.heap), "heap-bytes/conn")
			b.ReportMetric(per(m.stack), "stack-bytes/conn")
			b.ReportMetric(per(m.rss), "rss-bytes/conn")
			b.ReportMetric(per(m.goroutines), "goroutines/conn")
		})
	}
}

type memDelta struct{ heap, stack, rss, goroutines int64 }

func measureIdleMemory(tb testing.TB, mode ReadMode, n int) memDelta {
	srv := NewServer(Config{PingInterval: time.Hour, ReadMode: mode, OnOpen: func(*Session) SessionHandler { return nil }})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer func() {
		for srv.SessionCount() > 0 {
			srv.sessions.each(func(s *Session) { s.terminate(ReasonServerShutdown, nil, msgClose, false) })
		}
	}()

	before := memInUse()
	rss0 := residentBytes()
	g0 := runtime.NumGoroutine()
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleClientsHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ENGINEIO_IDLE_CLIENTS="+hs.Listener.Addr().String()+","+strconv.Itoa(n))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready") {
		tb.Fatalf("client process: %q %v", line, err)
	}
	if c := srv.SessionCount(); c != n {
		tb.Fatalf("%d sessions, want %d", c, n)
	}
	after := memInUse()
	rss1 := residentBytes()
	g1 := runtime.NumGoroutine()
	if path := os.Getenv("ENGINEIO_IDLE_HEAP_PROFILE"); path != "" {
		// What the idle connections hold, for `go tool pprof -sample_index=inuse_space`.
		if f, err := os.Create(path); err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	return memDelta{
		heap:       int64(after.HeapAlloc) - int64(before.HeapAlloc),
		stack:      int64(after.StackInuse) - int64(before.StackInuse),
		rss:        rss1 - rss0,
		goroutines: int64(g1 - g0),
	}
}

// residentBytes returns the process's resident set size after freed memory has been returned
// to the system, or 0 where /proc is missing.
func residentBytes() int64 {
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// memInUse returns the memory statistics after full collections.
func memInUse() runtime.MemStats {
	var m runtime.MemStats
	for range 2 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return m
}

// TestIdleClientsHelper is the client process of the loopback benchmarks: it opens the
// websocket sessions and reads their open packets, says "ready", then either holds them idle
// until stdin closes, or (ENGINEIO_CLIENTS_READ=1) reads every frame and writes one line each
// time every client has received one more message.
func TestIdleClientsHelper(t *testing.T) {
	spec := os.Getenv("ENGINEIO_IDLE_CLIENTS")
	if spec == "" {
		t.Skip("client process of BenchmarkIdleWebSocketMemory and BenchmarkBroadcastLoopback")
	}
	addr, count, _ := strings.Cut(spec, ",")
	n, _ := strconv.Atoi(count)
	conns := make([]net.Conn, 0, n)
	readers := make([]*bufio.Reader, 0, n)
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 101 {
			t.Fatalf("upgrade: %v %v", resp, err)
		}
		if err := skipFrame(br); err != nil { // the open packet
			t.Fatal(err)
		}
		conns = append(conns, c)
		readers = append(readers, br)
	}
	fmt.Println("ready")
	if os.Getenv("ENGINEIO_CLIENTS_READ") != "" {
		var received atomic.Int64
		var mu sync.Mutex
		for _, br := range readers {
			go func() {
				for skipFrame(br) == nil {
					if v := received.Add(1); v%int64(n) == 0 {
						mu.Lock()
						os.Stdout.Write([]byte("r\n"))
						mu.Unlock()
					}
				}
			}()
		}
	}
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}

// skipFrame reads one unmasked server frame.
func skipFrame(br *bufio.Reader) error {
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return err
	}
	n := int64(hdr[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(br, ext[:]); err != nil {
			return err
		}
		n = int64(ext[0])<<8 | int64(ext[1])
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(br, ext[:]); err != nil {
			return err
		}
		n = 0
		for _, b := range ext {
			n = n<<8 | int64(b)
		}
	}
	_, err := br.Discard(int(n))
	return err
}

// BenchmarkBroadcastLoopback broadcasts to websocket clients over real loopback TCP, held by
// a child process that reads every frame. An iteration sends a burst of M messages back to back
// to every client and ends when every client has them all: with M > 1 a connection may have
// several frames pending, which the writer can coalesce. The clients share the machine's CPUs
// with the server, so the rates are a floor, not a ceiling; cpu-ns/recipient is this process's
// CPU time (the server side only) per delivered message, frames/write how many frames a write
// system call carried on average, and peak-stack-bytes the goroutine stacks in use once a
// burst is queued (writer goroutines included).
func BenchmarkBroadcastLoopback(b *testing.B) {
	const n = 1000
	for _, burst := range []int{1, 8} {
		b.Run("burst="+strconv.Itoa(burst), func(b *testing.B) {
			benchmarkBroadcastLoopback(b, Config{}, n, burst)
		})
	}
}

func benchmarkBroadcastLoopback(b *testing.B, cfg Config, n, burst int) {
	cfg.PingInterval = time.Hour
	cfg.OnOpen = func(*Session) SessionHandler { return nil }
	srv := NewServer(cfg)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer func() {
		srv.sessions.each(func(s *Session) { s.terminate(ReasonServerShutdown, nil, msgClose, false) })
	}()
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleClientsHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ENGINEIO_IDLE_CLIENTS="+hs.Listener.Addr().String()+","+strconv.Itoa(n), "ENGINEIO_CLIENTS_READ=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	lines := bufio.NewReader(stdout)
	if line, err := lines.ReadString('\n'); err != nil || line != "ready\n" {
		b.Fatalf("client process: %q %v", line, err)
	}
	var sessions []*Session
	srv.sessions.each(func(s *Session) { sessions = append(sessions, s) })
	if len(sessions) != n {
		b.Fatalf("%d sessions, want %d", len(sessions), n)
	}
	payload := []byte(`2["order:update",{"id":"64f1c2","status":"preparing","eta":1200}]`)
	b.ReportAllocs()
	b.ResetTimer()
	cpu, writes := processCPU(), writeSyscalls()
	stacks := []metrics.Sample{{Name: "/memory/classes/heap/stacks:bytes"}}
	var peakStacks uint64
	for i := 0; i < b.N; i++ {
		for range burst {
			m := NewTextMessage(payload)
			for _, s := range sessions {
				s.Send(m)
			}
		}
		// Writers have been started for every session: goroutine stacks are near their peak.
		metrics.Read(stacks)
		peakStacks = max(peakStacks, stacks[0].Value.Uint64())
		for range burst { // a line each time every client has one more message
			if _, err := lines.ReadString('\n'); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	deliveries := float64(b.N * n * burst)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/deliveries, "ns/recipient")
	b.ReportMetric(deliveries/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(float64(processCPU()-cpu)/deliveries, "cpu-ns/recipient")
	b.ReportMetric(float64(peakStacks), "peak-stack-bytes")
	if w := writeSyscalls() - writes; w > 0 {
		b.ReportMetric(deliveries/float64(w), "frames/write")
	}
}

// writeSyscalls returns how many write system calls (write, writev...) the process has made,
// from /proc/self/io, or 0 where it is missing.
func writeSyscalls() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "syscw:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// pongConn is a discardConn whose client answers every ping at once.
type pongConn struct {
	discardConn
	s     *Session
	pings *atomic.Int64
}

func (c *pongConn) Write(p []byte) (int, error) {
	if len(p) == 3 && p[2] == '2' { // a ping frame: header and "2"
		c.pings.Add(1)
		c.s.receive(packet.Packet{Type: packet.Pong})
	}
	return len(p), nil
}

// BenchmarkHeartbeat measures what the heartbeats of idle sessions cost: n sessions ping
// every 50 ms and their clients answer at once; an iteration is one ping interval. cpu-ns/ping
// is the process's CPU time per ping sent and answered (timer, ping queued and written, pong
// handled).
func BenchmarkHeartbeat(b *testing.B) {
	const n = 10_000
	const interval = 50 * time.Millisecond
	srv := NewServer(Config{PingInterval: interval, PingTimeout: time.Minute, OnOpen: func(*Session) SessionHandler { return nil }})
	req := httptest.NewRequest("GET", "/engine.io/?EIO=4&transport=websocket", nil)
	var pings atomic.Int64
	sessions := make([]*Session, n)
	for i := range sessions {
		c := &pongConn{discardConn: discardConn{closed: make(chan struct{})}, pings: &pings}
		s := srv.newSession(req, &wsConn{conn: c})
		c.s = s
		sessions[i] = s
	}
	defer func() {
		for _, s := range sessions {
			s.terminate(ReasonServerShutdown, nil, msgClose, false)
		}
	}()
	time.Sleep(2 * interval) // the first pings go out
	b.ResetTimer()
	cpu, p0 := processCPU(), pings.Load()
	for b.Loop() {
		time.Sleep(interval)
	}
	b.StopTimer()
	if p := pings.Load() - p0; p > 0 {
		b.ReportMetric(float64(processCPU()-cpu)/float64(p), "cpu-ns/ping")
		b.ReportMetric(float64(p)/float64(b.N*n), "pings/session/interval")
	}
}

// countHandler counts the messages of all sessions and signals each time target is reached.
type countHandler struct {
	n      *atomic.Int64
	target *atomic.Int64
	done   chan struct{}
}

func (h countHandler) OnMessage([]byte, bool) {
	if h.n.Add(1) == h.target.Load() {
		h.done <- struct{}{}
	}
}
func (countHandler) OnClose(string, error) {}

// BenchmarkReceiveLoopback measures the read path: 200 websocket clients over loopback each
// send a burst of 20 small messages per iteration, and the iteration ends when the handlers
// have them all. cpu-ns/message is the process's CPU time per message, the clients' writes
// included (the same for both read modes).
func BenchmarkReceiveLoopback(b *testing.B) {
	const conns, burst = 200, 20
	for _, mode := range []ReadMode{ReadPoller, ReadGoroutine} {
		b.Run(mode.String(), func(b *testing.B) {
			var n, target atomic.Int64
			h := countHandler{&n, &target, make(chan struct{}, 1)}
			srv := NewServer(Config{PingInterval: time.Hour, ReadMode: mode, OnOpen: func(*Session) SessionHandler { return h }})
			hs := httptest.NewServer(srv)
			defer hs.Close()
			defer srv.Shutdown(b.Context())
			ts := &testServer{Server: srv, http: hs, url: hs.URL + "/"}
			clients := make([]*wsClient, conns)
			for i := range clients {
				c, err := tryDialWS(ts, "EIO=4&transport=websocket")
				if err != nil {
					b.Fatal(err)
				}
				defer c.conn.Close()
				clients[i] = c
			}
			var frames []byte
			for range burst {
				frames = append(frames, clientFrame(ws.OpText, true, []byte(`42["chat","hello there"]`))...)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := processCPU()
			for i := 0; i < b.N; i++ {
				target.Add(conns * burst)
				for _, c := range clients {
					if _, err := c.conn.Write(frames); err != nil {
						b.Fatal(err)
					}
				}
				<-h.done
			}
			b.StopTimer()
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N*conns*burst), "cpu-ns/message")
		})
	}
}

// BenchmarkWebSocketHandshake opens websocket-only sessions over loopback, one per iteration:
// the client sends the upgrade request and reads up to the end of the open packet's frame,
// then closes. cpu-ns/handshake is the process's CPU time per session, the client's included;
// allocs/op counts both sides as well (the client's are a few, the same before and after).
func BenchmarkWebSocketHandshake(b *testing.B) {
	srv := NewServer(Config{PingInterval: time.Hour, OnOpen: func(*Session) SessionHandler { return nil }})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(b.Context())
	addr := strings.TrimPrefix(hs.URL, "http://")
	req := []byte("GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	// One session stays open throughout, as on a server with clients: otherwise the pollers
	// would stop after each session and start again for the next.
	keep, err := tryDialWS(&testServer{url: hs.URL + "/engine.io/"}, "EIO=4&transport=websocket")
	if err != nil {
		b.Fatal(err)
	}
	defer keep.conn.Close()
	buf := make([]byte, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for b.Loop() {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Write(req); err != nil {
			b.Fatal(err)
		}
		// The open packet's JSON ends the server's first data: read until its closing brace.
		n := 0
		for n == 0 || buf[n-1] != '}' {
			m, err := conn.Read(buf[n:])
			if err != nil {
				b.Fatal(err)
			}
			n += m
		}
		conn.Close()
	}
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/handshake")
}
