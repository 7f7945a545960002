package socketio

import (
	"context"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tomato-code/realtime/engineio"
)

// BenchmarkIdleSocketMemory reports the live heap of the socket layer per idle client: the
// connection, the socket, its handshake and its membership of two rooms besides its own, with
// handlers registered as the service registers them (on the namespace). The Engine.IO session and the network
// are not included (engineio's BenchmarkIdleWebSocketMemory covers them). Each iteration
// connects 10,000 clients from scratch.
func BenchmarkIdleSocketMemory(b *testing.B) {
	const n = 10_000
	auth := `{"token":"` + strings.Repeat("t", 160) + `"}` // about a JWT's length
	req := httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=websocket", nil)
	for k, v := range map[string]string{
		"Upgrade": "websocket", "Connection": "Upgrade", "Sec-Websocket-Version": "13",
		"Sec-Websocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "User-Agent": "Go-http-client/1.1",
	} {
		req.Header.Set(k, v)
	}
	var perSocket float64
	for b.Loop() {
		srv := NewServer(Config{})
		ns := srv.Of("/")
		onEvent := func(*Socket, Args, Ack) {}
		ns.OnAnySocketEvent(func(*Socket, string, Args, Ack) {})
		ns.OnSocketEvent("join_order", onEvent)
		ns.OnSocketEvent("leave_order", onEvent)
		ns.OnSocketDisconnect(func(*Socket, string) {})
		connected := 0 // OnConnection runs on the connecting goroutine: below, one at a time
		ns.OnConnection(func(s *Socket) {
			connected++
			s.Join("user:"+s.ID(), "restaurant:"+strconv.Itoa(connected%100))
		})
		sessions := make([]*benchSession, n)
		for i := range sessions {
			sessions[i] = &benchSession{hs: *engineio.NewHandshakeInfo(req, time.Now())}
		}
		before := heapInUse()
		// The engine hands over a buffer of its own per message, and the handshake keeps the
		// auth part of it: counted.
		msgs := make([][]byte, n)
		for i := range msgs {
			msgs[i] = []byte("0" + auth)
		}
		for i := range sessions {
			srv.newConn(sessions[i]).OnMessage(msgs[i], false)
		}
		msgs = nil
		after := heapInUse()
		if got := ns.SocketCount(); got != n {
			b.Fatalf("%d sockets connected, want %d", got, n)
		}
		perSocket = float64(after-before) / n
		runtime.KeepAlive(sessions)
		srv.Shutdown(context.Background())
	}
	b.ReportMetric(perSocket, "heapB/socket")
}

// heapInUse returns the bytes of live heap objects after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
