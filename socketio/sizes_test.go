package socketio

import (
	"testing"
	"unsafe"
)

// An idle server holds, per client, a conn and a Socket: their layouts
// are chosen to fit the runtime's size classes, and a field added in the wrong place moves
// every client to the next class. These tests fail when that happens; move the field, or
// behind a pointer such as Socket.extra, rather than raising the limit.
func TestSocketFitsItsSizeClass(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layout is measured for 64-bit platforms")
	}
	for _, c := range []struct {
		name      string
		size, max uintptr
	}{
		{"Socket", unsafe.Sizeof(Socket{}), 128},
		{"conn", unsafe.Sizeof(conn{}), 64},
	} {
		if c.size > c.max {
			t.Errorf("%s is %d bytes, more than the %d-byte size class", c.name, c.size, c.max)
		}
	}
}

// The MemoryAdapter's shards fill a cache line each, so that locking one does not slow
// broadcasts on its neighbours.
func TestRoomShardFillsACacheLine(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layout is measured for 64-bit platforms")
	}
	if n := unsafe.Sizeof(roomShard{}); n != 64 {
		t.Errorf("roomShard is %d bytes, not a 64-byte cache line", n)
	}
}
