package service

import (
	"context"
	"sync/atomic"

	"github.com/tomato-code/realtime/socketio"
	"github.com/tomato-code/realtime/socketio/parser"
)

// instrument wraps the adapters a factory makes so that every emit of the namespace is
// counted (realtime_events_sent_total), and the recipients of emits with acknowledgement too
// (realtime_broadcast_recipients): the adapter reports those through onClientCount. It also
// tells an API emit with acknowledgements when its packets are queued (see hub.EmitWithAck).
func (s *Service) instrument(factory socketio.AdapterFactory) socketio.AdapterFactory {
	return func(ns socketio.LocalNamespace) socketio.Adapter {
		return &countingAdapter{Adapter: factory(ns), s: s, ns: ns.Name()}
	}
}

type countingAdapter struct {
	socketio.Adapter
	s  *Service
	ns string
}

func (a *countingAdapter) Broadcast(p *parser.Packet, opts *socketio.BroadcastOptions) error {
	a.s.metrics.EventSent(a.ns, -1)
	return a.Adapter.Broadcast(p, opts)
}

func (a *countingAdapter) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts *socketio.BroadcastOptions, onClientCount func(int), onAck func(socketio.Args)) error {
	var counted atomic.Bool
	err := a.Adapter.BroadcastWithAck(ctx, p, opts, func(n int) {
		// The first count is this node's, reported before BroadcastWithAck returns; later
		// ones come from other nodes, concurrently.
		if counted.CompareAndSwap(false, true) {
			a.s.metrics.EventSent(a.ns, n)
		}
		onClientCount(n)
	}, onAck)
	// The local delivery is done: an API emit waiting to return can go on (hub.EmitWithAck).
	if sent, ok := ctx.Value(sentKey{}).(func()); ok {
		sent()
	}
	return err
}
