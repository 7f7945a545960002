package client

import (
	"bufio"
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// discardConn is a net.Conn that takes every write (pongs, close replies) and does nothing else.
type discardConn struct{ net.Conn }

func (discardConn) Write(b []byte) (int, error)      { return len(b), nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }
func (discardConn) SetReadDeadline(time.Time) error  { return nil }
func (discardConn) Close() error                     { return nil }

// FuzzReadPacket feeds arbitrary server bytes to the websocket frame reader: it must return
// packets or an error, never panic, and never hold more than maxMessage bytes.
func FuzzReadPacket(f *testing.F) {
	frame := func(fr ws.Frame) []byte { return ws.MustCompileFrame(fr) }
	f.Add(frame(ws.NewTextFrame([]byte(`42["a",1]`))))
	f.Add(frame(ws.NewBinaryFrame([]byte{1, 2, 3})))
	f.Add(append(frame(ws.NewFrame(ws.OpText, false, []byte("4"))), frame(ws.NewFrame(ws.OpContinuation, true, []byte("2[\"x\"]")))...))
	f.Add(append(frame(ws.NewPingFrame([]byte("hi"))), frame(ws.NewTextFrame([]byte("2")))...))
	f.Add(frame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye"))))
	f.Add(frame(ws.MaskFrame(ws.NewTextFrame([]byte("3")))))
	f.Add([]byte{0x81, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxMessage = 1 << 12
		tr := &wsTransport{
			conn:         discardConn{},
			r:            bufio.NewReader(bytes.NewReader(data)),
			maxMessage:   maxMessage,
			writeTimeout: time.Second,
		}
		for i := 0; i < 1000; i++ {
			p, err := tr.readPacket()
			if err != nil {
				return
			}
			if len(p.Data) > maxMessage || cap(tr.rbuf) > 2*maxMessage+512 {
				t.Fatalf("message of %d bytes (buffer %d) passed a limit of %d", len(p.Data), cap(tr.rbuf), maxMessage)
			}
			if !p.Type.Valid() {
				t.Fatalf("invalid packet type %q", p.Type)
			}
		}
	})
}
