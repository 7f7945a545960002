package engineio

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/gobwas/ws"
)

// parseAll feeds data to a frameParser in reads of at most chunk bytes, through one scratch
// buffer overwritten after every read as the poller's buffer is, and returns the data messages.
func parseAll(data []byte, chunk int, max int64) (msgs []string, err error) {
	var p frameParser
	scratch := make([]byte, max1(chunk))
	for len(data) > 0 && err == nil {
		n := copy(scratch, data)
		data = data[n:]
		err = p.feed(scratch[:n], max, func(op ws.OpCode, msg []byte, owned bool) {
			if op == ws.OpText || op == ws.OpBinary {
				msgs = append(msgs, string(msg))
			}
		})
		for i := range scratch {
			scratch[i] = 0xAA // a view kept past feed would see this
		}
	}
	return msgs, err
}

func TestFrameParserChunks(t *testing.T) {
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
	stream = append(stream, clientFrame(ws.OpPing, true, nil)...)
	stream = append(stream, clientFrame(ws.OpContinuation, true, []byte("cd"))...)
	want = append(want, "4abcd")
	for _, chunk := range []int{1, 2, 3, 7, 13, 14, 15, 100, 4095, 4096, 1 << 20} {
		msgs, err := parseAll(stream, chunk, 1<<20)
		if err != nil {
			t.Errorf("chunk %d: %v", chunk, err)
		}
		if len(msgs) != len(want) {
			t.Fatalf("chunk %d: %d messages, want %d", chunk, len(msgs), len(want))
		}
		for i := range want {
			if msgs[i] != want[i] {
				t.Errorf("chunk %d: message %d has %d bytes %.8q, want %d", chunk, i, len(msgs[i]), msgs[i], len(want[i]))
			}
		}
	}
}

// A frame whose header arrives in pieces and which has no payload is complete as soon as its
// last header byte is in, even when no byte follows.
func TestFrameParserEmptyFrameSplitHeader(t *testing.T) {
	t.Parallel()
	f := clientFrame(ws.OpBinary, true, nil)
	var p frameParser
	var got int
	emit := func(op ws.OpCode, msg []byte, owned bool) { got++ }
	for i := range f {
		if err := p.feed(f[i:i+1], 100, emit); err != nil {
			t.Fatal(err)
		}
	}
	if got != 1 || p.partial != nil {
		t.Errorf("%d messages, partial %v", got, p.partial)
	}
}

// The parser grows its copy of a large frame as the bytes come, not to the announced size.
func TestFrameParserGrowsWithData(t *testing.T) {
	t.Parallel()
	f := clientFrame(ws.OpBinary, true, make([]byte, 500_000))
	var p frameParser
	const max = 1 << 20
	emit := func(ws.OpCode, []byte, bool) {}
	if err := p.feed(append([]byte(nil), f[:100]...), max, emit); err != nil {
		t.Fatal(err)
	}
	if c := cap(p.partial); c > 1000 {
		t.Errorf("%d bytes held after a 100-byte read of a 500 kB frame", c)
	}
}

// FuzzFrameParser checks the poller's parser against the goroutine path's reader: the same
// bytes, read in pieces of any size, yield the same messages, and a protocol violation in
// one is one in the other.
func FuzzFrameParser(f *testing.F) {
	f.Add(clientFrame(ws.OpText, true, []byte("4hello")), 3, 1)
	f.Add(append(clientFrame(ws.OpText, false, []byte("4he")), clientFrame(ws.OpContinuation, true, []byte("llo"))...), 1, 2)
	f.Add(clientFrame(ws.OpBinary, true, make([]byte, 300)), 64, 7)
	f.Add([]byte{0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}, 5, 5)
	f.Add([]byte{0x81, 0x02, '4', 'x'}, 2, 2)
	f.Fuzz(func(t *testing.T, data []byte, readChunk, parseChunk int) {
		const max = 1000
		want, rerr := readAllFrames(data, readChunk%5000, max)
		got, perr := parseAll(data, parseChunk%5000, max)
		violation := func(err error) bool {
			return err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF)
		}
		if violation(rerr) != (perr != nil) {
			t.Fatalf("reader: %v, parser: %v", rerr, perr)
		}
		if len(got) != len(want) {
			t.Fatalf("parser: %d messages, reader: %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("message %d: parser %q, reader %q", i, got[i], want[i])
			}
		}
	})
}
