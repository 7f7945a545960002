package engineio

import (
	"hash/maphash"
	"sync"

	"github.com/tomato-code/realtime/internal/hashindex"
)

// tableShards is the number of independently locked parts of a sessionTable: handshakes and
// polling requests of different sessions rarely wait for one another.
const tableShards = 32

// sessionTable maps sids to sessions. It replaces a sync.Map, which cost about 110 bytes per
// entry (a boxed key, an entry node and a share of the trie's nodes). Its shards are keyed by
// the sid's hash, the one that chose the shard (hashindex): about 28 bytes per session.
type sessionTable struct {
	seed   maphash.Seed
	shards [tableShards]tableShard
	hash   func(sid string) uint64 // tests' colliding hash; nil: maphash with seed
}

type tableShard struct {
	mu       sync.RWMutex
	sessions hashindex.Index[*Session]
	_        [24]byte // keeps shards on separate cache lines
}

func newSessionTable() *sessionTable {
	return &sessionTable{seed: maphash.MakeSeed()}
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
	s := sh.sessions.Get(h, sid)
	sh.mu.RUnlock()
	return s, s != nil
}

func (t *sessionTable) store(s *Session) {
	sh, h := t.shard(s.id)
	sh.mu.Lock()
	sh.sessions.Put(h, s)
	sh.mu.Unlock()
}

// compareAndDelete removes s under its sid if it is still the one stored there, and reports
// whether it did.
func (t *sessionTable) compareAndDelete(s *Session) bool {
	sh, h := t.shard(s.id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.sessions.Delete(h, s)
}

// each calls fn for the sessions stored now, with no lock held: fn may close sessions, which
// removes them. Like sync.Map.Range, it sees a session stored meanwhile or not.
func (t *sessionTable) each(fn func(*Session)) {
	var batch []*Session
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.RLock()
		batch = batch[:0]
		for s := range sh.sessions.All() {
			batch = append(batch, s)
		}
		sh.mu.RUnlock()
		for j, s := range batch {
			fn(s)
			batch[j] = nil
		}
	}
}
