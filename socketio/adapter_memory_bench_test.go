package socketio

import (
	"runtime"
	"testing"
)

// BenchmarkMemoryAdapterHeap reports the live heap the MemoryAdapter's index holds per socket
// for the service's typical socket: in its own room, in a room of its own (a user's) and in
// one room that all 10,000 sockets share (a restaurant's, at the benchmarks' scale). The
// sockets and the room names exist before the first measurement, so only the index is
// counted: room map entries, the shared room's set, the id index and the list of all
// sockets. Each iteration builds the index, with new sockets, from scratch.
func BenchmarkMemoryAdapterHeap(b *testing.B) {
	const n = 10_000
	var perSocket float64
	for b.Loop() {
		sockets := make([]*Socket, n)
		rooms := make([][]string, n)
		for i := range sockets {
			s := &Socket{id: newSocketID()}
			s.state.Store(stateConnected) // a connecting socket's own room is not indexed yet
			sockets[i] = s
			rooms[i] = []string{s.id, "user:" + s.id, "restaurant:1"}
		}
		runtime.GC() // with heapInUse's, two: the second frees what the first's sweep left
		before := heapInUse()
		a := NewMemoryAdapter(otherNamespace{})
		for i, s := range sockets {
			a.AddAll(s, rooms[i])
		}
		runtime.GC()
		after := heapInUse()
		if got := a.socketCount(); got != n {
			b.Fatalf("%d sockets indexed, want %d", got, n)
		}
		perSocket = float64(int64(after)-int64(before)) / n
		runtime.KeepAlive(a)
		runtime.KeepAlive(rooms) // counted in before: it must not be freed before after
	}
	b.ReportMetric(perSocket, "B/socket")
}
