package socketio_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/tomato-code/realtime/engineio"
	"github.com/tomato-code/realtime/socketio"
)

// chanListener hands the server connections made by the benchmark.
type chanListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}
func (l *chanListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{} }

// scriptedConn is a client connection played from a script: it sends a websocket upgrade
// request, then (once the server answered) a CONNECT to "/", then stays silent; everything
// the server writes is counted and dropped. The server runs its real websocket session on it
// (queue, writer, frames), without TCP and without a client to schedule.
type scriptedConn struct {
	in      io.Reader
	answer  chan struct{} // closed at the server's first write: the CONNECT may follow
	ready   func()        // called once the CONNECT reply is written
	counter *byteCounter
	closed  chan struct{}
	kick    chan struct{}
	once    sync.Once
	state   int // 0: before the answer, 1: before the CONNECT reply, 2: connected
}

var (
	upgradeRequest = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: bench\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	connectFrame = func() []byte {
		var b bytes.Buffer
		f := ws.NewTextFrame([]byte("40"))
		f = ws.MaskFrameInPlace(f)
		ws.WriteFrame(&b, f)
		return b.Bytes()
	}()
)

func newScriptedConn(counter *byteCounter, ready func()) *scriptedConn {
	c := &scriptedConn{answer: make(chan struct{}), counter: counter, ready: ready,
		closed: make(chan struct{}), kick: make(chan struct{}, 1)}
	c.in = io.MultiReader(bytes.NewReader([]byte(upgradeRequest)), gate{c, c.answer}, bytes.NewReader(connectFrame), gate{c, c.closed})
	return c
}

// gate is a reader that blocks until ch is closed, then reports EOF, or until a past read
// deadline is set (net/http does that to stop its background read before a hijack).
type gate struct {
	c  *scriptedConn
	ch chan struct{}
}

func (g gate) Read([]byte) (int, error) {
	select {
	case <-g.ch:
		return 0, io.EOF
	case <-g.c.kick:
		return 0, os.ErrDeadlineExceeded
	}
}

func (c *scriptedConn) Read(p []byte) (int, error) {
	n, err := c.in.Read(p)
	if err == io.EOF {
		return n, net.ErrClosed
	}
	return n, err
}

func (c *scriptedConn) SetReadDeadline(t time.Time) error {
	if !t.IsZero() && t.Before(time.Now()) {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

func (c *scriptedConn) Write(p []byte) (int, error) {
	switch c.state {
	case 0:
		c.state = 1
		close(c.answer)
		fallthrough
	case 1:
		if bytes.Contains(p, []byte(`40{"sid":`)) {
			c.state = 2
			c.ready()
		}
	default:
		c.counter.Write(p)
	}
	return len(p), nil
}

func (c *scriptedConn) Close() error        { c.once.Do(func() { close(c.closed) }); return nil }
func (c *scriptedConn) LocalAddr() net.Addr { return &net.TCPAddr{} }
func (c *scriptedConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
}
func (c *scriptedConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptedConn) SetWriteDeadline(time.Time) error { return nil }

// byteCounter counts what the server writes to all connections and signals when the total
// reaches target.
type byteCounter struct {
	total, target atomic.Int64
	done          chan struct{}
}

func (b *byteCounter) Write(p []byte) (int, error) {
	if b.total.Add(int64(len(p))) == b.target.Load() {
		b.done <- struct{}{}
	}
	return len(p), nil
}

// BenchmarkBroadcastEngine measures one emit to a room through real Engine.IO websocket
// sessions: the socket layer, each session's queue and writer goroutine, and framing, up to
// the bytes reaching each connection.
func BenchmarkBroadcastEngine(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchBroadcastEngine(b, n) })
	}
}

func benchBroadcastEngine(b *testing.B, n int) {
	srv := socketio.NewServer(socketio.Config{
		// No ping may land in the byte count during the run.
		Engine:         engineio.Config{PingInterval: time.Hour, PingTimeout: time.Hour},
		ConnectTimeout: time.Hour,
	})
	srv.Of("/").OnConnection(func(s *socketio.Socket) { s.Join("big") })
	l := &chanListener{conns: make(chan net.Conn), closed: make(chan struct{})}
	hs := &http.Server{Handler: srv}
	go hs.Serve(l)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
	}()

	counter := &byteCounter{done: make(chan struct{}, 1)}
	var wg sync.WaitGroup
	wg.Add(n)
	for range n {
		l.conns <- newScriptedConn(counter, wg.Done)
	}
	wg.Wait()
	if got := srv.Of("/").SocketCount(); got != n {
		b.Fatalf("%d sockets, want %d", got, n)
	}
	ns := srv.Of("/")
	const frame = 2 + len(`42["tick",1]`) // unmasked header of a short text frame, then the packet
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		counter.target.Add(int64(n * frame))
		if err := ns.To("big").Emit("tick", 1); err != nil {
			b.Fatal(err)
		}
		<-counter.done // every connection has been written the frame
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/recipient")
}

var benchSizes = []int{1_000, 10_000}
