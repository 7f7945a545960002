package socketio

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tomato-code/realtime/socketio/parser"
)

// BroadcastOperator selects sockets of a namespace (by rooms, on every server) and acts on
// them. It is a value: each method returns a modified copy, so an operator can be kept and
// reused. Start one from Namespace.To, Namespace.Except, Socket.To, Socket.Broadcast...
//
//	ns.To("room1", "room2").Except("banned").Emit("news", item)
type BroadcastOperator struct {
	ns   *Namespace
	opts BroadcastOptions
}

func newOperator(ns *Namespace) BroadcastOperator { return BroadcastOperator{ns: ns} }

// To adds rooms to the target: sockets in any of the rooms are targeted (once each). The
// first rooms an operator gets are kept as given, not copied (a service passes the room list
// of every request through here): do not modify the slice while the operator is in use.
func (o BroadcastOperator) To(rooms ...string) BroadcastOperator {
	o.opts.Rooms = appendRooms(o.opts.Rooms, rooms)
	return o
}

// In is To.
func (o BroadcastOperator) In(rooms ...string) BroadcastOperator { return o.To(rooms...) }

// Except leaves out the sockets in any of rooms. As with To, the first rooms are kept as
// given.
func (o BroadcastOperator) Except(rooms ...string) BroadcastOperator {
	o.opts.Except = appendRooms(o.opts.Except, rooms)
	return o
}

// appendRooms adds rooms to dst. An empty dst takes rooms itself, with its capacity clipped;
// otherwise a clipped dst makes append copy. Either way, operators derived from one another
// never append into a backing array they share.
func appendRooms(dst, rooms []string) []string {
	if len(dst) == 0 {
		return slices.Clip(rooms)
	}
	return append(slices.Clip(dst), rooms...)
}

// Volatile drops the packets for clients that cannot take them at once.
func (o BroadcastOperator) Volatile() BroadcastOperator {
	o.opts.Flags.Volatile = true
	return o
}

// Compress records the per-message compression wish for cluster peers (this server does not
// compress).
func (o BroadcastOperator) Compress(compress bool) BroadcastOperator {
	o.opts.Flags.Compress = &compress
	return o
}

// Local restricts the operator to this server.
func (o BroadcastOperator) Local() BroadcastOperator {
	o.opts.Flags.Local = true
	return o
}

// Options returns the targets and flags the operator carries.
func (o BroadcastOperator) Options() BroadcastOptions { return o.opts }

// targets returns the namespaces the operator acts on: its own, or a dynamic parent's children.
func (o BroadcastOperator) targets() []*Namespace {
	if o.ns.match != nil {
		return o.ns.childList()
	}
	return []*Namespace{o.ns}
}

// Emit sends an event to the targeted sockets. The arguments are encoded once and the same
// bytes go to every socket. Arguments are encoded as Socket.Emit encodes them.
func (o BroadcastOperator) Emit(event string, args ...any) error {
	if parser.IsReserved(event) {
		return ErrReservedEvent
	}
	if o.ns.match == nil {
		// The usual case, one namespace: no list of targets to build.
		b, err := newBroadcast(o.ns, event, args, o.opts)
		if err != nil {
			return err
		}
		return o.ns.adapter.Broadcast(&b.p, &b.opts)
	}
	var errs []error
	enc := childEvents{event: event, args: args}
	for _, ns := range o.targets() {
		b := &broadcast{opts: o.opts}
		if err := enc.fill(&b.p, ns); err != nil {
			return err
		}
		if err := ns.adapter.Broadcast(&b.p, &b.opts); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// broadcast is what Emit hands an adapter, which may keep both parts: one allocation instead
// of one for the packet and one for the options.
type broadcast struct {
	p    parser.Packet
	opts BroadcastOptions
}

// newBroadcast encodes an EVENT packet of ns for a broadcast with opts.
func newBroadcast(ns *Namespace, event string, args []any, opts BroadcastOptions) (*broadcast, error) {
	b := &broadcast{opts: opts}
	if err := encodeEvent(&b.p, ns, event, args); err != nil {
		return nil, err
	}
	return b, nil
}

// eventPacket encodes an EVENT packet of ns.
func eventPacket(ns *Namespace, event string, args []any) (*parser.Packet, error) {
	p := new(parser.Packet)
	if err := encodeEvent(p, ns, event, args); err != nil {
		return nil, err
	}
	return p, nil
}

// childEvents gives the namespaces of a broadcast their EVENT packets, encoding the arguments
// once: the packets of a dynamic parent's children differ only in Namespace, and adapters
// only read Data and Attachments, so the packets share them.
type childEvents struct {
	event string
	args  []any
	first *parser.Packet // the first namespace's, once encoded
}

// fill fills p as the EVENT packet of ns.
func (e *childEvents) fill(p *parser.Packet, ns *Namespace) error {
	if e.first == nil {
		if err := encodeEvent(p, ns, e.event, e.args); err != nil {
			return err
		}
		e.first = p
		return nil
	}
	*p = *e.first
	p.Namespace = ns.name
	return nil
}

// encodeEvent fills p as an EVENT packet of ns. Its Data is a fresh slice of exact size:
// adapters may keep it.
func encodeEvent(p *parser.Packet, ns *Namespace, event string, args []any) error {
	buf := getBuffer()
	defer putBuffer(buf)
	data, atts, err := parser.AppendEvent((*buf)[:0], nil, event, args...)
	*buf = data
	if err != nil {
		return err
	}
	*p = parser.Packet{Type: parser.Event, Namespace: ns.name, ID: parser.NoID,
		Data: append([]byte(nil), data...), Attachments: atts}
	return nil
}

// EmitWithAck sends an event to the targeted sockets and waits until every one of them, on
// every server, has acknowledged, or ctx ends. It returns the acknowledgements' arguments, one
// Args per client (from other servers, the first argument only); when some are missing it
// returns those received with an error wrapping ErrAckTimeout and ctx.Err(). Give ctx a
// deadline: a client may never answer. The deadline is also what cluster peers are told.
func (o BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	if parser.IsReserved(event) {
		return nil, ErrReservedEvent
	}
	targets := o.targets()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // tells the adapters to drop their bookkeeping
	col := newAckCollector(len(targets))
	opts := o.opts
	if d, ok := ctx.Deadline(); ok {
		opts.Flags.Timeout = max(time.Until(d), time.Millisecond)
	}
	enc := childEvents{event: event, args: args}
	for _, ns := range targets {
		p := new(parser.Packet)
		if err := enc.fill(p, ns); err != nil {
			return nil, err
		}
		if err := ns.adapter.BroadcastWithAck(ctx, p, &opts, col.onCount, col.onAck); err != nil {
			return nil, err
		}
		n, err := ns.adapter.ServerCount(ctx)
		if err != nil {
			return nil, err
		}
		col.addServers(n)
	}
	col.addServers(0) // every count is known now
	select {
	case <-col.done:
		return col.result(), nil
	case <-ctx.Done():
		acks, clients := col.partial()
		return acks, fmt.Errorf("%w: %d of %d clients: %w", ErrAckTimeout, len(acks), clients, ctx.Err())
	}
}

// ackCollector gathers the answers of a broadcast with acknowledgements, as Node.js does:
// complete when every server reported its client count and that many acks arrived.
type ackCollector struct {
	mu       sync.Mutex
	pending  int // namespaces whose server count is not known yet
	servers  int // server counts expected
	reported int // client counts received
	clients  int
	acks     []Args
	done     chan struct{}
	finished bool
}

func newAckCollector(namespaces int) *ackCollector {
	return &ackCollector{pending: namespaces + 1, done: make(chan struct{})}
}

func (c *ackCollector) onCount(n int) {
	c.mu.Lock()
	c.reported++
	c.clients += n
	c.check()
	c.mu.Unlock()
}

func (c *ackCollector) onAck(a Args) {
	c.mu.Lock()
	if !c.finished {
		c.acks = append(c.acks, a)
		c.check()
	}
	c.mu.Unlock()
}

func (c *ackCollector) addServers(n int) {
	c.mu.Lock()
	c.servers += n
	c.pending--
	c.check()
	c.mu.Unlock()
}

func (c *ackCollector) check() {
	if !c.finished && c.pending == 0 && c.reported >= c.servers && len(c.acks) >= c.clients {
		c.finished = true
		close(c.done)
	}
}

func (c *ackCollector) result() []Args {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.acks
}

func (c *ackCollector) partial() ([]Args, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.finished = true
	return slices.Clone(c.acks), c.clients
}

// FetchSockets returns the targeted sockets, on every server.
func (o BroadcastOperator) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	var list []*RemoteSocket
	for _, ns := range o.targets() {
		opts := o.opts
		infos, err := ns.adapter.FetchSockets(ctx, &opts)
		if err != nil {
			return list, err
		}
		for _, info := range infos {
			list = append(list, &RemoteSocket{SocketInfo: info, ns: ns})
		}
	}
	return list, nil
}

// SocketsJoin makes the targeted sockets, on every server, join rooms.
func (o BroadcastOperator) SocketsJoin(ctx context.Context, rooms ...string) error {
	var errs []error
	for _, ns := range o.targets() {
		opts := o.opts
		errs = append(errs, ns.adapter.AddSockets(ctx, &opts, rooms))
	}
	return errors.Join(errs...)
}

// SocketsLeave makes the targeted sockets, on every server, leave rooms.
func (o BroadcastOperator) SocketsLeave(ctx context.Context, rooms ...string) error {
	var errs []error
	for _, ns := range o.targets() {
		opts := o.opts
		errs = append(errs, ns.adapter.DelSockets(ctx, &opts, rooms))
	}
	return errors.Join(errs...)
}

// DisconnectSockets disconnects the targeted sockets, on every server (see Socket.Disconnect).
func (o BroadcastOperator) DisconnectSockets(ctx context.Context, close bool) error {
	var errs []error
	for _, ns := range o.targets() {
		opts := o.opts
		errs = append(errs, ns.adapter.DisconnectSockets(ctx, &opts, close))
	}
	return errors.Join(errs...)
}
