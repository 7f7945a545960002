package hashindex

import (
	"slices"
	"testing"
)

type item struct{ id string }

func (i *item) ID() string { return i.id }

// Values whose keys share a hash are still told apart: each is found by its own key, replaced
// and removed on its own, and listed once.
func TestCollidingKeys(t *testing.T) {
	var x Index[*item]
	const h = 7 // every key "collides"
	a, b, c := &item{"a"}, &item{"b"}, &item{"c"}
	for _, v := range []*item{a, b, c} {
		x.Put(h, v)
	}
	for _, v := range []*item{a, b, c} {
		if got := x.Get(h, v.id); got != v {
			t.Fatalf("Get(%q) = %v, want %v", v.id, got, v)
		}
	}
	if got := x.Get(h, "d"); got != nil {
		t.Fatalf("Get of an unknown key with a known hash = %v", got)
	}
	b2 := &item{"b"}
	x.Put(h, b2)
	if got := x.Get(h, "b"); got != b2 || x.Len() != 3 {
		t.Fatalf("after replacing b: Get = %v, Len = %d", got, x.Len())
	}
	if x.Delete(h, b) {
		t.Fatal("Delete removed a value that was replaced")
	}
	if !x.Delete(h, a) || x.Delete(h, a) {
		t.Fatal("Delete(a) must succeed once")
	}
	if got := x.Get(h, "b"); got != b2 {
		t.Fatal("b lost when a was removed")
	}
	var ids []string
	for v := range x.All() {
		ids = append(ids, v.id)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"b", "c"}) {
		t.Fatalf("All yielded %v, want [b c]", ids)
	}
	if !x.Delete(h, b2) || !x.Delete(h, c) || x.Len() != 0 || x.more != nil {
		t.Fatalf("not empty after removing everything: %d, %v", x.Len(), x.more)
	}
}

// Distinct hashes use the plain map only.
func TestDistinctHashes(t *testing.T) {
	var x Index[*item]
	a, b := &item{"a"}, &item{"b"}
	x.Put(1, a)
	x.Put(2, b)
	if x.Get(1, "a") != a || x.Get(2, "b") != b || x.Get(1, "b") != nil || x.more != nil {
		t.Fatal("lookups by hash and key failed")
	}
}

// Keys that share a hash, which real ids are not expected ever to do: the second is found
// through the overflow map, either can leave first, and the overflow map goes when it is
// empty.
func TestOverflowLifecycle(t *testing.T) {
	var x Index[*item]
	a, b, c := &item{id: "a"}, &item{id: "b"}, &item{id: "c"}
	x.Put(1, a)
	x.Put(1, b) // the hash of a
	x.Put(2, c)
	all := func() []string {
		var ids []string
		for s := range x.All() {
			ids = append(ids, s.id)
		}
		slices.Sort(ids)
		return ids
	}
	if x.Get(1, "a") != a || x.Get(1, "b") != b || x.Get(2, "c") != c || x.Get(1, "c") != nil || x.Get(3, "a") != nil {
		t.Fatalf("lookups: a %p b %p c %p, c under a's hash %p, a under another %p",
			x.Get(1, "a"), x.Get(1, "b"), x.Get(2, "c"), x.Get(1, "c"), x.Get(3, "a"))
	}
	if got := all(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("sockets %v", got)
	}
	x.Delete(1, &item{id: "a"}) // another value of the same key: not indexed, nothing removed
	x.Delete(1, a)
	if x.Get(1, "a") != nil || x.Get(1, "b") != b || x.more == nil {
		t.Fatalf("after a left: a %p, b %p", x.Get(1, "a"), x.Get(1, "b"))
	}
	x.Delete(1, b)
	if x.Get(1, "b") != nil || x.more != nil || len(x.byHash) != 1 {
		t.Fatalf("after b left: b %p, overflow %v, %d by hash", x.Get(1, "b"), x.more, len(x.byHash))
	}
	if got := all(); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("sockets %v", got)
	}
}
