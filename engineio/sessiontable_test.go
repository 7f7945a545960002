package engineio

import (
	"slices"
	"testing"
)

// Sessions whose sids share a hash are still told apart: each is found by its own sid, removed
// on its own, and listed once.
func TestSessionTableHashCollisions(t *testing.T) {
	tab := newSessionTable()
	tab.hash = func(string) uint64 { return 7 } // every sid collides
	a, b, c := &Session{id: "a"}, &Session{id: "b"}, &Session{id: "c"}
	for _, s := range []*Session{a, b, c} {
		tab.store(s)
	}
	for _, s := range []*Session{a, b, c} {
		if got, ok := tab.load(s.id); !ok || got != s {
			t.Fatalf("load(%q) = %p, %v; want %p", s.id, got, ok, s)
		}
	}
	if _, ok := tab.load("d"); ok {
		t.Fatal("load of an unknown sid with a known hash found a session")
	}
	if tab.compareAndDelete(&Session{id: "b"}) {
		t.Fatal("compareAndDelete removed another session of the same sid")
	}
	if !tab.compareAndDelete(a) || tab.compareAndDelete(a) {
		t.Fatal("compareAndDelete(a) must succeed once")
	}
	if _, ok := tab.load("a"); ok {
		t.Fatal("a found after removal")
	}
	if got, ok := tab.load("b"); !ok || got != b {
		t.Fatal("b lost when a was removed")
	}
	var ids []string
	tab.each(func(s *Session) { ids = append(ids, s.id) })
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"b", "c"}) {
		t.Fatalf("each listed %v, want [b c]", ids)
	}
	if !tab.compareAndDelete(b) || !tab.compareAndDelete(c) {
		t.Fatal("overflowed sessions not removed")
	}
	sh, _ := tab.shard("x")
	if n := sh.sessions.Len(); n != 0 {
		t.Fatalf("shard not empty: %d sessions", n)
	}
}
