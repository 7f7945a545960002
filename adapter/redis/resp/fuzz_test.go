package resp

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"
)

// FuzzReceive feeds any bytes to Receive, whole and in chunks of every size from 1 byte: it
// never panics, it ends (each Receive consumes something or fails), it does not allocate much
// more than it was given, and how the bytes were cut does not change what it reads.
func FuzzReceive(f *testing.F) {
	for _, seed := range [][]byte{
		push("message", "ch", "payload"),
		push("pmessage", "p*", "pch", "\x93\xa1x\x80\xc0"),
		[]byte("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"),
		[]byte("*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"),
		[]byte("*2\r\n$4\r\npong\r\n$0\r\n\r\n+PONG\r\n"),
		[]byte("-NOPERM no\r\n" + string(push("message", "a", "b"))),
		[]byte("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$536870912\r\n"),
		[]byte("*4\r\n$8\r\npmessage\r\n$-1\r\n$1\r\nx\r\n$1\r\nx\r\n"),
		[]byte("*3\r\n$7\r\nmessage\r\n$999999999999999999\r\n"),
		[]byte("+OK\r\n"),
	} {
		f.Add(seed, uint8(1))
		f.Add(seed, uint8(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		whole := readAll(t, data, len(data)+1)
		cut := readAll(t, data, int(chunk)+1)
		if whole != cut {
			t.Fatalf("read whole:\n%s\nread in chunks of %d:\n%s", whole, int(chunk)+1, cut)
		}
	})
}

// readAll receives from data, read in chunks of chunk bytes, until an error, and describes
// what it received.
func readAll(t *testing.T, data []byte, chunk int) string {
	s := newMemSubscriber(data, chunk, false)
	var out bytes.Buffer
	for i := 0; ; i++ {
		if i > len(data) {
			t.Fatalf("%d messages from %d bytes", i, len(data))
		}
		m, err := s.Receive(time.Time{})
		if len(s.buf) > 2*max(len(data), ReadBufferSize) {
			t.Fatalf("a buffer of %d bytes for %d bytes of input", len(s.buf), len(data))
		}
		var re *Error
		switch {
		case errors.As(err, &re):
			fmt.Fprintf(&out, "error %q\n", re.Text)
		case errors.Is(err, ErrProtocol):
			fmt.Fprintf(&out, "protocol error\n")
			return out.String()
		case err != nil:
			fmt.Fprintf(&out, "end %v\n", err)
			return out.String()
		default:
			fmt.Fprintf(&out, "%s %q %q %q %d\n", m.Kind, m.Pattern, m.Channel, m.Payload, m.Count)
		}
	}
}
