package redis

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tomato-code/realtime/test/cluster"
)

// BenchmarkReceiveDropped measures a node's receive path for what it receives most with the
// pattern subscription: broadcasts to one room each, for rooms it does not hold, read from
// the subscriber connection and dropped. b.N of them are published through a real Redis by a
// raw connection that writes pre-encoded PUBLISH commands, which allocates nothing per
// message, so that allocs/op and B/op are the receiving node's, per message received.
func BenchmarkReceiveDropped(b *testing.B) {
	url := cluster.RedisURL(b)
	cl, a, stop := syncedBenchNode(b, url, SubscribePattern)
	defer stop()
	sentinel := cl.sentinel(a.ch.Broadcast)
	msg := benchBroadcast(b, "user:x")
	const batch = 256
	var cmds []byte
	var ends []int // where each command of cmds ends
	for i := range batch {
		cmds = appendPublish(cmds, a.ch.Room(fmt.Sprintf("user:%d", i)), msg)
		ends = append(ends, len(cmds))
	}
	pub := rawPublisher(b, url)
	received := cl.Stats().Received
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; sent += batch {
		if _, err := pub.Write(cmds[:ends[min(batch, b.N-sent)-1]]); err != nil {
			b.Fatal(err)
		}
	}
	// After the others on the same connection, so received after them.
	if _, err := pub.Write(appendPublish(nil, a.ch.Broadcast, msg)); err != nil {
		b.Fatal(err)
	}
	select {
	case <-sentinel:
	case <-time.After(time.Minute):
		b.Fatal("the last message never arrived")
	}
	b.StopTimer()
	b.ReportMetric(float64(cl.Stats().Received-received-1)/float64(b.N), "received/op")
}

// rawPublisher connects to the Redis of url, authenticated, and discards its replies; the
// connection closes when b ends.
func rawPublisher(b *testing.B, url string) net.Conn {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	conn, err := net.Dial(opts.Network, opts.Addr)
	if err != nil {
		b.Fatal(err)
	}
	if opts.Password != "" {
		auth := fmt.Appendf(nil, "*3\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(opts.Username), opts.Username,
			len(opts.Password), opts.Password)
		if opts.Username == "" {
			auth = fmt.Appendf(nil, "*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n", len(opts.Password), opts.Password)
		}
		if _, err := conn.Write(auth); err != nil {
			b.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(io.Discard, conn)
	}()
	b.Cleanup(func() {
		conn.Close()
		<-done
	})
	return conn
}

// appendPublish appends the PUBLISH command of payload on channel.
func appendPublish(b []byte, channel string, payload []byte) []byte {
	b = fmt.Appendf(b, "*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$%d\r\n", len(channel), channel, len(payload))
	b = append(b, payload...)
	return append(b, '\r', '\n')
}
