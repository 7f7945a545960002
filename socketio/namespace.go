package socketio

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
)

// Middleware runs for every socket that asks to join a namespace, before it is connected, in
// the order they were added. An error refuses the connection: the client gets a CONNECT_ERROR
// ({"message":err.Error()}, plus "data" for a *ConnectError) and stays connected to the server,
// free to retry. A middleware may read the handshake, set data and join rooms.
type Middleware func(s *Socket) error

// ConnectionHandler runs when a socket has joined the namespace.
type ConnectionHandler func(s *Socket)

// ServerSideHandler receives an event that another server of the cluster emitted with
// ServerSideEmit. ack is nil unless the sender waits for answers; its first argument is what
// Node.js servers receive.
type ServerSideHandler func(args Args, ack Ack)

// Namespace is a communication channel clients join with a CONNECT: "/" (the main namespace)
// or any name such as "/admin". A namespace has its own middleware, handlers, sockets, rooms
// and adapter. Its methods are safe for concurrent use.
type Namespace struct {
	name    string
	srv     *Server
	adapter Adapter
	parent  *Namespace // the dynamic namespace that created this child
	ackIDs  atomic.Int64
	pending atomic.Int32 // connections in progress, which keep an empty child alive

	// Set on dynamic (parent) namespaces only.
	match    func(name string, hs *Handshake) bool
	children map[string]*Namespace // guarded by mu

	handlers atomic.Pointer[socketHandlers] // see OnSocketEvent; written under mu

	// index is the MemoryAdapter that Config.Adapter made for this namespace (see
	// NewMemoryAdapter), whose socket-id index and list of sockets answer Socket, Sockets
	// and SocketCount: a second index of the connected sockets cost about 55 bytes per
	// client. Nil for an adapter that made none, and for a dynamic parent.
	index *MemoryAdapter

	mu           sync.RWMutex
	middleware   []Middleware
	onConnection []ConnectionHandler
	serverSide   map[string]ServerSideHandler
	sockets      map[string]*Socket // the connected sockets when index is nil
}

func newNamespace(srv *Server, name string, parent *Namespace) *Namespace {
	ns := &Namespace{name: name, srv: srv, parent: parent}
	ns.adapter = srv.cfg.Adapter(localNamespace{ns}) // sets index, if it makes a MemoryAdapter
	if ns.index == nil {
		ns.sockets = make(map[string]*Socket)
	}
	return ns
}

// Name returns the namespace name, e.g. "/" or "/admin". A dynamic parent is named "/_0",
// "/_1", ... in registration order.
func (ns *Namespace) Name() string { return ns.name }

// Server returns the server the namespace belongs to.
func (ns *Namespace) Server() *Server { return ns.srv }

// Adapter returns the namespace's adapter; nil for a dynamic parent, whose children have theirs.
func (ns *Namespace) Adapter() Adapter { return ns.adapter }

// Use adds a middleware. On a dynamic parent it applies to every child, before the child's own.
func (ns *Namespace) Use(m Middleware) {
	ns.mu.Lock()
	ns.middleware = append(ns.middleware, m)
	ns.mu.Unlock()
}

// OnConnection adds a handler for sockets that joined the namespace. On a dynamic parent it
// applies to every child, before the child's own.
func (ns *Namespace) OnConnection(h ConnectionHandler) {
	ns.mu.Lock()
	ns.onConnection = append(ns.onConnection, h)
	ns.mu.Unlock()
}

// OnServerSideEmit sets the listener of a server-side event (see ServerSideEmit), replacing
// any previous one; nil removes it. Listeners run on the adapter's goroutine.
func (ns *Namespace) OnServerSideEmit(event string, h ServerSideHandler) {
	ns.mu.Lock()
	if ns.serverSide == nil {
		ns.serverSide = make(map[string]ServerSideHandler)
	}
	if h == nil {
		delete(ns.serverSide, event)
	} else {
		ns.serverSide[event] = h
	}
	ns.mu.Unlock()
}

// Socket returns the connected socket of this server with the given id.
func (ns *Namespace) Socket(id string) (*Socket, bool) {
	if ns.index != nil {
		s := ns.index.socket(id)
		return s, s != nil
	}
	ns.mu.RLock()
	s, ok := ns.sockets[id]
	ns.mu.RUnlock()
	return s, ok
}

// SocketCount returns the number of sockets connected to the namespace on this server (for a
// dynamic parent, to all its children).
func (ns *Namespace) SocketCount() int {
	if ns.match != nil {
		n := 0
		for _, c := range ns.childList() {
			n += c.SocketCount()
		}
		return n
	}
	if ns.index != nil {
		return ns.index.socketCount()
	}
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	return len(ns.sockets)
}

// Sockets returns the sockets connected to the namespace on this server.
func (ns *Namespace) Sockets() []*Socket {
	if ns.match != nil {
		var all []*Socket
		for _, c := range ns.childList() {
			all = append(all, c.Sockets()...)
		}
		return all
	}
	if ns.index != nil {
		return ns.index.sockets()
	}
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	list := make([]*Socket, 0, len(ns.sockets))
	for _, s := range ns.sockets {
		list = append(list, s)
	}
	return list
}

func (ns *Namespace) childList() []*Namespace {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	list := make([]*Namespace, 0, len(ns.children))
	for _, c := range ns.children {
		list = append(list, c)
	}
	return list
}

// runMiddleware runs the parent's middleware, then the namespace's own.
func (ns *Namespace) runMiddleware(s *Socket) error {
	if ns.parent != nil {
		if err := ns.parent.runMiddleware(s); err != nil {
			return err
		}
	}
	ns.mu.RLock()
	mw := ns.middleware
	ns.mu.RUnlock()
	for _, m := range mw {
		if err := m(s); err != nil {
			return err
		}
	}
	return nil
}

func (ns *Namespace) runConnection(s *Socket) {
	if ns.parent != nil {
		ns.parent.runConnection(s)
	}
	ns.mu.RLock()
	hs := ns.onConnection
	ns.mu.RUnlock()
	for _, h := range hs {
		if !s.Connected() {
			return
		}
		h(s)
	}
}

// addSocket makes the connected socket s known to the namespace. Its own room is what lists
// it in the index; without one, the namespace's map does.
func (ns *Namespace) addSocket(s *Socket) {
	if ns.index == nil {
		ns.mu.Lock()
		ns.sockets[s.id] = s
		ns.mu.Unlock()
	}
	ns.adapter.AddAll(s, []string{s.id})
}

// removeSocket runs after the socket left its rooms (Adapter.DelAll), which took it out of
// the index.
func (ns *Namespace) removeSocket(s *Socket) {
	if ns.index == nil {
		ns.mu.Lock()
		delete(ns.sockets, s.id)
		ns.mu.Unlock()
	}
	if ns.parent != nil && ns.SocketCount() == 0 {
		ns.srv.removeIfEmpty(ns)
	}
}

// Broadcasting shortcuts: each starts a BroadcastOperator on the whole namespace.

// To returns an operator targeting the sockets in rooms.
func (ns *Namespace) To(rooms ...string) BroadcastOperator { return newOperator(ns).To(rooms...) }

// In is To.
func (ns *Namespace) In(rooms ...string) BroadcastOperator { return ns.To(rooms...) }

// Except returns an operator targeting every socket except those in rooms.
func (ns *Namespace) Except(rooms ...string) BroadcastOperator {
	return newOperator(ns).Except(rooms...)
}

// Volatile returns an operator whose packets are dropped for clients that cannot take them
// at once.
func (ns *Namespace) Volatile() BroadcastOperator { return newOperator(ns).Volatile() }

// Local returns an operator restricted to this server.
func (ns *Namespace) Local() BroadcastOperator { return newOperator(ns).Local() }

// Emit sends an event to every socket of the namespace. See Socket.Emit for the arguments.
func (ns *Namespace) Emit(event string, args ...any) error {
	return newOperator(ns).Emit(event, args...)
}

// EmitWithAck sends an event to every socket of the namespace and waits for their
// acknowledgements (see BroadcastOperator.EmitWithAck).
func (ns *Namespace) EmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	return newOperator(ns).EmitWithAck(ctx, event, args...)
}

// FetchSockets returns every socket of the namespace, on every server.
func (ns *Namespace) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return newOperator(ns).FetchSockets(ctx)
}

// SocketsJoin makes every socket of the namespace join rooms.
func (ns *Namespace) SocketsJoin(ctx context.Context, rooms ...string) error {
	return newOperator(ns).SocketsJoin(ctx, rooms...)
}

// SocketsLeave makes every socket of the namespace leave rooms.
func (ns *Namespace) SocketsLeave(ctx context.Context, rooms ...string) error {
	return newOperator(ns).SocketsLeave(ctx, rooms...)
}

// DisconnectSockets disconnects every socket of the namespace (see Socket.Disconnect).
func (ns *Namespace) DisconnectSockets(ctx context.Context, close bool) error {
	return newOperator(ns).DisconnectSockets(ctx, close)
}

// localNamespace is the namespace as its adapter sees it.
type localNamespace struct{ ns *Namespace }

func (l localNamespace) Name() string     { return l.ns.name }
func (l localNamespace) NextAckID() int64 { return l.ns.ackIDs.Add(1) - 1 }

func (l localNamespace) ServerSideEmit(data json.RawMessage, attachments [][]byte, reply func(Args)) bool {
	return l.ns.dispatchServerSide(data, attachments, reply)
}
