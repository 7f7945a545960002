package engineio

import (
	"hash/maphash"
	"sync"
)

// tableShards is the number of independently locked parts of a sessionTable: handshakes and
// polling requests of different sessions rarely wait for one another.
const tableShards = 32

// sessionTable maps sids to sessions. It replaces a sync.Map, which cost about 110 bytes per
// entry (a boxed key, an entry node and a share of the trie's nodes). Its maps are keyed by
// the sid's 64-bit hash rather than the sid (the session holds the sid): a slot of 16 bytes
// instead of 24, about 28 bytes per session instead of 42. Two sids with one hash (about one
// chance in 10^8 among a million sessions) are told apart by the session's own sid, the
// second one going to the shard's overflow map.
type sessionTable struct {
	seed   maphash.Seed
	shards [tableShards]tableShard
	hash   func(sid string) uint64 // tests' colliding hash; nil: maphash with seed
}

type tableShard struct {
	mu       sync.RWMutex
	m        map[uint64]*Session
	overflow map[string]*Session // sids whose hash another session holds in m; usually nil
	_        [24]byte            // keeps shards on separate cache lines
}

func newSessionTable() *sessionTable {
	t := &sessionTable{seed: maphash.MakeSeed()}
	for i := range t.shards {
		t.shards[i].m = make(map[uint64]*Session)
	}
	return t
}

func (t *sessionTable) shard(sid string) (*tableShard, uint64) {
	var h uint64
	if t.hash != nil {
		h = t.hash(sid)
	} else {
		h = maphash.String(t.seed, sid)
	}
	return &t.shards[h%tableShards], h
}

func (t *sessionTable) load(sid string) (*Session, bool) {
	sh, h := t.shard(sid)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if s, ok := sh.m[h]; ok && s.id == sid {
		return s, true
	}
	s, ok := sh.overflow[sid]
	return s, ok
}

func (t *sessionTable) store(s *Session) {
	sh, h := t.shard(s.id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.m[h]; ok && old.id != s.id {
		if sh.overflow == nil {
			sh.overflow = make(map[string]*Session)
		}
		sh.overflow[s.id] = s
		return
	}
	sh.m[h] = s
}

// compareAndDelete removes s under its sid if it is still the one stored there, and reports
// whether it did.
func (t *sessionTable) compareAndDelete(s *Session) bool {
	sh, h := t.shard(s.id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.m[h] == s {
		delete(sh.m, h)
		return true
	}
	if sh.overflow[s.id] == s {
		delete(sh.overflow, s.id)
		if len(sh.overflow) == 0 {
			sh.overflow = nil
		}
		return true
	}
	return false
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
		for _, s := range sh.overflow {
			batch = append(batch, s)
		}
		sh.mu.RUnlock()
		for j, s := range batch {
			fn(s)
			batch[j] = nil
		}
	}
}
