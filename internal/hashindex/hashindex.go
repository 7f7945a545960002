// Package hashindex maps string keys to values that know their own key, by the key's 64-bit
// hash rather than by the key. A slot of such a map is 16 bytes (hash, pointer) instead of 24
// (string header, pointer), which matters for indexes with an entry per connection (engine.io
// sessions by sid, socket.io sockets by id): about 15 bytes per entry with the map's spare
// slots. Callers usually have the hash already, from choosing a shard.
//
// Two keys with one hash (with a random seed and 64 bits, not expected ever to happen) are
// still told apart: a lookup checks the value's own key, and the second value goes to an
// overflow map keyed by its key.
package hashindex

import "iter"

// Keyed is a value that knows its key.
type Keyed interface {
	comparable
	ID() string
}

// Index maps keys to values by the keys' hashes. The zero Index is empty and ready to use; it
// is not safe for concurrent use.
type Index[V Keyed] struct {
	byHash map[uint64]V
	more   map[string]V // values whose key's hash another value holds in byHash; nil while empty
}

// Get returns the value whose key is key, of hash h, or the zero value.
func (x *Index[V]) Get(h uint64, key string) V {
	if v, ok := x.byHash[h]; ok && v.ID() == key {
		return v
	}
	return x.more[key]
}

// Put stores v, whose key has hash h, replacing a value of the same key.
func (x *Index[V]) Put(h uint64, v V) {
	if cur, ok := x.byHash[h]; !ok || cur.ID() == v.ID() {
		if x.byHash == nil {
			x.byHash = make(map[uint64]V)
		}
		x.byHash[h] = v
		return
	}
	if x.more == nil {
		x.more = make(map[string]V)
	}
	x.more[v.ID()] = v
}

// Delete removes v, whose key has hash h, if it is the value stored for its key, and reports
// whether it did.
func (x *Index[V]) Delete(h uint64, v V) bool {
	if cur, ok := x.byHash[h]; ok && cur == v {
		delete(x.byHash, h)
		return true
	}
	if cur, ok := x.more[v.ID()]; ok && cur == v {
		delete(x.more, v.ID())
		if len(x.more) == 0 {
			x.more = nil
		}
		return true
	}
	return false
}

// Len returns the number of values stored.
func (x *Index[V]) Len() int { return len(x.byHash) + len(x.more) }

// All yields the values stored, in no particular order.
func (x *Index[V]) All() iter.Seq[V] {
	return func(yield func(V) bool) {
		for _, v := range x.byHash {
			if !yield(v) {
				return
			}
		}
		for _, v := range x.more {
			if !yield(v) {
				return
			}
		}
	}
}
