package service

import (
	"context"

	"github.com/tomato-code/realtime/socketio"
	"github.com/tomato-code/realtime/socketio/parser"
)

// instrument wraps the adapters a factory makes so that every emit of the namespace is
// counted (realtime_events_sent_total); recipients and volatile drops are counted where the
// library delivers (socketio.Config.OnBroadcast, see Service.delivered). It also
// tells an API emit with acknowledgements when its packets are queued (see hub.EmitWithAck).
func (s *Service) instrument(factory socketio.AdapterFactory) socketio.AdapterFactory {
	return func(ns socketio.LocalNamespace) socketio.Adapter {
		a := &countingAdapter{Adapter: factory(ns), s: s, ns: ns.Name()}
		if w, ok := a.Adapter.(socketio.JoinAwaiter); ok {
			// Kept visible: with REDIS_SUBSCRIPTION=rooms the CONNECT replies wait for the
			// subscriptions of the rooms the middleware joins (user, restaurant).
			return &countingJoinAdapter{countingAdapter: a, JoinAwaiter: w}
		}
		return a
	}
}

type countingAdapter struct {
	socketio.Adapter
	s  *Service
	ns string
}

// countingJoinAdapter is the countingAdapter of an adapter that confirms joins.
type countingJoinAdapter struct {
	*countingAdapter
	socketio.JoinAwaiter
}

func (a *countingAdapter) Broadcast(p *parser.Packet, opts *socketio.BroadcastOptions) error {
	a.s.metrics.EventSent(a.ns, -1)
	return a.Adapter.Broadcast(p, opts)
}

func (a *countingAdapter) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts *socketio.BroadcastOptions, onClientCount func(int), onAck func(socketio.Args)) error {
	a.s.metrics.EventSent(a.ns, -1)
	err := a.Adapter.BroadcastWithAck(ctx, p, opts, onClientCount, onAck)
	// The local delivery is done: an API emit waiting to return can go on (hub.EmitWithAck).
	if sent, ok := ctx.Value(sentKey{}).(func()); ok {
		sent()
	}
	return err
}

// delivered is the socketio.Config.OnBroadcast hook: every broadcast delivered on this node,
// emitted here or by another node, with or without acknowledgements.
func (s *Service) delivered(_ string, d socketio.Delivery) {
	s.metrics.Delivered(d.Queued, d.VolatileSkipped)
}
