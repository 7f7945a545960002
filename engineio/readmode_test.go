package engineio

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/gobwas/ws"
	"github.com/tomato-code/realtime/internal/testutil"
)

// TestGoroutineReadPath runs the websocket tests on the portable read path (ReadGoroutine);
// every other test runs on the default one.
func TestGoroutineReadPath(t *testing.T) {
	if testReadMode == ReadGoroutine {
		t.Skip("the whole suite runs with ReadGoroutine")
	}
	tests := []struct {
		name string
		f    func(*testing.T)
	}{
		{"HandshakeWebSocket", TestHandshakeWebSocket},
		{"WebSocketEcho", TestWebSocketEcho},
		{"WebSocketClosedByClientFrame", TestWebSocketClosedByClientFrame},
		{"WebSocketBadInput", TestWebSocketBadInput},
		{"WebSocketFloodOfTinyPackets", TestWebSocketFloodOfTinyPackets},
		{"WebSocketHeartbeat", TestWebSocketHeartbeat},
		{"PongDeadlineExtendedOnce", TestPongDeadlineExtendedOnce},
		{"SessionCloseFlushesFirst", TestSessionCloseFlushesFirst},
		{"Shutdown", TestShutdown},
		{"Upgrade", TestUpgrade},
		{"UpgradeAborted", TestUpgradeAborted},
		{"UpgradeUnderLoad", TestUpgradeUnderLoad},
		{"WebSocketCloseRaces", TestWebSocketCloseRaces},
	}
	testReadMode = ReadGoroutine
	defer func() { testReadMode = ReadPoller }()
	for _, tt := range tests {
		t.Run(tt.name, tt.f)
	}
}

// Many sessions end at once in every way there is (the client closes, the client sends a
// close packet, the server closes, the client sends garbage) while messages flow both ways:
// each session's OnClose comes once, after its messages, and every session is gone at the end.
func TestWebSocketCloseRaces(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, true)
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		c, r := openWS(t, ts)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				c.conn.Write(clientFrame(ws.OpText, true, fmt.Appendf(nil, "4%d", j)))
				r.s.Send(NewTextMessage([]byte("x")))
			}
			switch i % 4 {
			case 0:
				c.conn.Close()
			case 1:
				c.conn.Write(clientFrame(ws.OpText, true, []byte("1")))
			case 2:
				r.s.Close()
			case 3:
				c.conn.Write([]byte{0x81, 0x01, 'x'}) // unmasked
			}
		}()
		defer func() {
			r.waitClose(t)
			if c := r.calls.Load(); c != 1 {
				t.Errorf("OnClose called %d times", c)
			}
			// Messages arrive in order, up to where the session ended.
			for j := 0; ; j++ {
				select {
				case m := <-r.msgs:
					if m.data != fmt.Sprint(j) {
						t.Fatalf("message %d = %q", j, m.data)
					}
					continue
				default:
				}
				break
			}
		}()
	}
	wg.Wait()
	eventually(t, "every session to end", func() bool { return ts.SessionCount() == 0 })
}

// bigFlood returns n text frames of size bytes each, numbered.
func bigFlood(n, size int) []byte {
	var all []byte
	for i := range n {
		p := append(fmt.Appendf(nil, "4%06d", i), bytes.Repeat([]byte{'z'}, size-7)...)
		all = append(all, clientFrame(ws.OpText, true, p)...)
	}
	return all
}
