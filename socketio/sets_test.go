package socketio

import (
	"slices"
	"strconv"
	"testing"
)

// TestSocketSet checks the set across its change from a searched slice to an indexed one,
// with members that keep their position themselves (those no other set claimed first) and
// members that the set's index keeps (every third socket, claimed by another set).
func TestSocketSet(t *testing.T) {
	var set, other socketSet
	socks := make([]*Socket, 3*smallSet)
	for i := range socks {
		socks[i] = &Socket{id: strconv.Itoa(i)}
		if i%3 == 0 {
			other.add(socks[i])
		}
	}
	check := func(step string, members func(i int) bool) {
		t.Helper()
		for i, s := range socks {
			pos := set.find(s)
			if members(i) != (pos >= 0) || (pos >= 0 && set.list[pos] != s) {
				t.Fatalf("%s: socket %d found at %d, member %v", step, i, pos, members(i))
			}
			owner := s.mem.set.Load()
			if members(i) && owner != &set && owner != &other {
				t.Fatalf("%s: socket %d keeps its position for %p", step, i, owner)
			}
			// Below smallSet members are searched for, and none are indexed.
			wantIndexed := members(i) && owner != &set && set.index != nil
			if _, indexed := set.index[s]; indexed != wantIndexed {
				t.Fatalf("%s: socket %d indexed %v, member %v", step, i, indexed, members(i))
			}
			if other.find(s) >= 0 != (i%3 == 0) {
				t.Fatalf("%s: socket %d in the other set: %v", step, i, other.find(s) >= 0)
			}
		}
	}
	for n := range socks {
		set.add(socks[n])
		set.add(socks[n]) // a second add changes nothing
		if len(set.list) != n+1 || (set.index == nil) != (n+1 <= smallSet) {
			t.Fatalf("after %d adds: %d listed, index %v", n+1, len(set.list), set.index != nil)
		}
		check("add", func(i int) bool { return i <= n })
	}
	// Remove every other socket: removals move the last member, kept by itself or indexed.
	for i := 0; i < len(socks); i += 2 {
		set.remove(socks[i])
		set.remove(socks[i])
		check("remove", func(j int) bool { return j%2 == 1 || j > i })
	}
	for i := 0; i < len(socks); i += 2 {
		if socks[i].mem.set.Load() == &set {
			t.Fatalf("socket %d left the set and still keeps its position for it", i)
		}
	}
	if len(set.list) != len(socks)/2 {
		t.Errorf("%d listed, want %d", len(set.list), len(socks)/2)
	}

	// A set whose members all keep their own positions grows past smallSet without an
	// index; the first member that cannot then makes one.
	var own socketSet
	for i := range smallSet + 2 {
		own.add(&Socket{id: "own" + strconv.Itoa(i)})
	}
	if own.index != nil || len(own.list) <= smallSet {
		t.Fatalf("%d members keeping their positions: index %v", len(own.list), own.index)
	}
	own.add(socks[1]) // kept by set
	if own.find(socks[1]) != len(own.list)-1 || len(own.index) != 1 {
		t.Errorf("indexed member at %d, index %v", own.find(socks[1]), own.index)
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
