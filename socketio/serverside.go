package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"

	"github.com/tomato-code/realtime/socketio/parser"
)

// ErrReservedServerSideEvent: server-side events may not use the names Node.js reserves for
// its own namespace events.
var ErrReservedServerSideEvent = errors.New("socketio: reserved server-side event name")

func reservedServerSide(event string) bool {
	return parser.IsReserved(event) || event == "connection" || event == "new_namespace"
}

// ServerSideEmit sends an event to the server-side listeners (OnServerSideEmit) of this
// namespace on the other servers of the cluster; this server's listeners do not get it. With
// one server it does nothing.
func (ns *Namespace) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	p, err := ns.serverSidePacket(event, args)
	if err != nil {
		return err
	}
	return ns.adapter.ServerSideEmit(ctx, p)
}

// ServerSideEmitWithAck sends an event as ServerSideEmit does and waits for one answer from
// each other server until ctx ends (see Adapter.ServerSideEmitWithAck).
func (ns *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	p, err := ns.serverSidePacket(event, args)
	if err != nil {
		return nil, err
	}
	return ns.adapter.ServerSideEmitWithAck(ctx, p)
}

func (ns *Namespace) serverSidePacket(event string, args []any) (*parser.Packet, error) {
	if reservedServerSide(event) {
		return nil, ErrReservedServerSideEvent
	}
	if ns.match != nil {
		return nil, errors.New("socketio: server-side emit on a dynamic parent namespace")
	}
	return eventPacket(ns, event, args)
}

// dispatchServerSide runs the listener of an event another server emitted.
func (ns *Namespace) dispatchServerSide(data json.RawMessage, atts [][]byte, reply func(Args)) bool {
	event, err := parser.EventName(data)
	if err != nil || reservedServerSide(event) {
		return false
	}
	elems, err := parser.Elements(nil, data)
	if err != nil || len(elems) == 0 {
		return false
	}
	ns.mu.RLock()
	h := ns.serverSide[event]
	ns.mu.RUnlock()
	if h == nil {
		return false
	}
	var ack Ack
	if reply != nil {
		var sent atomic.Bool
		ack = func(args ...any) error {
			if !sent.CompareAndSwap(false, true) {
				return ErrAckSent
			}
			b, atts, err := parser.AppendArray(nil, nil, args...)
			if err != nil {
				return err
			}
			a, err := NewArgs(b, atts)
			if err != nil {
				return err
			}
			reply(a)
			return nil
		}
	}
	h(parser.ArgsOf(elems[1:], atts), ack)
	return true
}
