package socketio

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// adapterSockets returns n connected sockets, each indexed in its own room of a, without
// connections: the adapter's tests need its index only.
func adapterSockets(a *MemoryAdapter, n int) []*Socket {
	sockets := make([]*Socket, n)
	for i := range sockets {
		s := &Socket{id: newSocketID()}
		s.state.Store(stateConnected) // a connecting socket's own room is not indexed yet
		a.AddAll(s, []string{s.id})
		sockets[i] = s
	}
	return sockets
}

// TestMemoryAdapterAgainstModel joins and leaves sockets at random to and from a few rooms,
// big enough for their sets to outgrow smallSet and to be in several sets at once (so that
// some members keep their position themselves and others are indexed), and down to one
// socket and none; after each step the adapter must agree with a plain model on who is in
// each room, with and without excepted rooms, and on which rooms exist.
func TestMemoryAdapterAgainstModel(t *testing.T) {
	a := NewMemoryAdapter(otherNamespace{})
	sockets := adapterSockets(a, 3*smallSet)
	rooms := []string{"a", "b", "c", "d", sockets[0].id} // a room named by a socket's id too
	model := map[string]map[*Socket]bool{}
	for _, r := range rooms {
		model[r] = map[*Socket]bool{}
	}
	ids := func(set map[*Socket]bool, except map[*Socket]bool) []string {
		var out []string
		for s := range set {
			if !except[s] {
				out = append(out, s.id)
			}
		}
		slices.Sort(out)
		return out
	}
	sorted := func(list []string) []string { slices.Sort(list); return list }
	rng := rand.New(rand.NewPCG(1, 2))
	left := map[*Socket]bool{}
	for step := range 4000 {
		s := sockets[rng.IntN(len(sockets))]
		r := rooms[rng.IntN(len(rooms))]
		switch op := rng.IntN(100); {
		case op < 55:
			a.AddAll(s, []string{r})
			if !left[s] {
				model[r][s] = true
			}
		case op < 99:
			a.Del(s, r)
			delete(model[r], s)
		default:
			a.DelAll(s)
			left[s] = true
			for _, m := range model {
				delete(m, s)
			}
		}
		for _, r := range rooms {
			want := model[r]
			if s := a.socket(r); s != nil {
				want = withSockets(want, s)
			}
			if got := sorted(a.SocketIDs(&BroadcastOptions{Rooms: []string{r}})); !slices.Equal(got, ids(want, nil)) {
				t.Fatalf("step %d: room %s holds %v, want %v", step, r, got, ids(want, nil))
			}
			if a.HasRoom(r) != (len(want) > 0) || slices.Contains(a.Rooms(), r) != (len(want) > 0) {
				t.Fatalf("step %d: room %s exists %v, listed %v, has %d", step, r, a.HasRoom(r), slices.Contains(a.Rooms(), r), len(want))
			}
		}
		// Two rooms, one excepted: the membership checks of sets, not their iteration.
		to, except := model["a"], model["b"]
		to = withSockets(to)
		for s := range model["c"] {
			to[s] = true
		}
		opts := &BroadcastOptions{Rooms: []string{"a", "c"}, Except: []string{"b"}}
		if got, want := sorted(a.SocketIDs(opts)), ids(to, except); !slices.Equal(got, want) {
			t.Fatalf("step %d: a and c except b reached %v, want %v", step, got, want)
		}
	}
}

// withSockets returns a copy of set with more added.
func withSockets(set map[*Socket]bool, more ...*Socket) map[*Socket]bool {
	out := make(map[*Socket]bool, len(set)+len(more))
	for s := range set {
		out[s] = true
	}
	for _, s := range more {
		out[s] = true
	}
	return out
}

// TestMemoryAdapterConcurrentRooms joins and leaves rooms of other shards from several
// goroutines while broadcasts check their rooms' sets: a socket's kept position belongs to
// one set and is read by the others, which the race detector watches here.
func TestMemoryAdapterConcurrentRooms(t *testing.T) {
	a := NewMemoryAdapter(otherNamespace{})
	sockets := adapterSockets(a, 4*smallSet)
	rooms := make([]string, 6)
	for i := range rooms {
		rooms[i] = "room" + strconv.Itoa(i)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for range 2000 {
				s := sockets[rng.IntN(len(sockets))]
				if r := rooms[rng.IntN(len(rooms))]; rng.IntN(2) == 0 {
					a.AddAll(s, []string{r})
				} else {
					a.Del(s, r)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 2000 {
			opts := &BroadcastOptions{Rooms: []string{rooms[i%6], rooms[(i+1)%6]}, Except: []string{rooms[(i+2)%6]}}
			seen := map[string]bool{}
			for _, id := range a.SocketIDs(opts) {
				if seen[id] {
					t.Errorf("%s targeted twice", id)
					return
				}
				seen[id] = true
			}
		}
	})
	wg.Wait()
	for _, s := range sockets {
		a.DelAll(s)
		if x := s.mem.set.Load(); x != nil {
			t.Fatalf("a socket that left every room keeps its position for a set: %v", x.list)
		}
	}
	for _, r := range rooms {
		if a.HasRoom(r) {
			t.Errorf("room %s left behind", r)
		}
	}
}
