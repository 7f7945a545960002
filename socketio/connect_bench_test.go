package socketio

import (
	"context"
	"testing"
	"time"
)

// BenchmarkConnect measures the socket layer's part of a client joining "/" with a middleware
// that joins two rooms, as the service's does, over the memory adapter: the CONNECT packet in,
// middleware, the CONNECT reply out, and the disconnect. The Engine.IO session is a fake.
func BenchmarkConnect(b *testing.B) {
	srv := NewServer(Config{ConnectTimeout: time.Hour})
	b.Cleanup(func() { srv.Shutdown(context.Background()) })
	srv.Of("/").Use(func(s *Socket) error {
		s.Join("user:1", "restaurant:1")
		return nil
	})
	connect := []byte("0")
	b.ReportAllocs()
	for b.Loop() {
		sess := &benchSession{}
		c := srv.newConn(sess)
		c.OnMessage(connect, false)
		if sess.msgs.Load() != 1 {
			b.Fatal("no CONNECT reply")
		}
		c.OnClose("transport close", nil)
	}
}
