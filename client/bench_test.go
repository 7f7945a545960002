package client_test

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"sync/atomic"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/tomato-code/realtime/client"
)

// benchmarkReceive measures the receive path: a server writes b.N event frames as fast as the
// socket takes them and the client handles them either through OnRawMessage (counting, no
// decoding, as the load tool does) or through an event handler with decoded Args.
func benchmarkReceive(b *testing.B, raw bool) {
	frame := ws.MustCompileFrame(ws.NewTextFrame([]byte(`42["tick",{"bp":1,"bt":1700000000000000,"data":"0123456789abcdef"}]`)))
	batch := bytes.Repeat(frame, 64)
	start := make(chan int)
	slowPings := `0{"sid":"bench","upgrades":[],"pingInterval":300000,"pingTimeout":300000,"maxPayload":1000000}`
	srv := wsServerOpen(b, slowPings, func(conn net.Conn, _ *bufio.ReadWriter) {
		// Answer the CONNECT, then write frames on demand.
		if _, _, err := wsutil.ReadClientData(conn); err != nil {
			return
		}
		if err := wsutil.WriteServerText(conn, []byte(`40{"sid":"bench"}`)); err != nil {
			return
		}
		for n := range start {
			for ; n >= 64; n -= 64 {
				if _, err := conn.Write(batch); err != nil {
					return
				}
			}
			if _, err := conn.Write(batch[:n*len(frame)]); err != nil {
				return
			}
		}
	})
	var count atomic.Int64
	target := make(chan int64, 1)
	done := make(chan struct{}, 1)
	tick := func() {
		n := count.Add(1)
		select {
		case t := <-target:
			if n >= t {
				done <- struct{}{}
			} else {
				target <- t
			}
		default:
		}
	}
	d := &client.Dialer{}
	if raw {
		d.OnRawMessage = func(data []byte, _ bool) bool {
			if len(data) > 0 && data[0] == '2' {
				tick()
				return true
			}
			return false
		}
	}
	ctx := context.Background()
	conn, err := d.Dial(ctx, srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	s := conn.Socket("/")
	s.On("tick", func(args client.Args, _ client.Ack) {
		if args.Len() != 1 {
			b.Error("bad args")
		}
		tick()
	})
	if err := s.Connect(ctx, nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	b.ResetTimer()
	target <- int64(b.N)
	start <- b.N
	<-done
	b.StopTimer()
	close(start)
}

func BenchmarkReceiveRaw(b *testing.B)     { benchmarkReceive(b, true) }
func BenchmarkReceiveDecoded(b *testing.B) { benchmarkReceive(b, false) }

// BenchmarkEmit measures Emit over websocket to a server that reads and drops the frames.
func BenchmarkEmit(b *testing.B) {
	slowPings := `0{"sid":"bench","upgrades":[],"pingInterval":300000,"pingTimeout":300000,"maxPayload":1000000}`
	srv := wsServerOpen(b, slowPings, func(conn net.Conn, rw *bufio.ReadWriter) {
		if _, _, err := wsutil.ReadClientData(conn); err != nil {
			return
		}
		if err := wsutil.WriteServerText(conn, []byte(`40{"sid":"bench"}`)); err != nil {
			return
		}
		drain(conn, rw)
	})
	ctx := context.Background()
	conn, err := client.Dial(ctx, srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	s := conn.Socket("/")
	if err := s.Connect(ctx, nil); err != nil {
		b.Fatal(err)
	}
	payload := map[string]any{"id": "o1", "status": "ready"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Emit("order_update", payload); err != nil {
			b.Fatal(err)
		}
	}
}
