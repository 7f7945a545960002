package socketio

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tomato-code/realtime/engineio"
)

// benchSession is a session that only counts what it is given: it measures the socket
// layer's fan-out cost without the transports.
type benchSession struct {
	msgs atomic.Int64
	hs   engineio.HandshakeInfo
}

func (b *benchSession) Send(msgs ...*engineio.Message) error {
	b.msgs.Add(int64(len(msgs)))
	return nil
}
func (b *benchSession) Writable() bool                     { return true }
func (b *benchSession) Close()                             {}
func (b *benchSession) Transport() string                  { return engineio.TransportWebSocket }
func (b *benchSession) Handshake() *engineio.HandshakeInfo { return &b.hs }
func (b *benchSession) RemoteAddr() string                 { return b.hs.RemoteAddr }

// benchRoom connects n sockets to "/" and puts them in room "big" (and each in a room of its
// own), returning the sessions.
func benchRoom(b *testing.B, n int) (*Server, []*benchSession) {
	b.Helper()
	srv := NewServer(Config{ConnectTimeout: time.Hour})
	b.Cleanup(func() { srv.Shutdown(context.Background()) })
	srv.Of("/").OnConnection(func(s *Socket) { s.Join("big", "own-"+s.ID()) })
	sessions := make([]*benchSession, n)
	for i := range sessions {
		sessions[i] = &benchSession{}
		c := srv.newConn(sessions[i])
		c.OnMessage([]byte("0"), false)
	}
	if got := srv.Of("/").SocketCount(); got != n {
		b.Fatalf("%d sockets connected, want %d", got, n)
	}
	return srv, sessions
}

func reportPerRecipient(b *testing.B, recipients int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(recipients), "ns/recipient")
}

// BenchmarkBroadcastRoom10k: one emit to a room of 10,000 sockets.
func BenchmarkBroadcastRoom10k(b *testing.B) {
	const n = 10_000
	srv, sessions := benchRoom(b, n)
	ns := srv.Of("/")
	payload := map[string]any{"id": "5f1c0e", "status": "delivered", "total": 12.5}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := ns.To("big").Emit("order:update", payload); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportPerRecipient(b, n)
	if got := sessions[n-1].msgs.Load(); got != int64(b.N)+1 { // +1: the CONNECT reply
		b.Fatalf("last session got %d messages, want %d", got, b.N)
	}
}

// BenchmarkBroadcastRoomsOverlap10k: an emit to two rooms that both hold the 10,000 sockets,
// each of which must get it once.
func BenchmarkBroadcastRoomsOverlap10k(b *testing.B) {
	const n = 10_000
	srv, sessions := benchRoom(b, n)
	ns := srv.Of("/")
	for _, s := range ns.Sockets() {
		s.Join("big2")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ns.To("big", "big2").Except("nobody").Emit("tick", 1)
	}
	b.StopTimer()
	reportPerRecipient(b, n)
	if got := sessions[0].msgs.Load(); got != int64(b.N)+1 {
		b.Fatalf("session got %d messages, want %d", got, b.N)
	}
}

// BenchmarkEmitToSocketRoom: the service's targeted emit, one socket by its own room.
func BenchmarkEmitToSocketRoom(b *testing.B) {
	srv, _ := benchRoom(b, 1000)
	ns := srv.Of("/")
	ids := make([]string, 0, 1000)
	for _, s := range ns.Sockets() {
		ids = append(ids, s.ID())
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ns.To(ids[i%len(ids)]).Emit("notify", "hello")
		i++
	}
}

// BenchmarkBroadcastParallelRooms: broadcasts to different rooms from all CPUs, to show that
// they do not contend.
func BenchmarkBroadcastParallelRooms(b *testing.B) {
	srv, _ := benchRoom(b, 1000)
	ns := srv.Of("/")
	var rooms []string
	for _, s := range ns.Sockets() {
		rooms = append(rooms, "own-"+s.ID())
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)) * 7919
		for pb.Next() {
			ns.To(rooms[i%len(rooms)]).Emit("x", i)
			i++
		}
	})
}

// BenchmarkInboundEvent: decoding and dispatching one event with an acknowledgement.
func BenchmarkInboundEvent(b *testing.B) {
	srv := NewServer(Config{ConnectTimeout: time.Hour})
	b.Cleanup(func() { srv.Shutdown(context.Background()) })
	srv.Of("/").OnConnection(func(s *Socket) {
		s.On("message", func(s *Socket, args Args, ack Ack) { ack(args.Values()...) })
	})
	sess := &benchSession{}
	c := srv.newConn(sess)
	c.OnMessage([]byte("0"), false)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.OnMessage([]byte("2"+strconv.Itoa(i)+`["message",{"a":1},"text"]`), false)
		i++
	}
}
