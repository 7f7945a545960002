package socketio

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tomato-code/realtime/socketio/parser"
)

// Adapter is where a namespace keeps room membership and through which every broadcast and
// every operation on a set of sockets goes, so that a cluster adapter can make them span
// several servers. Its semantics are those of Node.js socket.io-adapter.
//
// Each namespace owns one Adapter, made by Config.Adapter. The MemoryAdapter is the default and
// is the local part of any adapter: a cluster adapter embeds or wraps it, forwards membership
// and local delivery to it, and adds the exchange with the other servers.
//
// Targets. A BroadcastOptions selects sockets: those in any of Rooms (every socket of the
// namespace when Rooms is empty), minus those in any of Except. Every socket is in the room
// named by its own id. A socket in several target rooms is still a single target: it gets a
// broadcast once.
//
// Delivery. Broadcast delivers to the local targets before it returns (a websocket or polling
// write queue takes the packet; nothing waits for the network) and sends the packet on to the
// other servers. The packets one goroutine broadcasts reach each local socket in that order;
// across servers the order is that of the cluster transport. Delivery is at most once: a
// socket that disconnects, or whose write queue is full, misses the packet; a volatile packet
// is dropped for sockets whose transport cannot take it at once.
//
// Concurrency. All methods are safe for concurrent use. Callbacks (onClientCount, onAck) may
// run on any goroutine, concurrently. Adapter methods must not call back into the namespace's
// handlers on the caller's goroutine, except DisconnectSockets (which runs disconnect
// handlers as Socket.Disconnect does).
type Adapter interface {
	// AddAll adds the local socket s to rooms. A room that does not exist is created. Adding
	// a socket to a room it is in does nothing. After DelAll(s), AddAll(s, ...) does nothing:
	// a socket that left does not come back.
	AddAll(s *Socket, rooms []string)
	// Del removes the local socket s from room. A room left empty is deleted. A socket cannot
	// leave the room of its own id.
	Del(s *Socket, room string)
	// DelAll removes the local socket s from every room; the namespace calls it once, when
	// s disconnects.
	DelAll(s *Socket)
	// SocketRooms returns the rooms of the local socket s, its own id first.
	SocketRooms(s *Socket) []string

	// Broadcast sends p to the targets of opts on every server (on this one only with
	// opts.Flags.Local). p is an EVENT packet of this namespace without ack id; it and opts
	// are immutable and may be retained. The local part encodes p once and gives the same
	// encoded messages to every target.
	Broadcast(p *parser.Packet, opts *BroadcastOptions) error
	// BroadcastWithAck sends p to the targets of opts on every server and collects their
	// acknowledgements. Each server that delivered calls onClientCount once with the number
	// of sockets it sent p to (0 included); each acknowledgement calls onAck (answers from
	// other servers carry their first argument only, as in Node.js). The local part assigns
	// p's ack id (LocalNamespace.NextAckID) and calls onClientCount before returning. After
	// ctx ends no more callbacks are made and the bookkeeping is dropped. opts.Flags.Timeout
	// tells other servers how long to keep theirs.
	BroadcastWithAck(ctx context.Context, p *parser.Packet, opts *BroadcastOptions, onClientCount func(n int), onAck func(Args)) error

	// FetchSockets returns the targets of opts on every server.
	FetchSockets(ctx context.Context, opts *BroadcastOptions) ([]SocketInfo, error)
	// AddSockets makes the targets of opts, on every server, join rooms.
	AddSockets(ctx context.Context, opts *BroadcastOptions, rooms []string) error
	// DelSockets makes the targets of opts, on every server, leave rooms.
	DelSockets(ctx context.Context, opts *BroadcastOptions, rooms []string) error
	// DisconnectSockets disconnects the targets of opts on every server, as
	// Socket.Disconnect(close) does.
	DisconnectSockets(ctx context.Context, opts *BroadcastOptions, close bool) error

	// ServerSideEmit sends an EVENT packet (its Data is [event, args...]) to the namespace's
	// server-side listeners of the other servers (never to this one's).
	ServerSideEmit(ctx context.Context, p *parser.Packet) error
	// ServerSideEmitWithAck does what ServerSideEmit does and waits for one answer from every
	// other server until ctx ends. It returns the answers received; when some are missing it
	// returns them with an error wrapping ctx.Err(). A single server returns no answers and
	// no error at once.
	ServerSideEmitWithAck(ctx context.Context, p *parser.Packet) ([]Args, error)
	// ServerCount returns the number of servers sharing this namespace, this one included.
	ServerCount(ctx context.Context) (int, error)

	// Close releases the adapter's resources; the namespace calls it when the server shuts
	// down or when a dynamic namespace is removed.
	Close() error
}

// BroadcastOptions selects the targets of a broadcast or of a cluster-wide operation.
type BroadcastOptions struct {
	// Rooms: the sockets in any of these rooms; empty means every socket of the namespace.
	Rooms []string
	// Except: sockets in any of these rooms are left out.
	Except []string
	// Flags change how packets are delivered.
	Flags BroadcastFlags
}

// BroadcastFlags are the delivery flags of a broadcast, those of Node.js socket.io.
type BroadcastFlags struct {
	// Volatile drops the packet for sockets whose transport cannot take it at once.
	Volatile bool
	// Compress is the per-message compression wish: nil when the emitter did not say. It is
	// carried to other servers; this server does not compress.
	Compress *bool
	// Local restricts the operation to this server.
	Local bool
	// Timeout is how long acknowledgements are awaited, for BroadcastWithAck (other servers
	// drop their bookkeeping after it). Zero means no deadline was set.
	Timeout time.Duration
}

// SocketInfo describes a socket, local or on another server, as FetchSockets returns it.
type SocketInfo struct {
	// ID is the socket id, also the name of its own room.
	ID string `json:"id"`
	// Handshake is the socket's handshake.
	Handshake *Handshake `json:"handshake"`
	// Rooms are the socket's rooms, its own id included.
	Rooms []string `json:"rooms"`
	// Data is the JSON encoding of the socket's data (Socket.SetData), {} when none.
	Data json.RawMessage `json:"data"`
}

// AdapterFactory makes the adapter of a namespace. ns is the namespace as adapters see it.
type AdapterFactory func(ns LocalNamespace) Adapter

// LocalNamespace is what a namespace offers its adapter.
type LocalNamespace interface {
	// Name returns the namespace name, e.g. "/" or "/admin".
	Name() string
	// NextAckID returns a fresh acknowledgement id for a packet of this namespace. Ids are
	// shared by a socket's own emits and the broadcasts it receives, so they come from one
	// counter per namespace.
	NextAckID() int64
	// ServerSideEmit delivers to this server's server-side listeners an event that another
	// server emitted (data is [event, args...]). reply, when not nil, is called at most once
	// with the listener's acknowledgement arguments. It reports whether a listener exists
	// for the event (an adapter answers nothing when none does, as Node.js).
	ServerSideEmit(data json.RawMessage, attachments [][]byte, reply func(Args)) bool
}
