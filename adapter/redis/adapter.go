package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/tomato-code/realtime/adapter/redis/wire"
	"github.com/tomato-code/realtime/socketio"
	"github.com/tomato-code/realtime/socketio/parser"
)

// Adapter is the cluster adapter of one namespace: a socketio.Adapter whose local part is a
// socketio.MemoryAdapter and whose operations reach every server sharing the Redis key.
type Adapter struct {
	c         *Cluster
	ns        socketio.LocalNamespace
	mem       *socketio.MemoryAdapter
	ch        wire.Channels
	uid       string
	roomsMode bool
	// idRooms is the subscription key ("p:" and the pattern) of the rooms named like socket
	// ids, with SubscribeRooms.
	idRooms string

	mu       sync.Mutex
	closed   bool
	requests map[string]*pending    // this node's requests waiting for answers
	acks     map[string]*ackRequest // this node's broadcasts waiting for acknowledgements
}

var _ socketio.Adapter = (*Adapter)(nil)

func (c *Cluster) newAdapter(ns socketio.LocalNamespace) *Adapter {
	a := &Adapter{
		c:         c,
		ns:        ns,
		mem:       socketio.NewMemoryAdapter(ns),
		ch:        wire.NewChannels(c.cfg.Key, ns.Name()),
		uid:       newID(10),
		roomsMode: c.cfg.Subscription == SubscribeRooms,
		requests:  make(map[string]*pending),
		acks:      make(map[string]*ackRequest),
	}
	a.idRooms = "p:" + a.ch.RoomsOfLen(idRoomLen)
	if c.register(a) != nil {
		a.closed = true // the Cluster is closed: the adapter serves this server only
	}
	return a
}

// UID returns the node id this adapter publishes under (one per namespace, as in Node.js).
func (a *Adapter) UID() string { return a.uid }

// AddAll implements socketio.Adapter.
func (a *Adapter) AddAll(s *socketio.Socket, rooms []string) {
	a.mem.AddAll(s, rooms)
	if a.roomsMode {
		for _, r := range rooms {
			a.c.roomJoined(a, r)
		}
	}
}

// Del implements socketio.Adapter.
func (a *Adapter) Del(s *socketio.Socket, room string) {
	a.mem.Del(s, room)
	if a.roomsMode {
		a.c.roomMaybeEmpty(a, room)
	}
}

// DelAll implements socketio.Adapter.
func (a *Adapter) DelAll(s *socketio.Socket) {
	if !a.roomsMode {
		a.mem.DelAll(s)
		return
	}
	rooms := a.mem.SocketRooms(s)
	a.mem.DelAll(s)
	for _, r := range rooms {
		a.c.roomMaybeEmpty(a, r)
	}
}

// SocketRooms implements socketio.Adapter.
func (a *Adapter) SocketRooms(s *socketio.Socket) []string { return a.mem.SocketRooms(s) }

// Broadcast implements socketio.Adapter: local delivery, then one publication (without
// Flags.Local). It returns ErrQueueFull when the message could not be queued for the other
// servers; local delivery happened regardless.
func (a *Adapter) Broadcast(p *parser.Packet, opts *socketio.BroadcastOptions) error {
	if err := a.mem.Broadcast(p, opts); err != nil {
		return err
	}
	if opts.Flags.Local {
		return nil
	}
	return a.c.publishBroadcast(a.ch.ForRooms(opts.Rooms), wire.Broadcast{UID: a.uid, Packet: a.packetOut(p), Opts: optionsOut(opts)})
}

// BroadcastWithAck implements socketio.Adapter. The other servers' client counts and
// acknowledgements arrive on the response channel; without Redis it delivers locally and
// returns ErrUnavailable.
func (a *Adapter) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts *socketio.BroadcastOptions, onClientCount func(int), onAck func(socketio.Args)) error {
	if opts.Flags.Local {
		return a.mem.BroadcastWithAck(ctx, p, opts, onClientCount, onAck)
	}
	if !a.c.Ready() {
		_ = a.mem.BroadcastWithAck(ctx, p, opts, onClientCount, onAck)
		return ErrUnavailable
	}
	id := newID(10)
	ar := &ackRequest{onCount: onClientCount, onAck: onAck}
	if !a.track(func() { a.acks[id] = ar }) {
		return a.mem.BroadcastWithAck(ctx, p, opts, onClientCount, onAck)
	}
	context.AfterFunc(ctx, func() {
		ar.end()
		a.mu.Lock()
		delete(a.acks, id)
		a.mu.Unlock()
	})
	o := optionsOut(opts)
	msg, err := wire.AppendRequest(nil, wire.Request{Type: wire.TypeBroadcast, UID: a.uid, RequestID: id, Packet: a.packetOut(p), Opts: &o})
	if err == nil {
		err = a.c.publish(a.ch.Request, msg)
	}
	if lerr := a.mem.BroadcastWithAck(ctx, p, opts, onClientCount, onAck); lerr != nil {
		return lerr
	}
	if err != nil {
		return fmt.Errorf("redis adapter: %w", err)
	}
	return nil
}

// ackRequest is this node's broadcast with acknowledgements; its callbacks stop when its
// context ends.
type ackRequest struct {
	mu      sync.Mutex
	ended   bool
	onCount func(int)
	onAck   func(socketio.Args)
}

func (r *ackRequest) end() {
	r.mu.Lock()
	r.ended = true
	r.mu.Unlock()
}

func (r *ackRequest) call(fn func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.ended {
		fn()
	}
}

// FetchSockets implements socketio.Adapter. When some servers do not answer in time it
// returns what it has with an error wrapping ErrTimeout.
func (a *Adapter) FetchSockets(ctx context.Context, opts *socketio.BroadcastOptions) ([]socketio.SocketInfo, error) {
	local, _ := a.mem.FetchSockets(ctx, opts)
	if opts.Flags.Local {
		return local, nil
	}
	o := optionsOut(opts)
	res, err := a.ask(ctx, wire.Request{Type: wire.TypeRemoteFetch, Opts: &wire.BroadcastOptions{Rooms: o.Rooms, Except: o.Except}}, 1)
	if res != nil {
		local = append(local, res.sockets...)
	}
	return local, err
}

// AllRooms returns the rooms of every server (socket ids included), as Node's
// adapter.allRooms does.
func (a *Adapter) AllRooms(ctx context.Context) ([]string, error) {
	rooms := a.mem.Rooms()
	res, err := a.ask(ctx, wire.Request{Type: wire.TypeAllRooms}, 1)
	if res != nil {
		seen := make(map[string]struct{}, len(rooms))
		for _, r := range rooms {
			seen[r] = struct{}{}
		}
		for _, r := range res.rooms {
			if _, dup := seen[r]; !dup {
				seen[r] = struct{}{}
				rooms = append(rooms, r)
			}
		}
	}
	return rooms, err
}

// AddSockets implements socketio.Adapter: the local targets join at once, the other servers
// through a request.
func (a *Adapter) AddSockets(_ context.Context, opts *socketio.BroadcastOptions, rooms []string) error {
	for _, s := range a.mem.LocalSockets(opts) {
		a.AddAll(s, rooms)
	}
	return a.tell(opts, wire.Request{Type: wire.TypeRemoteJoin, Rooms: nonNil(rooms)})
}

// DelSockets implements socketio.Adapter.
func (a *Adapter) DelSockets(_ context.Context, opts *socketio.BroadcastOptions, rooms []string) error {
	for _, s := range a.mem.LocalSockets(opts) {
		for _, r := range rooms {
			a.Del(s, r)
		}
	}
	return a.tell(opts, wire.Request{Type: wire.TypeRemoteLeave, Rooms: nonNil(rooms)})
}

// DisconnectSockets implements socketio.Adapter.
func (a *Adapter) DisconnectSockets(ctx context.Context, opts *socketio.BroadcastOptions, close bool) error {
	_ = a.mem.DisconnectSockets(ctx, opts, close)
	return a.tell(opts, wire.Request{Type: wire.TypeRemoteDisconnect, Close: close})
}

// tell publishes a request that needs no answer, unless opts are local.
func (a *Adapter) tell(opts *socketio.BroadcastOptions, r wire.Request) error {
	if opts.Flags.Local {
		return nil
	}
	o := optionsOut(opts)
	r.UID = a.uid
	r.Opts = &wire.BroadcastOptions{Rooms: o.Rooms, Except: o.Except}
	msg, err := wire.AppendRequest(nil, r)
	if err != nil {
		return fmt.Errorf("redis adapter: %w", err)
	}
	return a.c.publish(a.ch.Request, msg)
}

// ServerSideEmit implements socketio.Adapter. Arguments travel as JSON, as with Node.js
// (binary values become {"type":"Buffer","data":[...]}).
func (a *Adapter) ServerSideEmit(_ context.Context, p *parser.Packet) error {
	r, err := a.serverSideRequest(p)
	if err != nil {
		return err
	}
	msg, err := wire.AppendRequest(nil, r)
	if err != nil {
		return fmt.Errorf("redis adapter: %w", err)
	}
	return a.c.publish(a.ch.Request, msg)
}

// ServerSideEmitWithAck implements socketio.Adapter.
func (a *Adapter) ServerSideEmitWithAck(ctx context.Context, p *parser.Packet) ([]socketio.Args, error) {
	r, err := a.serverSideRequest(p)
	if err != nil {
		return nil, err
	}
	res, err := a.ask(ctx, r, 1)
	if res == nil {
		return nil, err
	}
	return res.acks, err
}

func (a *Adapter) serverSideRequest(p *parser.Packet) (wire.Request, error) {
	v, err := wire.FromSocketIO(p.Data, p.Attachments)
	if err != nil {
		return wire.Request{}, fmt.Errorf("redis adapter: %w", err)
	}
	data, err := wire.ToJSON(v)
	if err != nil {
		return wire.Request{}, fmt.Errorf("redis adapter: %w", err)
	}
	return wire.Request{Type: wire.TypeServerSideEmit, Data: data}, nil
}

// ServerCount implements socketio.Adapter: PUBSUB NUMSUB of the request channel, each server
// holding one subscription to it. It fails fast with ErrUnavailable while Redis is down.
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	if !a.c.Ready() {
		return 1, ErrUnavailable
	}
	ctx, cancel := context.WithTimeout(ctx, a.c.cfg.RequestsTimeout)
	defer cancel()
	counts, err := a.c.client.PubSubNumSub(ctx, a.ch.Request).Result()
	if err != nil {
		return 1, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return max(int(counts[a.ch.Request]), 1), nil
}

// Close implements socketio.Adapter: the namespace's subscriptions end (the server count of
// the others drops by one) and pending requests fail.
func (a *Adapter) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	a.mu.Unlock()
	a.failPending()
	a.c.unregister(a)
	return nil
}

// track runs fn under a.mu unless the adapter is closed.
func (a *Adapter) track(fn func()) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return false
	}
	fn()
	return true
}

// packetOut is the wire form of a packet of this namespace.
func (a *Adapter) packetOut(p *parser.Packet) wire.Packet {
	return wire.Packet{Type: wire.PacketEvent, Nsp: a.ns.Name(), Data: p.Data, Attachments: p.Attachments}
}

func optionsOut(o *socketio.BroadcastOptions) wire.BroadcastOptions {
	return wire.BroadcastOptions{
		Rooms:  nonNil(o.Rooms),
		Except: nonNil(o.Except),
		Flags:  wire.Flags{Volatile: o.Flags.Volatile, Compress: o.Flags.Compress, Timeout: o.Flags.Timeout},
	}
}

func nonNil(rooms []string) []string {
	if rooms == nil {
		return []string{}
	}
	return rooms
}

// infoOut is the wire form of a local socket in a fetchSockets answer.
func infoOut(s socketio.SocketInfo) wire.SocketInfo {
	var hs json.RawMessage
	if s.Handshake != nil {
		hs, _ = json.Marshal(s.Handshake)
	}
	return wire.SocketInfo{ID: s.ID, Handshake: hs, Rooms: s.Rooms, Data: s.Data}
}

// infoIn is a socket of another server, from a fetchSockets answer.
func infoIn(s wire.SocketInfo) socketio.SocketInfo {
	hs := new(socketio.Handshake)
	if len(s.Handshake) > 0 {
		_ = hs.UnmarshalJSON(s.Handshake)
	}
	data := s.Data
	if data == nil {
		data = json.RawMessage(`{}`)
	}
	return socketio.SocketInfo{ID: s.ID, Handshake: hs, Rooms: s.Rooms, Data: data}
}
