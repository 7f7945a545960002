package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/tomato-code/realtime/adapter/redis/wire"
	"github.com/tomato-code/realtime/socketio"
	"github.com/tomato-code/realtime/socketio/parser"
)

// pending is a request of this node waiting for the other servers' answers.
type pending struct {
	kind   wire.RequestType
	expect int
	done   chan struct{}

	mu       sync.Mutex
	got      int
	finished bool
	err      error
	res      answers
}

// answers are what the other servers sent back.
type answers struct {
	sockets []socketio.SocketInfo
	rooms   []string
	acks    []socketio.Args
}

var requestNames = map[wire.RequestType]string{
	wire.TypeSockets: "allSockets", wire.TypeAllRooms: "allRooms", wire.TypeRemoteFetch: "fetchSockets",
	wire.TypeServerSideEmit: "serverSideEmit",
}

// ask publishes r and waits for an answer from every other server (the server count minus
// self), for at most RequestsTimeout or until ctx ends. With answers missing it returns those
// it has and an error wrapping ErrTimeout (and ctx.Err() when ctx ended).
func (a *Adapter) ask(ctx context.Context, r wire.Request, self int) (*answers, error) {
	n, err := a.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	if n-self <= 0 {
		return &answers{}, nil
	}
	id := newID(10)
	r.UID, r.RequestID = a.uid, id
	msg, err := wire.AppendRequest(nil, r)
	if err != nil {
		return nil, fmt.Errorf("redis adapter: %w", err)
	}
	p := &pending{kind: r.Type, expect: n - self, done: make(chan struct{})}
	if !a.track(func() { a.requests[id] = p }) {
		return nil, ErrClosed
	}
	defer func() {
		a.mu.Lock()
		delete(a.requests, id)
		a.mu.Unlock()
	}()
	if err := a.c.publish(a.ch.Request, msg); err != nil {
		return nil, err
	}
	timer := time.NewTimer(a.c.cfg.RequestsTimeout)
	defer timer.Stop()
	var ctxErr error
	select {
	case <-p.done:
	case <-timer.C:
	case <-ctx.Done():
		ctxErr = ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished = true
	switch {
	case p.err != nil:
		return &p.res, p.err
	case p.got >= p.expect:
		return &p.res, nil
	case ctxErr != nil:
		return &p.res, fmt.Errorf("%w: %s: %d of %d servers answered: %w", ErrTimeout, requestNames[r.Type], p.got, p.expect, ctxErr)
	}
	return &p.res, fmt.Errorf("%w: %s: %d of %d servers answered", ErrTimeout, requestNames[r.Type], p.got, p.expect)
}

// add records one server's answer.
func (p *pending) add(r wire.Response) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished || p.got >= p.expect {
		return
	}
	// Every decodable answer counts, also one without its list (Node counts it too).
	p.got++
	switch p.kind {
	case wire.TypeSockets, wire.TypeRemoteFetch:
		for _, s := range r.Sockets {
			p.res.sockets = append(p.res.sockets, infoIn(s))
		}
	case wire.TypeAllRooms:
		p.res.rooms = append(p.res.rooms, r.Rooms...)
	case wire.TypeServerSideEmit:
		p.res.acks = append(p.res.acks, argsOf(r.Data, nil))
	}
	if p.got == p.expect {
		close(p.done)
	}
}

func (p *pending) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.finished && p.err == nil && p.got < p.expect {
		p.err = err
		close(p.done)
	}
}

// failPending ends every waiting request of the adapter with ErrClosed.
func (a *Adapter) failPending() {
	a.mu.Lock()
	list := make([]*pending, 0, len(a.requests))
	for _, p := range a.requests {
		list = append(list, p)
	}
	a.mu.Unlock()
	for _, p := range list {
		p.fail(ErrClosed)
	}
}

// argsOf makes the Args of one acknowledgement argument (none when arg is nil).
func argsOf(arg json.RawMessage, attachments [][]byte) socketio.Args {
	array := []byte("[]")
	if arg != nil {
		array = append(append([]byte{'['}, arg...), ']')
	}
	args, err := socketio.NewArgs(array, attachments)
	if err != nil {
		args, _ = socketio.NewArgs([]byte("[]"), nil)
	}
	return args
}

// firstArg returns the first argument of args as JSON with placeholders, nil without one.
func firstArg(args socketio.Args) (json.RawMessage, [][]byte) {
	if args.Len() == 0 {
		return nil, nil
	}
	return args.Raw(0), args.Attachments()
}

func (a *Adapter) malformed(channel string, err error) {
	a.c.stats.malformed.Add(1)
	a.c.log.Debug("redis adapter: malformed message dropped", "channel", channel, "err", err)
}

// onResponse takes an answer to one of this node's requests; it runs on the subscriber
// goroutine.
func (a *Adapter) onResponse(payload []byte) {
	r, err := wire.DecodeResponse(payload)
	if err != nil {
		a.malformed(a.ch.Response, err)
		return
	}
	a.mu.Lock()
	ar, p := a.acks[r.RequestID], a.requests[r.RequestID]
	a.mu.Unlock()
	switch {
	case ar != nil && r.Type == wire.TypeBroadcastClientCount:
		ar.call(func() { ar.onCount(r.ClientCount) })
	case ar != nil && r.Type == wire.TypeBroadcastAck:
		args := argsOf(r.Ack, r.AckAttachments)
		ar.call(func() { ar.onAck(args) })
	case p != nil:
		p.add(r)
	}
}

// onBroadcast delivers a broadcast of another server to the local targets. roomChecked says
// that the message came on the channel of a room this node holds (see Cluster.handle).
//
// A message on the namespace channel, where broadcasts to several rooms travel, is peeked at
// first: its packet is passed over, and the message is dropped when it is our own or when it
// names rooms of which this node holds none, which is what most nodes of a cluster do with
// most such messages. Only the MessagePack structure and the options of a dropped message
// are checked, so a message whose packet is not a valid event (wrong type, no data) counts as
// malformed only on the nodes that hold one of its rooms; one that is not MessagePack, not an
// array [uid, packet map, opts] or has invalid options still counts everywhere. The namespace
// in the packet plays no part in the drop: a message for rooms this node does not hold
// reaches no local socket whatever its namespace.
func (a *Adapter) onBroadcast(payload []byte, roomChecked bool) {
	if roomChecked {
		// Our own, come back through Redis (it was delivered here before it was published).
		if uid, ok := wire.BroadcastUID(payload); ok && uid == a.uid {
			a.c.stats.skipped.Add(1)
			return
		}
	} else {
		uid, opts, err := wire.PeekBroadcast(payload)
		if err != nil {
			a.malformed(a.ch.Broadcast, err)
			return
		}
		if uid == a.uid || (len(opts.Rooms) > 0 && !a.holdsAny(opts.Rooms)) {
			a.c.stats.skipped.Add(1)
			return
		}
	}
	b, err := wire.DecodeBroadcast(payload)
	if err != nil {
		a.malformed(a.ch.Broadcast, err)
		return
	}
	if b.Packet.Nsp != a.ns.Name() {
		return // another namespace's (our own were dropped above, by their uid)
	}
	_ = a.mem.Broadcast(a.packetIn(b.Packet), optionsIn(b.Opts))
}

// holdsAny reports whether a local socket is in one of rooms.
func (a *Adapter) holdsAny(rooms []string) bool {
	for _, r := range rooms {
		if a.mem.HasRoom(r) {
			return true
		}
	}
	return false
}

func (a *Adapter) packetIn(p wire.Packet) *parser.Packet {
	return &parser.Packet{Type: parser.Event, Namespace: a.ns.Name(), ID: parser.NoID, Data: p.Data, Attachments: p.Attachments}
}

func optionsIn(o wire.BroadcastOptions) *socketio.BroadcastOptions {
	return &socketio.BroadcastOptions{Rooms: o.Rooms, Except: o.Except,
		Flags: socketio.BroadcastFlags{Volatile: o.Flags.Volatile, Compress: o.Flags.Compress, Timeout: o.Flags.Timeout}}
}

// onRequest answers or applies a request of another server (or of an emitter).
func (a *Adapter) onRequest(payload []byte) {
	r, err := wire.DecodeRequest(payload)
	if err != nil {
		a.malformed(a.ch.Request, err)
		return
	}
	switch r.Type {
	case wire.TypeSockets:
		if a.own(r) {
			return
		}
		ids := a.mem.SocketIDs(&socketio.BroadcastOptions{Rooms: r.Rooms})
		a.respond(wire.AppendSocketsResponse(nil, r.RequestID, ids))
	case wire.TypeAllRooms:
		if a.own(r) {
			return
		}
		a.respond(wire.AppendAllRoomsResponse(nil, r.RequestID, a.mem.Rooms()))
	case wire.TypeRemoteJoin, wire.TypeRemoteLeave, wire.TypeRemoteDisconnect:
		// Our own requests were applied locally when they were made.
		if r.UID != a.uid {
			a.applyRemote(r)
		}
	case wire.TypeRemoteFetch:
		if a.own(r) {
			return
		}
		local, _ := a.mem.FetchSockets(context.Background(), optionsIn(*r.Opts))
		infos := make([]wire.SocketInfo, 0, len(local))
		for _, s := range local {
			infos = append(infos, infoOut(s))
		}
		if msg, err := wire.AppendFetchResponse(nil, r.RequestID, infos); err == nil {
			a.respond(msg)
		}
	case wire.TypeServerSideEmit:
		if r.UID == a.uid {
			return
		}
		var reply func(socketio.Args)
		if r.RequestID != "" {
			id := r.RequestID
			reply = func(args socketio.Args) { a.replyServerSide(id, args) }
		}
		a.ns.ServerSideEmit(r.Data, nil, reply)
	case wire.TypeBroadcast:
		a.mu.Lock()
		_, mine := a.acks[r.RequestID]
		a.mu.Unlock()
		if mine || r.UID == a.uid {
			return
		}
		a.broadcastForOther(r)
	}
}

// own reports a request this node made (it receives its own requests).
func (a *Adapter) own(r wire.Request) bool {
	if r.UID == a.uid {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	_, mine := a.requests[r.RequestID]
	return mine
}

func (a *Adapter) respond(msg []byte) {
	_ = a.c.publish(a.ch.Response, msg)
}

// applyRemote applies a join, leave or disconnect request to the local sockets.
func (a *Adapter) applyRemote(r wire.Request) {
	var sockets []*socketio.Socket
	if r.Opts != nil {
		sockets = a.mem.LocalSockets(optionsIn(*r.Opts))
	} else { // legacy by-socket form: answered by the node that has the socket
		for _, s := range a.mem.LocalSockets(&socketio.BroadcastOptions{Rooms: []string{r.SID}}) {
			if s.ID() == r.SID {
				sockets = append(sockets, s)
			}
		}
		if len(sockets) == 0 {
			return
		}
	}
	for _, s := range sockets {
		switch r.Type {
		case wire.TypeRemoteJoin:
			if r.Opts == nil {
				a.AddAll(s, []string{r.Room})
			} else {
				a.AddAll(s, r.Rooms)
			}
		case wire.TypeRemoteLeave:
			if r.Opts == nil {
				a.Del(s, r.Room)
			}
			for _, room := range r.Rooms {
				a.Del(s, room)
			}
		case wire.TypeRemoteDisconnect:
			s.Disconnect(r.Close)
		}
	}
	if r.Opts == nil && r.RequestID != "" {
		a.respond(wire.AppendLegacyResponse(nil, r.RequestID))
	}
}

// replyServerSide sends a server-side listener's acknowledgement: its first argument, as
// JSON.stringify would write it on a Node node.
func (a *Adapter) replyServerSide(requestID string, args socketio.Args) {
	var data json.RawMessage
	if raw, atts := firstArg(args); raw != nil {
		v, err := wire.FromSocketIO(raw, atts)
		if err != nil {
			return
		}
		if data, err = wire.ToJSON(v); err != nil {
			return
		}
	}
	if msg, err := wire.AppendServerSideEmitResponse(nil, requestID, data); err == nil {
		a.respond(msg)
	}
}

// broadcastForOther delivers another server's broadcast with acknowledgements and sends back
// the client count (also 0) and each client's first acknowledgement argument.
func (a *Adapter) broadcastForOther(r wire.Request) {
	wait := r.Opts.Flags.Timeout
	if wait <= 0 {
		wait = a.c.cfg.RequestsTimeout
	}
	ctx, cancel := context.WithTimeout(a.c.ctx, wait)
	time.AfterFunc(wait, cancel)
	id := r.RequestID
	_ = a.mem.BroadcastWithAck(ctx, a.packetIn(r.Packet), optionsIn(*r.Opts),
		func(n int) { a.respond(wire.AppendClientCountResponse(nil, id, n)) },
		func(args socketio.Args) {
			raw, atts := firstArg(args)
			if msg, err := wire.AppendBroadcastAckResponse(nil, id, raw, atts); err == nil {
				a.respond(msg)
			}
		})
}
