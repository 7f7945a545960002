package socketio

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// room fixture: clients c0..c3 on "/", with rooms:
//
//	c0: a      c1: a, b      c2: b      c3: (none)
func roomFixture(t *testing.T, srv *Server) ([]*client, []*Socket) {
	t.Helper()
	rooms := [][]string{{"a"}, {"a", "b"}, {"b"}, nil}
	sockets := make(chan *Socket, 1)
	srv.Of("/").OnConnection(func(s *Socket) { sockets <- s })
	var cls []*client
	var ss []*Socket
	for _, r := range rooms {
		cl := newClient(t, srv)
		cl.connect("/")
		s := <-sockets
		s.Join(r...)
		cls = append(cls, cl)
		ss = append(ss, s)
	}
	return cls, ss
}

// receivers returns the indexes of the clients that got exactly want, and fails on anything
// else received.
func receivers(t *testing.T, cls []*client, want string) []int {
	t.Helper()
	var got []int
	for i, cl := range cls {
		out := cl.f.sent()
		cl.f.clearSent()
		switch {
		case len(out) == 0:
		case len(out) == 1 && out[0] == want:
			got = append(got, i)
		default:
			t.Fatalf("client %d got %q, want at most one %q", i, out, want)
		}
	}
	return got
}

func TestBroadcastTargets(t *testing.T) {
	srv := testServer(t, Config{})
	cls, ss := roomFixture(t, srv)
	ns := srv.Of("/")
	tests := []struct {
		name string
		emit func() error
		want []int
	}{
		{"everyone", func() error { return ns.Emit("e", 1) }, []int{0, 1, 2, 3}},
		{"one room", func() error { return ns.To("a").Emit("e", 1) }, []int{0, 1}},
		{"two rooms, each socket once", func() error { return ns.To("a", "b").Emit("e", 1) }, []int{0, 1, 2}},
		{"same room twice", func() error { return ns.To("a").To("a").Emit("e", 1) }, []int{0, 1}},
		{"except", func() error { return ns.To("a", "b").Except("b").Emit("e", 1) }, []int{0}},
		{"everyone except", func() error { return ns.Except("a").Emit("e", 1) }, []int{2, 3}},
		{"socket id room", func() error { return ns.To(ss[3].ID()).Emit("e", 1) }, []int{3}},
		{"id and room", func() error { return ns.To(ss[0].ID(), "a").Emit("e", 1) }, []int{0, 1}},
		{"except id", func() error { return ns.To("a").Except(ss[1].ID()).Emit("e", 1) }, []int{0}},
		{"socket broadcast", func() error { return ss[0].Broadcast().Emit("e", 1) }, []int{1, 2, 3}},
		{"socket to room", func() error { return ss[1].To("a", "b").Emit("e", 1) }, []int{0, 2}},
		{"socket except", func() error { return ss[1].Except("b").Emit("e", 1) }, []int{0, 3}},
		{"unknown room", func() error { return ns.To("nobody").Emit("e", 1) }, nil},
		{"local", func() error { return ns.Local().To("b").Emit("e", 1) }, []int{1, 2}},
	}
	for _, tt := range tests {
		if err := tt.emit(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := receivers(t, cls, `2["e",1]`); !slices.Equal(got, tt.want) {
			t.Errorf("%s: received by %v, want %v", tt.name, got, tt.want)
		}
	}
	if err := ns.Emit("connect"); !errors.Is(err, ErrReservedEvent) {
		t.Errorf("reserved: %v", err)
	}

	// Volatile: dropped for clients that cannot take it now.
	cls[0].f.mu.Lock()
	cls[0].f.writable = false
	cls[0].f.mu.Unlock()
	ns.Volatile().To("a").Emit("e", 1)
	if got := receivers(t, cls, `2["e",1]`); !slices.Equal(got, []int{1}) {
		t.Errorf("volatile: %v", got)
	}

	// Leaving.
	ss[1].Leave("a")
	ss[1].Leave(ss[1].ID()) // cannot leave its own room
	ns.To("a").Emit("e", 1)
	if got := receivers(t, cls, `2["e",1]`); !slices.Equal(got, []int{0}) {
		t.Errorf("after leave: %v", got)
	}
	if r := ss[1].Rooms(); !slices.Equal(r, []string{ss[1].ID(), "b"}) {
		t.Errorf("rooms %v", r)
	}
	// A disconnected socket is in no room.
	cls[2].send("1")
	ns.To("b").Emit("e", 1)
	if got := receivers(t, cls, `2["e",1]`); !slices.Equal(got, []int{1}) {
		t.Errorf("after disconnect: %v", got)
	}
	if rooms := ns.Adapter().(*MemoryAdapter).Rooms(); len(rooms) != 5 { // a, b, 3 ids
		sort.Strings(rooms)
		t.Errorf("rooms %v", rooms)
	}
}

func TestBroadcastBinary(t *testing.T) {
	srv := testServer(t, Config{})
	cls, _ := roomFixture(t, srv)
	srv.Of("/").To("b").Emit("bin", []byte{1, 2}, "x")
	for _, i := range []int{1, 2} {
		cls[i].expect(`51-["bin",{"_placeholder":true,"num":0},"x"]`, "bin:AQI=")
	}
}

func TestClusterOperations(t *testing.T) {
	srv := testServer(t, Config{})
	cls, ss := roomFixture(t, srv)
	ns := srv.Of("/")
	ctx := context.Background()
	ss[0].SetData(map[string]string{"user": "u0"})

	list, err := ns.In("a").FetchSockets(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("FetchSockets = %v, %v", list, err)
	}
	for _, r := range list {
		if r.ID == ss[0].ID() {
			var d map[string]string
			if err := r.DecodeData(&d); err != nil || d["user"] != "u0" || !slices.Equal(r.Rooms, []string{ss[0].ID(), "a"}) {
				t.Errorf("socket 0: %+v %v", r.SocketInfo, err)
			}
		} else if string(r.Data) != "{}" || r.Handshake == nil {
			t.Errorf("socket 1: %+v", r.SocketInfo)
		}
	}
	if err := ns.In("b").SocketsJoin(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	ns.To("c").Emit("e", 1)
	if got := receivers(t, cls, `2["e",1]`); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("after SocketsJoin: %v", got)
	}
	ns.In("a").SocketsLeave(ctx, "c")
	ns.To("c").Emit("e", 1)
	if got := receivers(t, cls, `2["e",1]`); !slices.Equal(got, []int{2}) {
		t.Errorf("after SocketsLeave: %v", got)
	}
	list[0].Emit("direct", 1)
	for i, cl := range cls {
		out := cl.f.sent()
		cl.f.clearSent()
		if (ss[i].ID() == list[0].ID) != (len(out) == 1) {
			t.Errorf("RemoteSocket.Emit: client %d got %q", i, out)
		}
	}
	if err := ns.In("a").DisconnectSockets(ctx, false); err != nil {
		t.Fatal(err)
	}
	if n := ns.SocketCount(); n != 2 {
		t.Fatalf("after DisconnectSockets: %d sockets", n)
	}
	cls[0].expect("1")
	if err := ns.DisconnectSockets(ctx, true); err != nil {
		t.Fatal(err)
	}
	cls[2].waitClosed()
	cls[3].waitClosed()
}

func TestBroadcastWithAck(t *testing.T) {
	srv := testServer(t, Config{})
	cls, _ := roomFixture(t, srv)
	ns := srv.Of("/")
	type result struct {
		acks []Args
		err  error
	}
	res := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		acks, err := ns.To("b").EmitWithAck(ctx, "q", 1)
		res <- result{acks, err}
	}()
	var id int
	for _, i := range []int{1, 2} {
		out := cls[i].waitN(1)
		cls[i].f.clearSent()
		if _, err := fmt.Sscanf(out[0], `2%d["q",1]`, &id); err != nil {
			t.Fatalf("client %d got %q", i, out)
		}
		cls[i].send(fmt.Sprintf(`3%d["from %d"]`, id, i))
	}
	r := <-res
	if r.err != nil || len(r.acks) != 2 {
		t.Fatalf("EmitWithAck = %v, %v", r.acks, r.err)
	}
	var got []string
	for _, a := range r.acks {
		got = append(got, a.String())
	}
	sort.Strings(got)
	if strings.Join(got, " ") != `["from 1"] ["from 2"]` {
		t.Fatalf("acks %v", got)
	}

	// One client does not answer: partial result and ErrAckTimeout.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	go func() {
		out := cls[0].waitN(1)
		fmt.Sscanf(out[0], `2%d`, &id)
		cls[0].send(fmt.Sprintf(`3%d["late but in time"]`, id))
	}()
	acks, err := ns.To("a").EmitWithAck(ctx, "q")
	if !errors.Is(err, ErrAckTimeout) || !errors.Is(err, context.DeadlineExceeded) || len(acks) != 1 {
		t.Fatalf("partial: %v, %v", acks, err)
	}
	// No target: complete at once.
	acks, err = ns.To("nobody").EmitWithAck(context.Background(), "q")
	if err != nil || len(acks) != 0 {
		t.Fatalf("no target: %v %v", acks, err)
	}
}

func TestDynamicNamespaces(t *testing.T) {
	srv := testServer(t, Config{CleanupEmptyChildNamespaces: true})
	parent := srv.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
	var events []string
	parent.Use(func(s *Socket) error {
		events = append(events, "parent mw "+s.Namespace().Name())
		return nil
	})
	parent.OnConnection(func(s *Socket) { events = append(events, "parent conn "+s.Namespace().Name()) })
	byFunc := srv.OfFunc(func(name string, hs *Handshake) bool {
		return strings.HasPrefix(name, "/team-") && string(hs.Auth) == `{"ok":true}`
	})
	byFunc.OnConnection(func(s *Socket) { s.Emit("welcome", s.Namespace().Name()) })

	cl := newClient(t, srv)
	cl.connect("/dyn-1")
	child := srv.Of("/dyn-1")
	if child.parent != parent {
		t.Fatal("Of did not return the existing child")
	}
	child.Use(func(s *Socket) error { events = append(events, "child mw"); return nil })
	cl2 := newClient(t, srv)
	cl2.connect("/dyn-1")
	cl3 := newClient(t, srv)
	cl3.connect("/dyn-22")
	want := "parent mw /dyn-1,parent conn /dyn-1,parent mw /dyn-1,child mw,parent conn /dyn-1,parent mw /dyn-22,parent conn /dyn-22"
	if got := strings.Join(events, ","); got != want {
		t.Fatalf("events %q\nwant %q", got, want)
	}
	if n := parent.SocketCount(); n != 3 {
		t.Fatalf("parent counts %d sockets", n)
	}
	// A broadcast on the parent reaches every child.
	parent.Emit("all", 1)
	cl.expect(`2/dyn-1,["all",1]`)
	cl2.expect(`2/dyn-1,["all",1]`)
	cl3.expect(`2/dyn-22,["all",1]`)

	cl.send(`0/dyn-x`)
	cl.expect(`4/dyn-x,{"message":"Invalid namespace"}`)
	cl.send(`0/team-a`)
	cl.expect(`4/team-a,{"message":"Invalid namespace"}`)
	cl.send(`0/team-a,{"ok":true}`)
	cl.expect(`0/team-a,{"sid":"*"}`, `2/team-a,["welcome","/team-a"]`)

	// The last socket of /dyn-22 leaves: the child is removed, and created anew on demand.
	cl3.send(`1/dyn-22,`)
	srv.mu.RLock()
	_, exists := srv.nsps["/dyn-22"]
	srv.mu.RUnlock()
	if exists {
		t.Fatal("empty child not cleaned up")
	}
	cl3.connect("/dyn-22")
}

// Operators keep the first room list given to them rather than copying it; operators derived
// from the same one must still not append into a shared backing array.
func TestOperatorsDerivedDoNotShareRooms(t *testing.T) {
	srv := testServer(t, Config{})
	ns := srv.Of("/")
	rooms := make([]string, 1, 4) // spare capacity that an append in place would use
	rooms[0] = "a"
	base := ns.To(rooms...).Except(rooms...)
	x := base.To("b").Except("x")
	y := base.To("c").Except("y")
	if got := x.Options(); !slices.Equal(got.Rooms, []string{"a", "b"}) || !slices.Equal(got.Except, []string{"a", "x"}) {
		t.Errorf("x: %+v", got)
	}
	if got := y.Options(); !slices.Equal(got.Rooms, []string{"a", "c"}) || !slices.Equal(got.Except, []string{"a", "y"}) {
		t.Errorf("y: %+v", got)
	}
	if got := base.Options(); !slices.Equal(got.Rooms, []string{"a"}) || !slices.Equal(got.Except, []string{"a"}) {
		t.Errorf("base: %+v", got)
	}
	if spare := rooms[:2]; spare[1] != "" {
		t.Errorf("the caller's array was written: %q", spare)
	}
}

// TestRoomOfOneAndOfMany follows a room through the index's two forms (its only socket, then
// a set) and back, checking at each step who a broadcast reaches, alone and with excepted
// rooms of either form, and that an emptied room is gone.
func TestRoomOfOneAndOfMany(t *testing.T) {
	srv := testServer(t, Config{})
	sockets := make(chan *Socket, 1)
	ns := srv.Of("/")
	ns.OnConnection(func(s *Socket) { sockets <- s })
	a := ns.Adapter().(*MemoryAdapter)
	var cls []*client
	var ss []*Socket
	for range 3 {
		cl := newClient(t, srv)
		cl.connect("/")
		cls = append(cls, cl)
		ss = append(ss, <-sockets)
	}
	ss[2].Join("solo")
	steps := []struct {
		name   string
		change func()
		to     []int // reached by To("r")
		except []int // reached by Except("r", "solo")
	}{
		{"one socket", func() { ss[0].Join("r") }, []int{0}, []int{1}},
		{"two sockets", func() { ss[1].Join("r") }, []int{0, 1}, nil},
		{"the first left", func() { ss[0].Leave("r") }, []int{1}, []int{0}},
		{"joined again", func() { ss[0].Join("r") }, []int{0, 1}, nil},
		{"the second disconnected", func() { cls[1].send("1") }, []int{0}, nil},
		{"empty", func() { ss[0].Leave("r") }, nil, []int{0}},
	}
	for _, st := range steps {
		st.change()
		if err := ns.To("r").Emit("e", 1); err != nil {
			t.Fatal(err)
		}
		if got := receivers(t, cls, `2["e",1]`); !slices.Equal(got, st.to) {
			t.Errorf("%s: To(r) reached %v, want %v", st.name, got, st.to)
		}
		if err := ns.Except("r", "solo").Emit("e", 1); err != nil {
			t.Fatal(err)
		}
		if got := receivers(t, cls, `2["e",1]`); !slices.Equal(got, st.except) {
			t.Errorf("%s: Except(r, solo) reached %v, want %v", st.name, got, st.except)
		}
		if has := a.HasRoom("r"); has != (len(st.to) > 0) {
			t.Errorf("%s: HasRoom(r) = %v", st.name, has)
		}
		if has := slices.Contains(a.Rooms(), "r"); has != (len(st.to) > 0) {
			t.Errorf("%s: r listed in Rooms: %v", st.name, has)
		}
	}
}

// TestManyRoomsLeaveWithTheSocket: a socket in more rooms than it holds inline lists them
// all, sorted after its id, gets broadcasts to the ones beyond, and leaves every one when it
// disconnects.
func TestManyRoomsLeaveWithTheSocket(t *testing.T) {
	srv := testServer(t, Config{})
	sockets := make(chan *Socket, 1)
	ns := srv.Of("/")
	ns.OnConnection(func(s *Socket) { sockets <- s })
	cl := newClient(t, srv)
	cl.connect("/")
	s := <-sockets
	rooms := []string{"r5", "r1", "r4", "r2", "r3"}
	s.Join(rooms...)
	s.Leave("r4")
	if got, want := s.Rooms(), []string{s.ID(), "r1", "r2", "r3", "r5"}; !slices.Equal(got, want) {
		t.Fatalf("rooms %q, want %q", got, want)
	}
	if err := ns.To("r5").Emit("e", 1); err != nil {
		t.Fatal(err)
	}
	if got := receivers(t, []*client{cl}, `2["e",1]`); !slices.Equal(got, []int{0}) {
		t.Fatalf("To(r5) reached %v", got)
	}
	cl.send("1")
	a := ns.Adapter().(*MemoryAdapter)
	for _, r := range append(rooms, s.ID()) {
		if a.HasRoom(r) {
			t.Errorf("room %s left behind", r)
		}
	}
	if got := s.Rooms(); !slices.Equal(got, []string{s.ID()}) {
		t.Errorf("rooms after disconnect %q", got)
	}
}
