package resp

import (
	"bytes"
	"testing"
	"time"
)

// BenchmarkReceive receives pmessages as a pattern subscription brings them: a 200-byte
// broadcast each, many in one read. It must not allocate.
func BenchmarkReceive(b *testing.B) {
	one := push("pmessage", "socket.io#/#*", "socket.io#/#user:12345#", string(bytes.Repeat([]byte{'x'}, 200)))
	s := newMemSubscriber(bytes.Repeat(one, 100), 1<<20, true)
	b.SetBytes(int64(len(one)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := s.Receive(time.Time{})
		if err != nil || m.Kind != KindPMessage {
			b.Fatalf("%s %v", m.Kind, err)
		}
	}
}

// Receive of a pmessage allocates nothing: what BenchmarkReceive measures, as a test.
func TestReceiveAllocatesNothing(t *testing.T) {
	one := push("pmessage", "socket.io#/#*", "socket.io#/#user:12345#", string(bytes.Repeat([]byte{'x'}, 200)))
	s := newMemSubscriber(bytes.Repeat(one, 100), 1<<20, true)
	allocs := testing.AllocsPerRun(1000, func() {
		if m, err := s.Receive(time.Now().Add(time.Second)); err != nil || m.Kind != KindPMessage {
			t.Fatalf("%s %v", m.Kind, err)
		}
	})
	if allocs != 0 {
		t.Errorf("Receive of a pmessage: %v allocations, want 0", allocs)
	}
}
