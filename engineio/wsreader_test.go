package engineio

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// chunkConn serves its bytes in reads of at most chunk bytes: frames then cross read
// boundaries everywhere.
type chunkConn struct {
	net.Conn // nil: only Read is used
	data     []byte
	chunk    int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.chunk, len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

func (c *chunkConn) SetReadDeadline(time.Time) error { return nil }

func readAllFrames(data []byte, chunk int, max int64) (msgs []string, err error) {
	fr := newFrameReader(&chunkConn{data: data, chunk: max1(chunk)}, nil, max)
	for {
		op, p, err := fr.next()
		if err != nil {
			return msgs, err
		}
		if op == ws.OpText || op == ws.OpBinary {
			msgs = append(msgs, string(p))
		}
	}
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

func TestFrameReaderChunks(t *testing.T) {
	t.Parallel()
	var stream []byte
	var want []string
	for i, n := range []int{0, 1, 125, 126, 4000, 4096, 5000, 65536, 70000} {
		p := bytes.Repeat([]byte{byte('a' + i)}, n)
		stream = append(stream, clientFrame(ws.OpBinary, true, p)...)
		stream = append(stream, clientFrame(ws.OpPing, true, []byte("x"))...)
		want = append(want, string(p))
	}
	stream = append(stream, clientFrame(ws.OpText, false, []byte("4ab"))...)
	stream = append(stream, clientFrame(ws.OpContinuation, true, []byte("cd"))...)
	want = append(want, "4abcd")
	for _, chunk := range []int{1, 2, 3, 7, 100, 4095, 4096, 1 << 20} {
		msgs, err := readAllFrames(stream, chunk, 1<<20)
		if err != io.EOF {
			t.Errorf("chunk %d: %v", chunk, err)
		}
		if len(msgs) != len(want) {
			t.Fatalf("chunk %d: %d messages, want %d", chunk, len(msgs), len(want))
		}
		for i := range want {
			if msgs[i] != want[i] {
				t.Errorf("chunk %d: message %d has %d bytes, want %d", chunk, i, len(msgs[i]), len(want[i]))
			}
		}
	}
}

func FuzzFrameReader(f *testing.F) {
	f.Add(clientFrame(ws.OpText, true, []byte("4hello")), 3)
	f.Add(append(clientFrame(ws.OpText, false, []byte("4he")), clientFrame(ws.OpContinuation, true, []byte("llo"))...), 1)
	f.Add(clientFrame(ws.OpBinary, true, make([]byte, 300)), 64)
	f.Add([]byte{0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}, 5)
	f.Add([]byte{0x81, 0x02, '4', 'x'}, 2)
	f.Fuzz(func(t *testing.T, data []byte, chunk int) {
		const max = 1000
		msgs, err := readAllFrames(data, chunk%5000, max)
		if err == nil {
			t.Fatal("reader ended without error")
		}
		for _, m := range msgs {
			if len(m) > max {
				t.Fatalf("message of %d bytes over the %d limit", len(m), max)
			}
		}
	})
}
