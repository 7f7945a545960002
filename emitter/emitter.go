// Package emitter publishes Socket.IO events and commands through Redis from any Go program,
// in the format of @socket.io/redis-emitter 5.x, so that every server of a cluster running a
// classic Redis adapter (this module's adapter/redis, or Node's @socket.io/redis-adapter 8.x
// createAdapter) delivers them to its clients.
//
//	e := emitter.New(redisClient, emitter.Config{})
//	err := e.To("user:42").Except("muted").Emit(ctx, "order:new", order)
//	err = e.Of("/admin").In("ops").SocketsJoin(ctx, "incident:7")
//
// Like its Node counterpart it only publishes: it never subscribes, cannot receive
// acknowledgements and does not know whether any server is listening. Emitter and Operator
// values are immutable and safe for concurrent use.
package emitter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tomato-code/realtime/adapter/redis/wire"
	"github.com/tomato-code/realtime/socketio/parser"
)

// Publisher is the one Redis command the emitter needs. *redis.Client, *redis.ClusterClient,
// *redis.Ring and redis.UniversalClient implement it.
type Publisher interface {
	Publish(ctx context.Context, channel string, message any) *redis.IntCmd
}

// Config configures an Emitter.
type Config struct {
	// Key is the channel prefix; it must equal the servers' adapter key. Default "socket.io".
	Key string
}

// ErrReservedEvent is returned for an event name that Socket.IO reserves (connect,
// disconnect, ...): clients would take it for a protocol event.
var ErrReservedEvent = errors.New("emitter: reserved event name")

// Emitter publishes to one namespace ("/" for an Emitter made by New). Its Operator methods
// target every socket of the namespace until narrowed with To, In or Except.
type Emitter struct {
	Operator
}

// New returns an Emitter for the main namespace "/".
func New(pub Publisher, cfg Config) *Emitter {
	key := cfg.Key
	if key == "" {
		key = wire.DefaultKey
	}
	return &Emitter{Operator{pub: pub, key: key, nsp: "/", ch: wire.NewChannels(key, "/")}}
}

// Of returns an Emitter for namespace nsp ("/" is added in front when missing).
func (e *Emitter) Of(nsp string) *Emitter {
	if nsp == "" || nsp[0] != '/' {
		nsp = "/" + nsp
	}
	return &Emitter{Operator{pub: e.pub, key: e.key, nsp: nsp, ch: wire.NewChannels(e.key, nsp)}}
}

// ServerSideEmit sends an event to the server-side listeners of the namespace on every
// server (Socket.IO's serverSideEmit). Arguments are JSON values as JSON.stringify writes
// them ([]byte becomes {"type":"Buffer","data":[...]}, time.Time its ISO text). There are no
// acknowledgements.
func (e *Emitter) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	data, err := eventValues(event, args)
	if err != nil {
		return err
	}
	text, err := wire.ToJSON(data)
	if err != nil {
		return fmt.Errorf("emitter: %w", err)
	}
	msg, err := wire.AppendRequest(nil, wire.Request{Type: wire.TypeServerSideEmit, UID: wire.EmitterUID, Data: text})
	if err != nil {
		return fmt.Errorf("emitter: %w", err)
	}
	return e.publish(ctx, e.ch.Request, msg)
}

// Operator is a broadcast target: rooms, excluded rooms and flags. Each method returns a new
// Operator; the zero value is not usable (start from an Emitter).
type Operator struct {
	pub    Publisher
	key    string
	nsp    string
	ch     wire.Channels
	rooms  []string
	except []string
	flags  wire.Flags
}

// To returns an Operator that also targets the sockets in rooms.
func (o *Operator) To(rooms ...string) *Operator {
	c := *o
	c.rooms = appendUnique(o.rooms, rooms)
	return &c
}

// In is To.
func (o *Operator) In(rooms ...string) *Operator { return o.To(rooms...) }

// Except returns an Operator that leaves out the sockets in rooms.
func (o *Operator) Except(rooms ...string) *Operator {
	c := *o
	c.except = appendUnique(o.except, rooms)
	return &c
}

// Volatile returns an Operator whose events are dropped for clients that cannot take them
// right away.
func (o *Operator) Volatile() *Operator {
	c := *o
	c.flags.Volatile = true
	return &c
}

// Compress returns an Operator with per-message deflate switched on or off (Socket.IO
// compresses by default). The flags map is written volatile first, then compress; the Node
// emitter writes them in the order they were set, which no receiver depends on.
func (o *Operator) Compress(compress bool) *Operator {
	c := *o
	c.flags.Compress = &compress
	return &c
}

// Emit publishes event with args to the targeted sockets. Arguments are encoded as the
// socketio package encodes event arguments ([]byte and binary inside []any/map[string]any
// become binary attachments, json.RawMessage is written as it is, other values go through
// encoding/json); a time.Time argument travels as a MessagePack timestamp, which clients
// receive as ISO text with milliseconds, as a JavaScript Date would.
func (o *Operator) Emit(ctx context.Context, event string, args ...any) error {
	if parser.IsReserved(event) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	data, err := eventValues(event, args)
	if err != nil {
		return err
	}
	msg, err := appendEmitterBroadcast(nil, o.nsp, data, wire.BroadcastOptions{Rooms: o.rooms, Except: o.except, Flags: o.flags})
	if err != nil {
		return err
	}
	return o.publish(ctx, o.ch.ForRooms(o.rooms), msg)
}

// SocketsJoin makes the targeted sockets, on every server, join rooms.
func (o *Operator) SocketsJoin(ctx context.Context, rooms ...string) error {
	return o.request(ctx, wire.Request{Type: wire.TypeRemoteJoin, Rooms: nonNil(rooms)})
}

// SocketsLeave makes the targeted sockets, on every server, leave rooms.
func (o *Operator) SocketsLeave(ctx context.Context, rooms ...string) error {
	return o.request(ctx, wire.Request{Type: wire.TypeRemoteLeave, Rooms: nonNil(rooms)})
}

// DisconnectSockets disconnects the targeted sockets on every server; close also closes their
// underlying connections.
func (o *Operator) DisconnectSockets(ctx context.Context, close bool) error {
	return o.request(ctx, wire.Request{Type: wire.TypeRemoteDisconnect, Close: close})
}

func (o *Operator) request(ctx context.Context, r wire.Request) error {
	r.Opts = &wire.BroadcastOptions{Rooms: o.rooms, Except: o.except}
	msg, err := wire.AppendRequest(nil, r)
	if err != nil {
		return fmt.Errorf("emitter: %w", err)
	}
	return o.publish(ctx, o.ch.Request, msg)
}

func (o *Operator) publish(ctx context.Context, channel string, msg []byte) error {
	if err := o.pub.Publish(ctx, channel, msg).Err(); err != nil {
		return fmt.Errorf("emitter: publish to %s: %w", channel, err)
	}
	return nil
}

func appendUnique(dst, add []string) []string {
	out := make([]string, len(dst), len(dst)+len(add))
	copy(out, dst) // never share the backing array with the Operator this one came from
next:
	for _, r := range add {
		for _, have := range out {
			if have == r {
				continue next
			}
		}
		out = append(out, r)
	}
	return out
}

func nonNil(rooms []string) []string {
	if rooms == nil {
		return []string{}
	}
	return rooms
}

// eventValues converts [event, args...] to MessagePack values.
func eventValues(event string, args []any) ([]any, error) {
	data := make([]any, 0, 1+len(args))
	data = append(data, event)
	for i, a := range args {
		v, err := argValue(a)
		if err != nil {
			return nil, fmt.Errorf("emitter: argument %d: %w", i+1, err)
		}
		data = append(data, v)
	}
	return data, nil
}

func argValue(a any) (any, error) {
	switch a := a.(type) {
	case time.Time:
		return wire.TimestampOf(a), nil
	case wire.Timestamp:
		return a, nil
	}
	text, atts, err := parser.AppendValue(nil, nil, a)
	if err != nil {
		return nil, err
	}
	return wire.FromSocketIO(text, atts)
}

func appendEmitterBroadcast(dst []byte, nsp string, data []any, opts wire.BroadcastOptions) ([]byte, error) {
	b := wire.Broadcast{UID: wire.EmitterUID, Packet: wire.Packet{Type: wire.PacketEvent, Nsp: nsp, Values: data}, Opts: opts}
	out, err := wire.AppendEmitterBroadcast(dst, b)
	if err != nil {
		return nil, fmt.Errorf("emitter: %w", err)
	}
	return out, nil
}
