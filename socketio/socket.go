package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tomato-code/realtime/engineio"
	"github.com/tomato-code/realtime/socketio/parser"
)

// EventHandler handles one event of a socket. ack is nil when the client asked for no
// acknowledgement; otherwise calling it sends the acknowledgement (once).
type EventHandler func(s *Socket, args Args, ack Ack)

// AnyHandler handles every event of a socket, before its EventHandler.
type AnyHandler func(s *Socket, event string, args Args, ack Ack)

// Ack sends an acknowledgement with args (encoded as Socket.Emit encodes arguments). Only the
// first call sends; later calls return ErrAckSent.
type Ack func(args ...any) error

// Socket states.
const (
	stateConnecting int32 = iota // middleware running
	stateConnected
	stateDisconnecting // disconnect decided, handlers pending
	stateDisconnected
)

// Socket is one client connected to one namespace. A client has one Socket per namespace it
// joins, all sharing its Engine.IO session. Methods are safe for concurrent use.
//
// An idle server holds one Socket per client, so the layout counts: it fits the 128-byte
// size class (TestSocketFitsItsSizeClass). What most sockets never use (handlers of their
// own, awaited acknowledgements, rooms beyond the first two) lives in extra, allocated on
// first use, and the Handshake is built when asked for, from the session's description of
// its request and the auth object, which the socket keeps.
type Socket struct {
	id    string
	ns    *Namespace
	conn  *conn
	state atomic.Int32
	// memAllPos is the position in MemoryAdapter.all, guarded by its allMu; beside state, in
	// its word.
	memAllPos int32

	// mu guards data, mem, and the handlers and rooms in extra. The MemoryAdapter holds it
	// while it takes its index's locks, so nothing that holds those may wait for it:
	// acknowledgements, which broadcasts register, have their own lock (socketExtra.ackMu).
	mu   sync.Mutex
	data any
	// extra is set once, by CompareAndSwap, so that acknowledgements reach it without mu.
	extra atomic.Pointer[socketExtra]

	// Room membership as the MemoryAdapter keeps it (adapter_memory.go).
	mem membership

	// auth is the CONNECT's auth object, nil when the client sent none or it was discarded
	// (Config.DiscardAuth). A pointer, so that it can be discarded while other goroutines may
	// read it (a middleware that joined rooms makes the socket visible to them); 16 bytes
	// smaller than a slice, too.
	auth atomic.Pointer[json.RawMessage]
}

// socketExtra is the part of a Socket that most sockets never use.
type socketExtra struct {
	// Guarded by the socket's mu.
	handlers     []eventHandler // searched linearly: sockets have a few handlers, and a map costs ~250 bytes each
	anyHandlers  []AnyHandler
	onDisconnect []disconnectHandler // OnDisconnecting's and OnDisconnect's, in one list: most sockets have one
	rooms        roomSet             // the rooms beyond membership's inline ones

	ackMu      sync.Mutex
	acks       map[int64]ackEntry // acknowledgements the client owes, guarded by ackMu
	ackSweepAt int                // len(acks) at which expired entries are swept, guarded by ackMu
}

// extraOf returns s.extra, allocating it on first use.
func (s *Socket) extraOf() *socketExtra {
	if x := s.extra.Load(); x != nil {
		return x
	}
	s.extra.CompareAndSwap(nil, new(socketExtra))
	return s.extra.Load()
}

// eventHandler is the handler of one event.
type eventHandler struct {
	event string
	h     EventHandler
}

// disconnectHandler is a handler of OnDisconnecting (early) or OnDisconnect.
type disconnectHandler struct {
	fn    func(reason string)
	early bool
}

// ackEntry is an acknowledgement the client owes: fn gets its arguments, or ErrDisconnected.
// An entry whose ctx has ended is dropped at the next sweep.
type ackEntry struct {
	ctx context.Context
	fn  func(Args, error)
}

// socketIDLen is the length of every id newSocketID returns: the adapter looks a room up
// among socket ids only when its name has that length.
const socketIDLen = 20

// newSocketID returns socketIDLen characters of URL-safe base64 from crypto/rand, like
// socket.io's ids.
func newSocketID() string {
	var b [socketIDLen / 4 * 3]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ID returns the socket id: public, unique, and the name of the socket's own room. It is not
// the Engine.IO session id.
func (s *Socket) ID() string { return s.id }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.ns }

// Handshake returns how the socket connected. It is built on each call (two allocations:
// the Handshake and the session's HandshakeInfo; sockets do not keep one, which saved 64
// bytes per client) and belongs to the caller; successive calls give equal values. Auth and
// Address read their parts without building it.
func (s *Socket) Handshake() *Handshake {
	h := newHandshake(s.conn.sess.Handshake(), s.rawAuth())
	return &h
}

// rawAuth returns the auth object, nil when there is none.
func (s *Socket) rawAuth() json.RawMessage {
	if a := s.auth.Load(); a != nil {
		return *a
	}
	return nil
}

// Auth returns the auth object of the socket's CONNECT, as Handshake().Auth does: {} when the
// client sent none, or when it was discarded (Config.DiscardAuth) after the middleware ran.
// The bytes are shared: do not modify them.
func (s *Socket) Auth() json.RawMessage {
	if a := s.rawAuth(); len(a) > 0 {
		return a
	}
	return noAuth
}

// Address returns the client's IP address, without port, as Handshake().Address does.
func (s *Socket) Address() string { return hostOf(s.conn.sess.RemoteAddr()) }

// DisconnectError returns the error that ended the socket's connection, when it ended with one
// (reason "transport error" or "parse error"): its transport's read or write error, or the
// client's protocol violation. Nil while the connection is open and when it ended without an
// error. Meant for the logs of a disconnect handler.
func (s *Socket) DisconnectError() error {
	if es, ok := s.conn.sess.(interface{ CloseError() error }); ok {
		return es.CloseError()
	}
	return nil
}

// Transport returns the current transport of the connection, "polling" or "websocket".
func (s *Socket) Transport() string { return s.conn.sess.Transport() }

// Connected reports whether the socket is connected: middleware passed, not yet disconnected.
func (s *Socket) Connected() bool { return s.state.Load() == stateConnected }

// SetData attaches application data to the socket (e.g. the authenticated user).
// FetchSockets carries its JSON encoding to other servers.
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
}

// Data returns what SetData attached, or nil.
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// On sets the handler of event, replacing any previous one; nil removes it. A handler that
// every socket of a namespace gets alike is cheaper set once with Namespace.OnSocketEvent.
func (s *Socket) On(event string, h EventHandler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.extra.Load() == nil && h == nil {
		return // nothing to remove
	}
	x := s.extraOf()
	for i := range x.handlers {
		if x.handlers[i].event != event {
			continue
		}
		if h != nil {
			x.handlers[i].h = h
		} else {
			x.handlers = slices.Delete(x.handlers, i, i+1)
		}
		return
	}
	if h != nil {
		x.handlers = append(x.handlers, eventHandler{event, h})
	}
}

// handlerLocked returns the handler of event, or nil. s.mu is held.
func (s *Socket) handlerLocked(event string) EventHandler {
	x := s.extra.Load()
	if x == nil {
		return nil
	}
	for _, e := range x.handlers {
		if e.event == event {
			return e.h
		}
	}
	return nil
}

// OnAny adds a handler that sees every event, before the event's own handler (and after the
// namespace's, see Namespace.OnAnySocketEvent).
func (s *Socket) OnAny(h AnyHandler) {
	s.mu.Lock()
	x := s.extraOf()
	x.anyHandlers = append(x.anyHandlers, h)
	s.mu.Unlock()
}

// OnDisconnecting adds a handler that runs when the socket is about to disconnect, while it is
// still in its rooms.
func (s *Socket) OnDisconnecting(h func(reason string)) {
	s.mu.Lock()
	x := s.extraOf()
	x.onDisconnect = append(x.onDisconnect, disconnectHandler{fn: h, early: true})
	s.mu.Unlock()
}

// OnDisconnect adds a handler that runs once the socket has disconnected; it is the last
// handler to run for the socket (after the namespace's, see Namespace.OnSocketDisconnect).
// reason is one of the Reason constants.
func (s *Socket) OnDisconnect(h func(reason string)) {
	s.mu.Lock()
	x := s.extraOf()
	x.onDisconnect = append(x.onDisconnect, disconnectHandler{fn: h})
	s.mu.Unlock()
}

// Emit sends an event to the client. Arguments are encoded to JSON: []byte values (at the top
// level, or inside map[string]any and []any) travel as binary attachments, json.RawMessage
// is sent as it is (after a syntax check, which parser.TrustedJSON skips), and the values of
// received Args (Args.Value) go back byte for byte,
// binary included. Emit queues the packet and returns; it fails with ErrDisconnected after
// the socket disconnected and ErrReservedEvent for a reserved event name.
func (s *Socket) Emit(event string, args ...any) error {
	if parser.IsReserved(event) {
		return ErrReservedEvent
	}
	return s.send(parser.Event, event, args, parser.NoID)
}

// send encodes an EVENT packet (event and args) or, for typ parser.Ack, an ACK packet (args
// only) into a pooled buffer and queues it: the one path of Emit, EmitWithAck and Ack.
func (s *Socket) send(typ parser.Type, event string, args []any, id int64) error {
	if s.state.Load() >= stateDisconnecting {
		return ErrDisconnected
	}
	p := parser.Packet{Type: typ, Namespace: s.ns.name, ID: id}
	buf := getBuffer()
	defer putBuffer(buf)
	var err error
	if typ == parser.Ack {
		*buf, p.Attachments, err = parser.AppendArray((*buf)[:0], nil, args...)
	} else {
		*buf, p.Attachments, err = parser.AppendEvent((*buf)[:0], nil, event, args...)
	}
	if err != nil {
		return err
	}
	p.Data = *buf
	return s.conn.sendPacket(&p)
}

// EmitWithAck sends an event and waits for the client's acknowledgement, until ctx ends. It
// returns the acknowledgement's arguments, or ctx's error, or ErrDisconnected when the socket
// disconnects first. Do not call it on a socket from that socket's own event handler: the
// acknowledgement arrives on the path the handler is holding (see the package documentation),
// so wait from another goroutine.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	if parser.IsReserved(event) {
		return Args{}, ErrReservedEvent
	}
	type result struct {
		args Args
		err  error
	}
	ch := make(chan result, 1)
	id := s.ns.ackIDs.Add(1) - 1
	if !s.addAck(id, ctx, func(a Args, err error) { ch <- result{a, err} }) {
		return Args{}, ErrDisconnected
	}
	if err := s.send(parser.Event, event, args, id); err != nil {
		s.removeAck(id)
		return Args{}, err
	}
	select {
	case r := <-ch:
		return r.args, r.err
	case <-ctx.Done():
		s.removeAck(id)
		return Args{}, ctx.Err()
	}
}

// addAck registers an acknowledgement the client owes. It returns false when the socket is
// already disconnected.
func (s *Socket) addAck(id int64, ctx context.Context, fn func(Args, error)) bool {
	if s.state.Load() >= stateDisconnected {
		return false // without allocating extra
	}
	// finishClose marks the socket disconnected before it takes the acknowledgements, under
	// ackMu: an entry added after that mark is seen here, and refused.
	x := s.extraOf()
	x.ackMu.Lock()
	defer x.ackMu.Unlock()
	if s.state.Load() >= stateDisconnected {
		return false
	}
	if x.acks == nil {
		x.acks = make(map[int64]ackEntry)
		x.ackSweepAt = 16
	}
	if len(x.acks) >= x.ackSweepAt {
		// Clients may never answer; entries whose waiter gave up are dropped here, so the
		// map stays proportional to the acknowledgements still awaited.
		for k, e := range x.acks {
			if e.ctx.Err() != nil {
				delete(x.acks, k)
			}
		}
		x.ackSweepAt = max(16, 2*len(x.acks))
	}
	x.acks[id] = ackEntry{ctx: ctx, fn: fn}
	return true
}

func (s *Socket) removeAck(id int64) {
	if x := s.extra.Load(); x != nil {
		x.ackMu.Lock()
		delete(x.acks, id)
		x.ackMu.Unlock()
	}
}

// Join adds the socket to rooms.
func (s *Socket) Join(rooms ...string) { s.ns.adapter.AddAll(s, rooms) }

// Leave removes the socket from room.
func (s *Socket) Leave(room string) { s.ns.adapter.Del(s, room) }

// Rooms returns the socket's rooms, its own id first.
func (s *Socket) Rooms() []string { return s.ns.adapter.SocketRooms(s) }

// To returns an operator broadcasting to rooms, leaving this socket out.
func (s *Socket) To(rooms ...string) BroadcastOperator {
	return newOperator(s.ns).Except(s.id).To(rooms...)
}

// In is To.
func (s *Socket) In(rooms ...string) BroadcastOperator { return s.To(rooms...) }

// Except returns an operator broadcasting to every socket of the namespace but those in rooms
// and this one.
func (s *Socket) Except(rooms ...string) BroadcastOperator {
	return newOperator(s.ns).Except(s.id).Except(rooms...)
}

// Broadcast returns an operator broadcasting to every socket of the namespace but this one.
func (s *Socket) Broadcast() BroadcastOperator { return newOperator(s.ns).Except(s.id) }

// Disconnect disconnects the socket from its namespace: the client gets a DISCONNECT, and the
// socket's disconnect handlers run with reason "server namespace disconnect". With close, the
// whole connection is closed too, after every socket of the client is disconnected the same
// way. Disconnect returns at once; when called from another goroutine while one of the
// client's handlers runs, the disconnect handlers run right after that handler.
func (s *Socket) Disconnect(close bool) {
	if close {
		s.conn.disconnectAll()
		return
	}
	s.serverDisconnect()
}

func (s *Socket) serverDisconnect() {
	if !s.state.CompareAndSwap(stateConnected, stateDisconnecting) {
		return
	}
	s.conn.sendPacket(&parser.Packet{Type: parser.Disconnect, Namespace: s.ns.name, ID: parser.NoID})
	s.conn.submit(task{s: s, reason: ReasonServerNamespaceDisconnect})
}

// Outcomes of Socket.deliver.
const (
	deliverQueued  = iota // the write queue took the messages
	deliverSkipped        // volatile, and the transport could not take them at once
	deliverFailed         // the socket is leaving or its session refused them
)

// deliver hands encoded messages to the connection, for broadcasts, and says what became of
// them.
func (s *Socket) deliver(msgs []*engineio.Message, volatile bool) int {
	if s.state.Load() != stateConnected {
		return deliverFailed
	}
	if volatile && !s.conn.sess.Writable() {
		return deliverSkipped
	}
	if s.conn.sess.Send(msgs...) != nil {
		return deliverFailed
	}
	return deliverQueued
}

// onPacket handles a packet of the client for this socket's namespace. It runs on the
// connection's handler path.
func (s *Socket) onPacket(p *parser.Packet) {
	if s.state.Load() != stateConnected {
		return // disconnect decided: what the client sent meanwhile is dropped
	}
	switch p.Type {
	case parser.Event, parser.BinaryEvent:
		s.onEvent(p)
	case parser.Ack, parser.BinaryAck:
		s.onAck(p)
	case parser.Disconnect:
		if s.state.CompareAndSwap(stateConnected, stateDisconnecting) {
			s.finishClose(ReasonClientNamespaceDisconnect)
		}
	}
}

func (s *Socket) onEvent(p *parser.Packet) {
	elems, err := parser.Elements(nil, p.Data)
	if err != nil || len(elems) == 0 {
		return // the decoder accepted it, so this does not happen
	}
	event, err := parser.EventName(p.Data)
	if err != nil {
		return
	}
	args := parser.ArgsOf(elems[1:], p.Attachments)
	var ack Ack
	if p.ID >= 0 {
		ack = s.ackFunc(p.ID)
	}
	var anys []AnyHandler
	s.mu.Lock()
	if x := s.extra.Load(); x != nil {
		anys = x.anyHandlers
	}
	h := s.handlerLocked(event)
	s.mu.Unlock()
	parent, own := s.ns.handlerTables()
	for _, t := range [2]*socketHandlers{parent, own} {
		if t != nil {
			for _, a := range t.any {
				a(s, event, args, ack)
			}
		}
	}
	for _, a := range anys {
		a(s, event, args, ack)
	}
	for _, t := range [2]*socketHandlers{own, parent} {
		if h == nil && t != nil {
			h = t.events[event]
		}
	}
	if h != nil {
		h(s, args, ack)
	}
}

func (s *Socket) ackFunc(id int64) Ack {
	var sent atomic.Bool
	return func(args ...any) error {
		if !sent.CompareAndSwap(false, true) {
			return ErrAckSent
		}
		return s.send(parser.Ack, "", args, id)
	}
}

func (s *Socket) onAck(p *parser.Packet) {
	var e ackEntry
	var ok bool
	if x := s.extra.Load(); x != nil {
		x.ackMu.Lock()
		e, ok = x.acks[p.ID]
		delete(x.acks, p.ID)
		x.ackMu.Unlock()
	}
	if !ok {
		return // unknown or expired: ignored, as the reference does
	}
	var elems []json.RawMessage
	if p.Data != nil {
		var err error
		if elems, err = parser.Elements(nil, p.Data); err != nil {
			return
		}
	}
	e.fn(parser.ArgsOf(elems, p.Attachments), nil)
}

// finishClose runs the disconnect sequence of a socket whose state is stateDisconnecting: the
// disconnecting handlers (rooms still joined), leaving the rooms and the namespace, failing
// the awaited acknowledgements, then the disconnect handlers. It runs on the connection's
// handler path.
func (s *Socket) finishClose(reason string) {
	var before, after []disconnectHandler
	var acks map[int64]ackEntry
	s.mu.Lock()
	if x := s.extra.Load(); x != nil {
		before = x.onDisconnect
	}
	s.mu.Unlock()
	for _, h := range before {
		if h.early {
			h.fn(reason)
		}
	}
	s.ns.adapter.DelAll(s)
	s.conn.removeSocket(s)
	// Marked before extra is read: addAck then sees the mark, or finishClose its extra (see
	// addAck).
	s.state.Store(stateDisconnected)
	if x := s.extra.Load(); x != nil {
		x.ackMu.Lock()
		acks = x.acks
		x.acks = nil
		x.ackMu.Unlock()
		s.mu.Lock()
		after = x.onDisconnect
		s.mu.Unlock()
	}
	s.ns.removeSocket(s)
	for _, e := range acks {
		e.fn(Args{}, ErrDisconnected)
	}
	parent, own := s.ns.handlerTables()
	for _, t := range [2]*socketHandlers{parent, own} {
		if t != nil {
			for _, h := range t.disconnect {
				h(s, reason)
			}
		}
	}
	for _, h := range after {
		if !h.early {
			h.fn(reason)
		}
	}
}

// buffers for encoding payloads: the encoded packet is copied into a message of exact size.
var bufferPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func getBuffer() *[]byte { return bufferPool.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= 64<<10 {
		bufferPool.Put(b)
	}
}
