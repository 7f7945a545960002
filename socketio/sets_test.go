package socketio

import (
	"slices"
	"strconv"
	"testing"
)

// TestSocketSet checks the set across its change from a searched slice to an indexed one.
func TestSocketSet(t *testing.T) {
	var set socketSet
	socks := make([]*Socket, 3*smallSet)
	for i := range socks {
		socks[i] = &Socket{id: strconv.Itoa(i)}
	}
	for n := range socks {
		set.add(socks[n])
		set.add(socks[n]) // a second add changes nothing
		if len(set.list) != n+1 || (set.index == nil) != (n+1 <= smallSet) {
			t.Fatalf("after %d adds: %d listed, index %v", n+1, len(set.list), set.index != nil)
		}
	}
	// Remove every other socket, then check what is left against the list and the index.
	for i := 0; i < len(socks); i += 2 {
		set.remove(socks[i])
		set.remove(socks[i])
	}
	for i, s := range socks {
		if set.has(s) != (i%2 == 1) {
			t.Errorf("has(%d) = %v", i, set.has(s))
		}
	}
	for i, s := range set.list {
		if set.index[s] != i {
			t.Errorf("index of %s = %d, listed at %d", s.id, set.index[s], i)
		}
	}
	if len(set.list) != len(socks)/2 || len(set.index) != len(set.list) {
		t.Errorf("%d listed, %d indexed, want %d", len(set.list), len(set.index), len(socks)/2)
	}

	var small socketSet
	small.add(socks[0])
	small.add(socks[1])
	small.remove(socks[0])
	if small.has(socks[0]) || !small.has(socks[1]) || len(small.list) != 1 {
		t.Errorf("small set %v", small.list)
	}
}

// TestRoomSet checks the set of a socket's rooms across its change from a slice to a map.
func TestRoomSet(t *testing.T) {
	var r roomSet
	var want []string
	for i := range 3 * smallSet {
		room := "r" + strconv.Itoa(i)
		if r.has(room) {
			t.Fatalf("has(%s) before the add", room)
		}
		r.add(room)
		want = append(want, room)
		if !r.has(room) || r.len() != i+1 {
			t.Fatalf("after adding %s: has %v, len %d", room, r.has(room), r.len())
		}
		if got := slices.Sorted(r.all()); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Fatalf("all() = %v, want %v", got, want)
		}
		if (r.many != nil) != (i+1 > smallSet) {
			t.Fatalf("after %d rooms: map %v", i+1, r.many != nil)
		}
	}
	if !r.del("r3") || r.del("r3") || r.has("r3") || r.len() != 3*smallSet-1 {
		t.Errorf("del on the map form: len %d", r.len())
	}

	var few roomSet
	few.add("a")
	few.add("b")
	few.add("c")
	if !few.del("a") || few.del("a") || few.has("a") || !few.has("b") || !few.has("c") || few.len() != 2 {
		t.Errorf("del on the slice form: %v", few.few)
	}
}

// TestMembership checks a socket's rooms across the inline slots and the roomSet beyond them
// (in the socket's extra): adds, deletes from either part (a delete frees an inline slot for
// the next add), and the empty room name, which must count as a room like any other.
func TestMembership(t *testing.T) {
	s := &Socket{id: "s"}
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[string]bool{}
	check := func(step string) {
		t.Helper()
		got := s.roomsLocked(nil)
		slices.Sort(got)
		var w []string
		for r := range want {
			w = append(w, r)
		}
		slices.Sort(w)
		if !slices.Equal(got, w) || s.roomCountLocked() != len(w) {
			t.Fatalf("%s: rooms %q, count %d, want %q", step, got, s.roomCountLocked(), w)
		}
		for r := range want {
			if !s.inRoomLocked(r) {
				t.Fatalf("%s: inRoom(%q) = false", step, r)
			}
		}
		if s.inRoomLocked("absent") {
			t.Fatalf("%s: inRoom(absent)", step)
		}
	}
	check("none")
	if s.extra.Load() != nil {
		t.Fatal("extra allocated by reading the rooms")
	}
	for _, r := range []string{"", "a", "b", "c"} {
		s.addRoomLocked(r)
		want[r] = true
		check("add " + r)
	}
	if x := s.extra.Load(); s.mem.n != inlineRooms || x == nil || x.rooms.len() != 2 {
		t.Fatalf("4 rooms: %d inline, extra %v", s.mem.n, x)
	}
	if s.delRoomLocked("absent") {
		t.Fatal("del(absent) = true")
	}
	for _, r := range []string{"", "c"} { // one inline, one beyond
		if !s.delRoomLocked(r) || s.delRoomLocked(r) {
			t.Fatalf("del(%q) twice: want true, then false", r)
		}
		delete(want, r)
		check("del " + r)
	}
	s.addRoomLocked("d") // into the freed inline slot
	want["d"] = true
	check("add d")
	if s.mem.n != inlineRooms {
		t.Errorf("after refilling: %d inline", s.mem.n)
	}
}
