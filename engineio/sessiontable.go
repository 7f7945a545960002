package engineio

import (
	"hash/maphash"
	"sync"
)

// tableShards is the number of independently locked parts of a sessionTable: handshakes and
// polling requests of different sessions rarely wait for one another.
const tableShards = 32

// sessionTable maps sids to sessions. It replaces a sync.Map, which cost about 110 bytes per
// entry (a boxed key, an entry node and a share of the trie's nodes) against about 30 for a
// plain map's slot.
type sessionTable struct {
	seed   maphash.Seed
	shards [tableShards]tableShard
}

type tableShard struct {
	mu sync.RWMutex
	m  map[string]*Session
	_  [32]byte // keeps shards on separate cache lines
}

func newSessionTable() *sessionTable {
	t := &sessionTable{seed: maphash.MakeSeed()}
	for i := range t.shards {
		t.shards[i].m = make(map[string]*Session)
	}
	return t
}

func (t *sessionTable) shard(sid string) *tableShard {
	return &t.shards[maphash.String(t.seed, sid)%tableShards]
}

func (t *sessionTable) load(sid string) (*Session, bool) {
	sh := t.shard(sid)
	sh.mu.RLock()
	s, ok := sh.m[sid]
	sh.mu.RUnlock()
	return s, ok
}

func (t *sessionTable) store(s *Session) {
	sh := t.shard(s.id)
	sh.mu.Lock()
	sh.m[s.id] = s
	sh.mu.Unlock()
}

// compareAndDelete removes s under its sid if it is still the one stored there, and reports
// whether it did.
func (t *sessionTable) compareAndDelete(s *Session) bool {
	sh := t.shard(s.id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.m[s.id] != s {
		return false
	}
	delete(sh.m, s.id)
	return true
}

// each calls fn for the sessions stored now, with no lock held: fn may close sessions, which
// removes them. Like sync.Map.Range, it sees a session stored meanwhile or not.
func (t *sessionTable) each(fn func(*Session)) {
	var batch []*Session
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.RLock()
		batch = batch[:0]
		for _, s := range sh.m {
			batch = append(batch, s)
		}
		sh.mu.RUnlock()
		for j, s := range batch {
			fn(s)
			batch[j] = nil
		}
	}
}
