package socketio

import (
	"regexp"
	"strings"
	"sync"
	"testing"
)

// TestNamespaceSocketHandlers checks the namespace-wide handlers: their order with a socket's
// own, a socket's handler taking precedence, removal, and a dynamic parent's applying to its
// children.
func TestNamespaceSocketHandlers(t *testing.T) {
	srv := testServer(t, Config{})
	var mu sync.Mutex
	var log []string
	record := func(s string) { mu.Lock(); log = append(log, s); mu.Unlock() }
	taken := func() string {
		mu.Lock()
		defer mu.Unlock()
		s := strings.Join(log, " ")
		log = nil
		return s
	}

	parent := srv.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
	parent.OnAnySocketEvent(func(_ *Socket, event string, _ Args, _ Ack) { record("parent-any:" + event) })
	parent.OnSocketEvent("p", func(s *Socket, _ Args, _ Ack) { record("parent-p") })
	parent.OnSocketDisconnect(func(s *Socket, reason string) { record("parent-disconnect") })
	ns := srv.Of("/")
	ns.OnAnySocketEvent(func(s *Socket, event string, _ Args, _ Ack) { record("ns-any:" + event) })
	ns.OnSocketEvent("a", func(s *Socket, _ Args, _ Ack) { record("ns-a") })
	ns.OnSocketEvent("b", func(s *Socket, _ Args, _ Ack) { record("ns-b") })
	ns.OnSocketEvent("gone", func(s *Socket, _ Args, _ Ack) { record("ns-gone") })
	ns.OnSocketEvent("gone", nil)
	ns.OnSocketDisconnect(func(s *Socket, reason string) { record("ns-disconnect:" + reason) })
	for _, n := range []*Namespace{ns, parent} {
		n.OnConnection(func(s *Socket) {
			s.OnAny(func(_ *Socket, event string, _ Args, _ Ack) { record("socket-any:" + event) })
			s.On("b", func(s *Socket, _ Args, _ Ack) { record("socket-b") }) // takes precedence
			s.OnDisconnect(func(reason string) { record("socket-disconnect") })
		})
	}

	cl := newClient(t, srv)
	cl.connect("/")
	for _, ev := range []string{"a", "b", "gone", "p"} {
		cl.send(`2["` + ev + `"]`)
	}
	want := "ns-any:a socket-any:a ns-a ns-any:b socket-any:b socket-b ns-any:gone socket-any:gone ns-any:p socket-any:p"
	if got := taken(); got != want {
		t.Errorf("events on /:\n got  %s\n want %s", got, want)
	}
	cl.send("1")
	if got, want := taken(), "ns-disconnect:client namespace disconnect socket-disconnect"; got != want {
		t.Errorf("disconnect on /: got %q, want %q", got, want)
	}

	cl.connect("/dyn-1")
	cl.send(`2/dyn-1,["a"]`)
	cl.send(`2/dyn-1,["p"]`)
	want = "parent-any:a socket-any:a parent-any:p socket-any:p parent-p"
	if got := taken(); got != want {
		t.Errorf("events on /dyn-1:\n got  %s\n want %s", got, want)
	}
	cl.send("1/dyn-1,")
	if got, want := taken(), "parent-disconnect socket-disconnect"; got != want {
		t.Errorf("disconnect on /dyn-1: got %q, want %q", got, want)
	}
}
