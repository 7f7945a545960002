package socketio

import "maps"

// socketHandlers are the handlers a namespace gives every socket of its own. The table is
// immutable: a registration (rare, at setup) replaces it whole, so that an event reads it with
// one atomic load and no lock, and a socket carries nothing for it.
type socketHandlers struct {
	events     map[string]EventHandler
	any        []AnyHandler
	disconnect []func(s *Socket, reason string)
}

// OnSocketEvent sets the handler of event for every socket of the namespace (on a dynamic
// parent, of its children too), replacing any previous one; nil removes it. A socket's own
// handler for the event (Socket.On) takes precedence. Handlers that are the same for every
// socket are better registered here than with Socket.On in a connection handler: they cost
// the sockets no memory (the socket is their first argument).
func (ns *Namespace) OnSocketEvent(event string, h EventHandler) {
	ns.updateHandlers(func(t *socketHandlers) {
		t.events = maps.Clone(t.events)
		if h == nil {
			delete(t.events, event)
			return
		}
		if t.events == nil {
			t.events = make(map[string]EventHandler)
		}
		t.events[event] = h
	})
}

// OnAnySocketEvent adds a handler that sees every event of every socket of the namespace (on a
// dynamic parent, of its children too), before the sockets' own (Socket.OnAny) and before the
// event's handler.
func (ns *Namespace) OnAnySocketEvent(h AnyHandler) {
	ns.updateHandlers(func(t *socketHandlers) {
		t.any = append(t.any[:len(t.any):len(t.any)], h)
	})
}

// OnSocketDisconnect adds a handler that runs when a socket of the namespace (on a dynamic
// parent, of its children too) has disconnected, before the socket's own OnDisconnect
// handlers. reason is one of the Reason constants.
func (ns *Namespace) OnSocketDisconnect(h func(s *Socket, reason string)) {
	ns.updateHandlers(func(t *socketHandlers) {
		t.disconnect = append(t.disconnect[:len(t.disconnect):len(t.disconnect)], h)
	})
}

// updateHandlers replaces the handler table with a changed copy; the three-index slices and
// the cloned map above leave the old table as it was, for the events reading it.
func (ns *Namespace) updateHandlers(change func(*socketHandlers)) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var t socketHandlers
	if old := ns.handlers.Load(); old != nil {
		t = *old
	}
	change(&t)
	ns.handlers.Store(&t)
}

// handlerTables returns the tables that apply to the namespace's sockets, the parent's first;
// either may be nil.
func (ns *Namespace) handlerTables() (parent, own *socketHandlers) {
	if ns.parent != nil {
		parent = ns.parent.handlers.Load()
	}
	return parent, ns.handlers.Load()
}
