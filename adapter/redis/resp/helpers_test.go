package resp

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/test/cluster"
)

const wait = 5 * time.Second

// redisOptions returns the Options of the test Redis ($REDIS_URL), or skips t without one.
func redisOptions(t testing.TB) *goredis.Options {
	t.Helper()
	opts, err := goredis.ParseURL(cluster.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

// dialRedis connects a Subscriber to the test Redis, closed when the test ends, and returns a
// go-redis client to publish with.
func dialRedis(t *testing.T) (*Subscriber, *goredis.Client) {
	t.Helper()
	testutil.CheckGoroutines(t)
	opts := redisOptions(t)
	s := dialOpts(t, opts)
	pub := goredis.NewClient(opts)
	t.Cleanup(func() { pub.Close() })
	return s, pub
}

func dialOpts(t *testing.T, opts *goredis.Options) *Subscriber {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	s, err := Dial(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// receive returns the next message, failing t on an error.
func receive(t *testing.T, s *Subscriber) Message {
	t.Helper()
	m, err := s.Receive(time.Now().Add(wait))
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	return m
}

// expect receives the next message and checks it.
func expect(t *testing.T, s *Subscriber, kind Kind, pattern, channel, payload string, count int) {
	t.Helper()
	m := receive(t, s)
	if m.Kind != kind || string(m.Pattern) != pattern || string(m.Channel) != channel ||
		string(m.Payload) != payload || m.Count != count {
		t.Fatalf("got %s %q %q %.60q count %d; want %s %q %q %.60q count %d", m.Kind, m.Pattern, m.Channel,
			m.Payload, m.Count, kind, pattern, channel, payload, count)
	}
}

// fakeServer is a TCP server on 127.0.0.1 that plays the part of Redis with scripted bytes,
// for what a real Redis never sends. serve runs on the accepted connection, in a goroutine
// that the test waits for; it reads what the client sends with readCommand.
func fakeServer(t *testing.T, serve func(c net.Conn)) *goredis.Options {
	t.Helper()
	testutil.CheckGoroutines(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		serve(c)
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	return &goredis.Options{Addr: l.Addr().String()}
}

// commands reads what the client sends to a fake server.
type commands struct {
	t *testing.T
	c net.Conn
	b []byte // read, not parsed yet
}

// next reads one command, as appendCommand writes it, and returns its words; nil at the end
// of the connection.
func (r *commands) next() []string {
	var buf [4096]byte
	for {
		if words, n := parseCommand(r.b); n > 0 {
			r.b = r.b[n:]
			return words
		}
		n, err := r.c.Read(buf[:])
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				r.t.Logf("fake server: %v", err)
			}
			return nil
		}
		r.b = append(r.b, buf[:n]...)
	}
}

// parseCommand parses a command array of bulk strings; n is 0 while b is incomplete.
func parseCommand(b []byte) (words []string, n int) {
	line, pos, _ := readLine(b, 0)
	if line == nil || line[0] != '*' {
		return nil, 0
	}
	count, _ := parseInt(line[1:])
	for range count {
		if line, pos, _ = readLine(b, pos); line == nil {
			return nil, 0
		}
		size, _ := parseInt(line[1:])
		if len(b) < pos+int(size)+2 {
			return nil, 0
		}
		words = append(words, string(b[pos:pos+int(size)]))
		pos += int(size) + 2
	}
	return words, pos
}

// memConn is a connection that reads data in chunks of at most chunk bytes and then ends: the
// fuzzer and the benchmark drive Receive with it, faster than through a socket.
type memConn struct {
	net.Conn // not set: only what Receive calls is implemented
	data     []byte
	chunk    int
	loop     bool // start data again at its end, for ever
	off      int
}

func (c *memConn) Read(p []byte) (int, error) {
	if c.off == len(c.data) {
		if !c.loop {
			return 0, io.EOF
		}
		c.off = 0
	}
	n := copy(p[:min(len(p), c.chunk)], c.data[c.off:])
	c.off += n
	return n, nil
}

func (c *memConn) SetReadDeadline(time.Time) error { return nil }
func (c *memConn) Close() error                    { return nil }

func newMemSubscriber(data []byte, chunk int, loop bool) *Subscriber {
	s := &Subscriber{conn: &memConn{data: data, chunk: chunk, loop: loop}, small: make([]byte, ReadBufferSize)}
	s.buf = s.small
	return s
}

// push is a Pub/Sub message as Redis sends it: an array of bulk strings, like a command.
func push(kind string, fields ...string) []byte { return appendCommand(nil, kind, fields...) }
