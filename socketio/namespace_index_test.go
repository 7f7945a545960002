package socketio

import (
	"fmt"
	"testing"
)

// indexView is what the namespace says of one socket id at some point of its life.
type indexView struct {
	found bool
	count int
	list  int
}

func (v indexView) String() string {
	return fmt.Sprintf("Socket found %v, SocketCount %d, %d in Sockets", v.found, v.count, v.list)
}

func viewOf(ns *Namespace, id string) indexView {
	s, ok := ns.Socket(id)
	return indexView{found: ok && s.ID() == id, count: ns.SocketCount(), list: len(ns.Sockets())}
}

// checkSocketIndex connects a socket whose middleware joins its own room and a room, and
// checks what Socket, SocketCount and Sockets say at each step of its life: nothing while the
// middleware runs, the socket from its connection until it left its rooms while
// disconnecting, nothing in its disconnect handlers; and nothing for a socket the middleware
// refused.
func checkSocketIndex(t *testing.T, srv *Server) {
	ns := srv.Of("/")
	views := make(chan string, 8)
	ns.Use(func(s *Socket) error {
		s.Join(s.ID(), "early")
		views <- "middleware: " + viewOf(ns, s.ID()).String()
		if string(s.Auth()) == `{"refuse":true}` {
			return fmt.Errorf("refused")
		}
		return nil
	})
	ns.OnConnection(func(s *Socket) {
		views <- "connection: " + viewOf(ns, s.ID()).String()
		s.OnDisconnecting(func(string) { views <- "disconnecting: " + viewOf(ns, s.ID()).String() })
		s.OnDisconnect(func(string) { views <- "disconnect: " + viewOf(ns, s.ID()).String() })
	})
	want := func(step string, v indexView) {
		t.Helper()
		if got := <-views; got != step+": "+v.String() {
			t.Errorf("%s, want %v", got, v)
		}
	}

	refused := newClient(t, srv)
	refused.send(`0{"refuse":true}`)
	refused.expect(`4{"message":"refused"}`)
	want("middleware", indexView{})
	if n := ns.SocketCount(); n != 0 {
		t.Errorf("SocketCount %d after a refusal", n)
	}

	cl := newClient(t, srv)
	id := cl.connect("/")
	want("middleware", indexView{})
	want("connection", indexView{true, 1, 1})
	if err := ns.To(id).Emit("hi"); err != nil {
		t.Fatal(err)
	}
	cl.expect(`2["hi"]`)
	cl.send("1")
	want("disconnecting", indexView{true, 1, 1})
	want("disconnect", indexView{})
	if v := viewOf(ns, id); v != (indexView{}) {
		t.Errorf("after the disconnect: %v", v)
	}
}

// A namespace whose adapter is the MemoryAdapter keeps no index of its own: the adapter's
// answers for it, with the same results.
func TestNamespaceUsesAdapterIndex(t *testing.T) {
	srv := testServer(t, Config{})
	ns := srv.Of("/")
	if ns.index == nil || ns.index != ns.Adapter() || ns.sockets != nil {
		t.Fatalf("index %p, adapter %p, own map %v", ns.index, ns.Adapter(), ns.sockets != nil)
	}
	checkSocketIndex(t, srv)
}

// otherNamespace hides that a LocalNamespace is a Server's.
type otherNamespace struct{ LocalNamespace }

// otherAdapter is an adapter whose MemoryAdapter is not made for the namespace itself, as a
// third-party adapter may be: the namespace then keeps its own index.
type otherAdapter struct{ *MemoryAdapter }

func TestNamespaceOwnIndex(t *testing.T) {
	srv := testServer(t, Config{Adapter: func(ns LocalNamespace) Adapter {
		return otherAdapter{NewMemoryAdapter(otherNamespace{ns})}
	}})
	ns := srv.Of("/")
	if ns.index != nil || ns.sockets == nil {
		t.Fatalf("index %p, own map %v", ns.index, ns.sockets != nil)
	}
	checkSocketIndex(t, srv)
}
