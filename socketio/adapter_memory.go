package socketio

import (
	"context"
	"hash/maphash"
	"iter"
	"maps"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tomato-code/realtime/engineio"
	"github.com/tomato-code/realtime/internal/hashindex"
	"github.com/tomato-code/realtime/socketio/parser"
)

// roomShards is the number of independently locked parts of the room index. Broadcasts only
// read-lock the shards of the rooms they name, so broadcasts to different rooms, and joins
// to rooms of other shards, do not contend.
const roomShards = 64

// MemoryAdapter is the adapter of a single server, and the local part of cluster adapters: a
// cluster adapter embeds it (or holds one), calls it for membership and for the local part of
// every operation, and adds its exchange with the other servers. Used alone, "every server"
// in the Adapter documentation means this one.
//
// The room index is sharded by room name. Each shard maps a room to its socket while it has
// one (most rooms: a user's); a room that had more maps to nil, and to its set of sockets in
// a second map (a slice for iteration without allocation, and positions for O(1) removal);
// and, in an index keyed by the id's hash (hashindex), a socket id to its socket (the
// socket's own room, stored without a set). Broadcasting encodes the packet once, on the
// first target, and hands the same messages to every target; a socket in several
// target rooms is skipped after the first, by membership checks instead of a per-broadcast
// set, so the hot path allocates nothing per recipient.
type MemoryAdapter struct {
	ns   LocalNamespace
	seed maphash.Seed

	allMu sync.RWMutex
	// all holds every socket that joined its own room, for broadcasts to everyone. Each
	// socket knows its position (Socket.memAllPos), so that it needs no index map: with one
	// entry per client, that map cost about 40 bytes per client.
	all []*Socket

	shards [roomShards]roomShard
}

type roomShard struct {
	mu sync.RWMutex
	// rooms maps each room to its socket while it has one, and to nil while its sockets are
	// in sets: a room of one socket (a user's, most often) needs no set, and an entry of one
	// pointer rather than two saved about 12 bytes per such room, with the map's spare
	// slots. A room of a broadcast is found by one lookup, as before, unless it has a set.
	rooms map[string]*Socket
	sets  map[string]*socketSet    // the rooms of two sockets or more; nil until one is
	ids   hashindex.Index[*Socket] // the sockets by id, keyed by the id's hash (the shard's)
	_     [8]byte                  // keeps shards on separate cache lines
}

// smallSet is the size up to which sets are searched linearly rather than through a map:
// most rooms hold one socket or a few (a user's, a socket's own), most sockets are in a few
// rooms, and a map costs about 200 bytes more than the slice it indexes.
const smallSet = 8

// socketSet is a set of sockets that iterates as a slice. A member's position in the slice
// is kept by the member itself for one set, the first that claims it (membership.set, most
// often the one room a socket shares with many), and by the set's index for the others:
// an index entry cost about 30 bytes per member of a big room, and the socket has room for
// a position in its size class. The set is guarded by its shard's lock.
type socketSet struct {
	list []*Socket
	// index holds the position of every member that keeps its position for another set
	// (and of no other); nil until the set grew past smallSet with such a member. Below
	// that the list is searched.
	index map[*Socket]int
}

// find returns the position of s in list, or -1.
func (set *socketSet) find(s *Socket) int {
	if s.mem.set.Load() == set {
		return int(s.mem.setPos)
	}
	if set.index != nil {
		if i, ok := set.index[s]; ok {
			return i
		}
		return -1
	}
	if len(set.list) > smallSet {
		return -1 // without an index, every member keeps its own position
	}
	return slices.Index(set.list, s)
}

func (set *socketSet) add(s *Socket) {
	if set.find(s) >= 0 {
		return
	}
	i := len(set.list)
	set.list = append(set.list, s)
	owner := s.mem.set.CompareAndSwap(nil, set)
	switch {
	case owner:
		s.mem.setPos = int32(i)
	case set.index != nil:
		set.index[s] = i
	}
	// Past smallSet the list is not searched: its members that keep no position for this
	// set need the index, once it crosses smallSet or when such a member joins afterwards.
	if set.index == nil && len(set.list) > smallSet && (!owner || len(set.list) == smallSet+1) {
		for i, x := range set.list {
			if x.mem.set.Load() != set {
				if set.index == nil {
					set.index = make(map[*Socket]int)
				}
				set.index[x] = i
			}
		}
	}
}

func (set *socketSet) remove(s *Socket) {
	i := set.find(s)
	if i < 0 {
		return
	}
	last := len(set.list) - 1
	if i != last {
		moved := set.list[last]
		set.list[i] = moved
		set.place(moved, i)
	}
	set.list[last] = nil
	set.list = set.list[:last]
	set.release(s)
}

// place records that member s is now at position i.
func (set *socketSet) place(s *Socket, i int) {
	if s.mem.set.Load() == set {
		s.mem.setPos = int32(i)
	} else if set.index != nil {
		set.index[s] = i
	}
}

// release forgets the position of s, which left the set (or the set is dropped): a socket
// that kept it can keep its position for the next set it joins.
func (set *socketSet) release(s *Socket) {
	if !s.mem.set.CompareAndSwap(set, nil) {
		delete(set.index, s)
	}
}

func (set *socketSet) has(s *Socket) bool { return set.find(s) >= 0 }

// roomSet is the set of rooms a socket joined besides its own: a slice while small, a map
// once it outgrew smallSet (a socket may join many rooms, and joins must stay O(1)).
type roomSet struct {
	few  []string
	many map[string]struct{}
}

func (r *roomSet) has(room string) bool {
	if r.many != nil {
		_, ok := r.many[room]
		return ok
	}
	return slices.Contains(r.few, room)
}

// add adds a room that is not in the set.
func (r *roomSet) add(room string) {
	if r.many == nil && len(r.few) < smallSet {
		r.few = append(r.few, room)
		return
	}
	if r.many == nil {
		r.many = make(map[string]struct{}, 2*smallSet)
		for _, x := range r.few {
			r.many[x] = struct{}{}
		}
		r.few = nil
	}
	r.many[room] = struct{}{}
}

// del removes room and reports whether it was in the set.
func (r *roomSet) del(room string) bool {
	if r.many != nil {
		_, ok := r.many[room]
		delete(r.many, room)
		return ok
	}
	i := slices.Index(r.few, room)
	if i < 0 {
		return false
	}
	last := len(r.few) - 1
	r.few[i] = r.few[last]
	r.few[last] = ""
	r.few = r.few[:last]
	return true
}

func (r *roomSet) len() int { return len(r.few) + len(r.many) }

// all returns the rooms, in no particular order.
func (r *roomSet) all() iter.Seq[string] {
	if r.many != nil {
		return maps.Keys(r.many)
	}
	return slices.Values(r.few)
}

// inlineRooms is how many rooms a socket keeps inline, besides its own: the service's
// sockets join their user's room and their restaurant's, and a slice for them was a second
// allocation of 32 bytes per socket.
const inlineRooms = 2

// membership is a socket's part of the MemoryAdapter's index: whether it joined its own room
// and which other rooms it joined. The first inlineRooms rooms are held in the socket, and
// more in its extra's roomSet. The flags and the count share a word. Guarded by the socket's
// mu.
type membership struct {
	joined bool  // in the adapter's socket index (its own id room)
	left   bool  // DelAll ran: the socket joins nothing more
	n      uint8 // rooms in few
	// setPos is the socket's position in the list of set, the socketSet that claimed it
	// (socketSet.find). Unlike the fields above, both are the set's: set changes only under
	// the shard lock of the set's room (from nil, by any set), and setPos is read and written
	// under that lock while set is that set. set is atomic because sets of other shards read
	// it to learn that it is not theirs. They fill the socket's size class, unused before.
	setPos int32
	set    atomic.Pointer[socketSet]
	few    [inlineRooms]string
}

// The methods below keep a socket's rooms: the inline ones, then extra's. s.mu is held.

func (s *Socket) inRoomLocked(room string) bool {
	if slices.Contains(s.mem.few[:s.mem.n], room) {
		return true
	}
	x := s.extra.Load()
	return x != nil && x.rooms.has(room)
}

// addRoomLocked adds a room that is not in the set.
func (s *Socket) addRoomLocked(room string) {
	m := &s.mem
	if int(m.n) < len(m.few) {
		m.few[m.n] = room
		m.n++
		return
	}
	s.extraOf().rooms.add(room)
}

// delRoomLocked removes room and reports whether it was in the set.
func (s *Socket) delRoomLocked(room string) bool {
	m := &s.mem
	if i := slices.Index(m.few[:m.n], room); i >= 0 {
		m.n--
		m.few[i] = m.few[m.n]
		m.few[m.n] = ""
		return true
	}
	x := s.extra.Load()
	return x != nil && x.rooms.del(room)
}

// roomsLocked appends the rooms to dst, in no particular order.
func (s *Socket) roomsLocked(dst []string) []string {
	dst = append(dst, s.mem.few[:s.mem.n]...)
	if x := s.extra.Load(); x != nil {
		for r := range x.rooms.all() {
			dst = append(dst, r)
		}
	}
	return dst
}

// roomCountLocked returns the number of rooms.
func (s *Socket) roomCountLocked() int {
	n := int(s.mem.n)
	if x := s.extra.Load(); x != nil {
		n += x.rooms.len()
	}
	return n
}

// NewMemoryAdapter returns the in-memory adapter of ns.
//
// The first one made for a Server's namespace while Config.Adapter makes the namespace's
// adapter is also the namespace's index of its connected sockets (Namespace.Socket, Sockets,
// SocketCount): an adapter that makes one must forward AddAll and DelAll to it, as the
// Adapter documentation asks.
func NewMemoryAdapter(ns LocalNamespace) *MemoryAdapter {
	a := &MemoryAdapter{ns: ns, seed: maphash.MakeSeed()}
	for i := range a.shards {
		a.shards[i].rooms = make(map[string]*Socket)
	}
	// The namespace's adapter is set once the factory returns; until then the namespace is
	// not published, so these fields are only this goroutine's.
	if l, ok := ns.(localNamespace); ok && l.ns.adapter == nil && l.ns.index == nil && l.ns.match == nil {
		l.ns.index = a
	}
	return a
}

// socket returns the connected socket whose id is id, or nil.
func (a *MemoryAdapter) socket(id string) *Socket {
	h := a.hashOf(id)
	sh := a.shard(h)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.ids.Get(h, id)
}

// socketCount returns the number of sockets in their own room: the connected ones.
func (a *MemoryAdapter) socketCount() int {
	a.allMu.RLock()
	defer a.allMu.RUnlock()
	return len(a.all)
}

// sockets returns a copy of the list of sockets in their own room.
func (a *MemoryAdapter) sockets() []*Socket {
	a.allMu.RLock()
	defer a.allMu.RUnlock()
	return append(make([]*Socket, 0, len(a.all)), a.all...)
}

// Namespace returns the namespace the adapter serves.
func (a *MemoryAdapter) Namespace() LocalNamespace { return a.ns }

// hashOf returns the hash of a room name, which chooses its shard (shard) and keys the
// shards' id indexes.
func (a *MemoryAdapter) hashOf(room string) uint64 { return maphash.String(a.seed, room) }

func shardIndex(h uint64) int { return int(h % roomShards) }

func (a *MemoryAdapter) shard(h uint64) *roomShard { return &a.shards[shardIndex(h)] }

// AddAll implements Adapter.
func (a *MemoryAdapter) AddAll(s *Socket, rooms []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mem.left {
		return
	}
	for _, room := range rooms {
		h := a.hashOf(room)
		sh := a.shard(h)
		if room == s.id {
			// A socket is in its own room, listed among the connected sockets, from
			// when it connected: one that its middleware joined there still runs it.
			if s.mem.joined || s.state.Load() == stateConnecting {
				continue
			}
			s.mem.joined = true
			sh.mu.Lock()
			sh.ids.Put(h, s)
			sh.mu.Unlock()
			a.allMu.Lock()
			s.memAllPos = int32(len(a.all))
			a.all = append(a.all, s)
			a.allMu.Unlock()
			continue
		}
		if s.inRoomLocked(room) {
			continue
		}
		s.addRoomLocked(room)
		sh.mu.Lock()
		switch one, ok := sh.rooms[room]; {
		case !ok:
			sh.rooms[room] = s
		case one == nil:
			sh.sets[room].add(s)
		default: // a second socket: the room needs a set
			set := &socketSet{list: make([]*Socket, 0, 2)}
			set.add(one)
			set.add(s)
			if sh.sets == nil {
				sh.sets = make(map[string]*socketSet)
			}
			sh.sets[room] = set
			sh.rooms[room] = nil
		}
		sh.mu.Unlock()
	}
}

// Del implements Adapter.
func (a *MemoryAdapter) Del(s *Socket, room string) {
	if room == s.id {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.delRoomLocked(room) {
		a.delRoom(s, room)
	}
}

func (a *MemoryAdapter) delRoom(s *Socket, room string) {
	sh := a.shard(a.hashOf(room))
	sh.mu.Lock()
	switch one, ok := sh.rooms[room]; {
	case one == s:
		delete(sh.rooms, room)
	case ok && one == nil:
		set := sh.sets[room]
		set.remove(s)
		switch len(set.list) {
		case 0: // not reached: a set holds two sockets or more
			delete(sh.sets, room)
			delete(sh.rooms, room)
		case 1:
			// Down to one socket: the set goes, and the socket may keep its position
			// for another. Broadcasts hold the shard's read lock while they use the
			// set, so none does now.
			last := set.list[0]
			set.release(last)
			delete(sh.sets, room)
			sh.rooms[room] = last
		}
	}
	sh.mu.Unlock()
}

// DelAll implements Adapter.
func (a *MemoryAdapter) DelAll(s *Socket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mem.left {
		return
	}
	for _, room := range s.mem.few[:s.mem.n] {
		a.delRoom(s, room)
	}
	if x := s.extra.Load(); x != nil {
		for room := range x.rooms.all() {
			a.delRoom(s, room)
		}
		x.rooms = roomSet{}
	}
	// Field by field: mem.set, which delRoom released, may be read by broadcasts meanwhile.
	s.mem.few, s.mem.n, s.mem.left = [inlineRooms]string{}, 0, true
	if s.mem.joined {
		h := a.hashOf(s.id)
		sh := a.shard(h)
		sh.mu.Lock()
		sh.ids.Delete(h, s)
		sh.mu.Unlock()
		a.allMu.Lock()
		i, last := s.memAllPos, int32(len(a.all)-1)
		if i != last {
			a.all[i] = a.all[last]
			a.all[i].memAllPos = i
		}
		a.all[last] = nil
		a.all = a.all[:last]
		a.allMu.Unlock()
	}
}

// SocketRooms implements Adapter. Rooms other than the socket's own come sorted.
func (a *MemoryAdapter) SocketRooms(s *Socket) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	rooms := make([]string, 1, 1+s.roomCountLocked())
	rooms[0] = s.id
	rooms = s.roomsLocked(rooms)
	slices.Sort(rooms[1:])
	return rooms
}

// Rooms returns the names of every local room, socket ids included, for cluster requests.
func (a *MemoryAdapter) Rooms() []string {
	var rooms []string
	for i := range a.shards {
		sh := &a.shards[i]
		sh.mu.RLock()
		for r := range sh.rooms {
			rooms = append(rooms, r)
		}
		for s := range sh.ids.All() {
			if _, dup := sh.rooms[s.id]; !dup {
				rooms = append(rooms, s.id)
			}
		}
		sh.mu.RUnlock()
	}
	return rooms
}

// HasRoom reports whether a local socket is in room (socket ids included), so that a cluster
// adapter can drop a single-room message early.
func (a *MemoryAdapter) HasRoom(room string) bool {
	h := a.hashOf(room)
	sh := a.shard(h)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	_, ok := sh.rooms[room]
	return ok || sh.ids.Get(h, room) != nil
}

// SocketIDs returns the ids of the local targets of opts.
func (a *MemoryAdapter) SocketIDs(opts *BroadcastOptions) []string {
	var ids []string
	a.apply(opts, func(s *Socket) { ids = append(ids, s.id) })
	return ids
}

// LocalSockets returns the local targets of opts.
func (a *MemoryAdapter) LocalSockets(opts *BroadcastOptions) []*Socket {
	var list []*Socket
	a.apply(opts, func(s *Socket) { list = append(list, s) })
	return list
}

// apply calls fn for each local target of opts, once per socket, holding the index read
// locks: fn must not join, leave or disconnect sockets (collect them instead).
func (a *MemoryAdapter) apply(opts *BroadcastOptions, fn func(*Socket)) {
	rooms, except := opts.Rooms, opts.Except

	// Resolve each room to its shard and set, on the stack for the usual few rooms. One
	// buffer holds both lists (the excepted rooms go into what the target rooms left), as
	// zeroing a second one cost a visible part of a single-room emit.
	var buf [8]resolved
	rs := a.resolve(buf[:0], rooms)
	es := a.resolve(rs[len(rs):len(rs):cap(rs)], except)

	// Read-lock every shard involved, in shard order (writers hold one shard at a time, so
	// this cannot deadlock).
	var mask [roomShards / 64]uint64
	for _, r := range rs {
		i := shardIndex(r.hash)
		mask[i/64] |= 1 << (i % 64)
	}
	for _, r := range es {
		i := shardIndex(r.hash)
		mask[i/64] |= 1 << (i % 64)
	}
	everyone := len(rooms) == 0
	a.lock(&mask, everyone)
	defer a.unlock(&mask, everyone)
	a.fill(rs)
	a.fill(es)

	if everyone {
		for _, s := range a.all {
			if !excluded(s, es) {
				fn(s)
			}
		}
		return
	}
	for i := range rs {
		if set := rs[i].set; set != nil {
			for _, s := range set.list {
				if !inAny(s, rs[:i]) && !excluded(s, es) {
					fn(s)
				}
			}
		}
		for _, s := range [2]*Socket{rs[i].one, rs[i].id} {
			if s != nil && !inAny(s, rs[:i]) && !excluded(s, es) {
				fn(s)
			}
		}
	}
}

// lock and unlock visit the set bits of mask only: a broadcast names a room or a few, and
// testing all roomShards bits cost more than the locking itself.
func (a *MemoryAdapter) lock(mask *[roomShards / 64]uint64, everyone bool) {
	if everyone {
		a.allMu.RLock()
	}
	for w, m := range mask {
		for ; m != 0; m &= m - 1 {
			a.shards[w*64+bits.TrailingZeros64(m)].mu.RLock()
		}
	}
}

func (a *MemoryAdapter) unlock(mask *[roomShards / 64]uint64, everyone bool) {
	for w, m := range mask {
		for ; m != 0; m &= m - 1 {
			a.shards[w*64+bits.TrailingZeros64(m)].mu.RUnlock()
		}
	}
	if everyone {
		a.allMu.RUnlock()
	}
}

// resolved is a room of a broadcast: its shard, its sockets (one or set), and the socket
// whose id it is.
type resolved struct {
	name string
	hash uint64 // hashOf(name): its shard, and its key in the shard's id index
	one  *Socket
	set  *socketSet
	id   *Socket
}

func (a *MemoryAdapter) resolve(dst []resolved, rooms []string) []resolved {
	for _, r := range rooms {
		dst = append(dst, resolved{name: r, hash: a.hashOf(r)})
	}
	return dst
}

// fill looks the rooms up; the caller holds their shards' read locks. A name that cannot be
// a socket id is not looked up among them: most broadcasts name a room of users, and the
// second lookup, a likely cache miss, was a visible part of a targeted emit.
func (a *MemoryAdapter) fill(rs []resolved) {
	for i := range rs {
		sh := a.shard(rs[i].hash)
		one, ok := sh.rooms[rs[i].name]
		rs[i].one = one
		if ok && one == nil {
			rs[i].set = sh.sets[rs[i].name]
		}
		if len(rs[i].name) == socketIDLen {
			rs[i].id = sh.ids.Get(rs[i].hash, rs[i].name)
		}
	}
}

func inAny(s *Socket, rs []resolved) bool {
	for i := range rs {
		if rs[i].id == s || rs[i].one == s || (rs[i].set != nil && rs[i].set.has(s)) {
			return true
		}
	}
	return false
}

func excluded(s *Socket, es []resolved) bool { return len(es) > 0 && inAny(s, es) }

// encoded is a packet encoded once for all its recipients.
type encoded struct {
	p    *parser.Packet
	msgs []*engineio.Message
}

func (e *encoded) messages() []*engineio.Message {
	if e.msgs == nil {
		text := parser.AppendText(make([]byte, 0, parser.TextLen(e.p)), e.p)
		e.msgs = make([]*engineio.Message, 0, 1+len(e.p.Attachments))
		e.msgs = append(e.msgs, engineio.NewTextMessage(text))
		for _, att := range e.p.Attachments {
			e.msgs = append(e.msgs, engineio.NewBinaryMessage(att))
		}
	}
	return e.msgs
}

// Broadcast implements Adapter: local delivery.
func (a *MemoryAdapter) Broadcast(p *parser.Packet, opts *BroadcastOptions) error {
	enc := encoded{p: p}
	volatile := opts.Flags.Volatile
	var d Delivery
	a.apply(opts, func(s *Socket) {
		switch s.deliver(enc.messages(), volatile) {
		case deliverQueued:
			d.Queued++
		case deliverSkipped:
			d.VolatileSkipped++
		}
	})
	a.report(d)
	return nil
}

// BroadcastWithAck implements Adapter: local delivery, with an ack id of this namespace.
func (a *MemoryAdapter) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts *BroadcastOptions, onClientCount func(int), onAck func(Args)) error {
	q := *p
	q.ID = a.ns.NextAckID()
	enc := encoded{p: &q}
	fn := func(args Args, err error) {
		if err == nil && ctx.Err() == nil {
			onAck(args)
		}
	}
	volatile := opts.Flags.Volatile
	var d Delivery
	a.apply(opts, func(s *Socket) {
		if volatile && !s.conn.sess.Writable() {
			d.VolatileSkipped++
			return
		}
		// Registered before sending, so that no answer can come first.
		if !s.addAck(q.ID, ctx, fn) {
			return
		}
		if s.deliver(enc.messages(), false) == deliverQueued {
			d.Queued++
		} else {
			s.removeAck(q.ID)
		}
	})
	a.report(d)
	onClientCount(d.Queued)
	return nil
}

// report hands the outcome of a local delivery to Config.OnBroadcast, when the namespace is a
// Server's (an adapter built on a LocalNamespace of its own has no Config to report to).
func (a *MemoryAdapter) report(d Delivery) {
	if l, ok := a.ns.(localNamespace); ok {
		if fn := l.ns.srv.cfg.OnBroadcast; fn != nil {
			fn(l.ns.name, d)
		}
	}
}

// FetchSockets implements Adapter: the local targets.
func (a *MemoryAdapter) FetchSockets(_ context.Context, opts *BroadcastOptions) ([]SocketInfo, error) {
	sockets := a.LocalSockets(opts)
	infos := make([]SocketInfo, 0, len(sockets))
	for _, s := range sockets {
		infos = append(infos, s.info())
	}
	return infos, nil
}

// AddSockets implements Adapter: the local targets join rooms.
func (a *MemoryAdapter) AddSockets(_ context.Context, opts *BroadcastOptions, rooms []string) error {
	for _, s := range a.LocalSockets(opts) {
		a.AddAll(s, rooms)
	}
	return nil
}

// DelSockets implements Adapter: the local targets leave rooms.
func (a *MemoryAdapter) DelSockets(_ context.Context, opts *BroadcastOptions, rooms []string) error {
	for _, s := range a.LocalSockets(opts) {
		for _, r := range rooms {
			a.Del(s, r)
		}
	}
	return nil
}

// DisconnectSockets implements Adapter: the local targets disconnect.
func (a *MemoryAdapter) DisconnectSockets(_ context.Context, opts *BroadcastOptions, close bool) error {
	for _, s := range a.LocalSockets(opts) {
		s.Disconnect(close)
	}
	return nil
}

// ServerSideEmit implements Adapter: there is no other server.
func (a *MemoryAdapter) ServerSideEmit(context.Context, *parser.Packet) error { return nil }

// ServerSideEmitWithAck implements Adapter: there is no other server to answer.
func (a *MemoryAdapter) ServerSideEmitWithAck(context.Context, *parser.Packet) ([]Args, error) {
	return nil, nil
}

// ServerCount implements Adapter: one.
func (a *MemoryAdapter) ServerCount(context.Context) (int, error) { return 1, nil }

// Close implements Adapter.
func (a *MemoryAdapter) Close() error { return nil }
