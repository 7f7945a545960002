package service

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/tomato-code/realtime/service/api"
	"github.com/tomato-code/realtime/service/metrics"
	"github.com/tomato-code/realtime/socketio"
	"github.com/tomato-code/realtime/socketio/parser"
)

// hub performs the internal API's operations on the Socket.IO server (api.Hub).
type hub struct {
	io      *socketio.Server
	log     *slog.Logger
	metrics *metrics.Metrics
}

func (h *hub) operator(t api.Target) socketio.BroadcastOperator {
	op := h.io.Of(t.Namespace).To(t.Rooms...)
	if len(t.Except) > 0 {
		op = op.Except(t.Except...)
	}
	return op
}

// values passes the API's payloads on as parser.TrustedJSON: the API's request parser checked
// their syntax, and the body's UTF-8, so the encoder need not scan them again.
func values(args []json.RawMessage) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = parser.TrustedJSON(a)
	}
	return out
}

func (h *hub) logOut(t api.Target, event string, args []json.RawMessage, volatile bool, ack time.Duration) {
	if !h.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	payload := ""
	if len(args) > 0 {
		payload = clip(args[0])
	}
	h.log.Debug("event out", "namespace", t.Namespace, "event", event, "rooms", t.Rooms, "except", t.Except,
		"volatile", volatile, "ackTimeout", ack, "payload", payload)
}

// maxLoggedPayload bounds the payload text of one debug log line.
const maxLoggedPayload = 2048

// clip returns raw JSON for a log line, cut to maxLoggedPayload bytes. It takes text as it
// comes, a payload's bytes or an event's arguments as a string, so that neither is copied
// into the other form first.
func clip[T ~string | ~[]byte](raw T) string {
	if len(raw) <= maxLoggedPayload {
		return string(raw)
	}
	return string(raw[:maxLoggedPayload]) + "...(" + strconv.Itoa(len(raw)) + " bytes)"
}

// Emit implements api.Hub.
func (h *hub) Emit(_ context.Context, t api.Target, event string, args []json.RawMessage, volatile bool) error {
	op := h.operator(t)
	if volatile {
		op = op.Volatile()
	}
	h.logOut(t, event, args, volatile, 0)
	// An API emit has one argument or none: passed as such, the variadic slice stays on the
	// stack, where values would allocate it. The payload is trusted as values explains.
	switch len(args) {
	case 0:
		return op.Emit(event)
	case 1:
		return op.Emit(event, parser.TrustedJSON(args[0]))
	}
	return op.Emit(event, values(args)...)
}

// EmitWithAck implements api.Hub. The operator's EmitWithAck blocks until the answers are in,
// so it runs on its own goroutine; this method returns once the adapter has queued the packets
// (countingAdapter signals it through the context), so that the emits of a batch go out in
// order, with or without acknowledgements.
//
// It returns ctx.Err(), and done is never called, when ctx ends before the packets are queued:
// an adapter that does not heed ctx (a cluster adapter stuck publishing) must not hold the
// API's request, nor a batch's, past its caller's deadline.
func (h *hub) EmitWithAck(ctx context.Context, t api.Target, event string, args []json.RawMessage, volatile bool, timeout time.Duration, done func(api.AckResult)) error {
	op := h.operator(t)
	if volatile {
		op = op.Volatile()
	}
	h.logOut(t, event, args, volatile, timeout)
	// Whichever of "queued" and "given up" happens first decides, through once, whether done
	// is called: never both an error and a result (api.Handler keeps room for one answer).
	sent := make(chan struct{})
	var once sync.Once
	abandoned := false // set under once; read after once.Do, which orders it
	markSent := func() { once.Do(func() { close(sent) }) }
	ctx = context.WithValue(ctx, sentKey{}, markSent)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		acks, err := op.EmitWithAck(ctx, event, values(args)...)
		markSent() // when it failed before sending
		if abandoned {
			return
		}
		res := api.AckResult{Responses: make([]json.RawMessage, 0, len(acks)), TimedOut: err != nil}
		if err != nil && !errors.Is(err, socketio.ErrAckTimeout) {
			h.log.Warn("emit with ack failed", "event", event, "error", err)
		}
		for _, a := range acks {
			// The first argument of each client's callback, as Node.js collects them.
			first := a.Raw(0)
			if first == nil {
				first = json.RawMessage("null")
			}
			res.Responses = append(res.Responses, first)
		}
		done(res)
	}()
	select {
	case <-sent:
		return nil
	case <-ctx.Done():
	}
	once.Do(func() { abandoned = true })
	if !abandoned { // queued meanwhile: done will be called
		return nil
	}
	return ctx.Err()
}

// sentKey carries, in the context of an emit with acknowledgements, the function that tells
// hub.EmitWithAck the packets are queued.
type sentKey struct{}

// Join implements api.Hub.
func (h *hub) Join(ctx context.Context, t api.Target, rooms []string) error {
	return h.operator(t).SocketsJoin(ctx, rooms...)
}

// Leave implements api.Hub.
func (h *hub) Leave(ctx context.Context, t api.Target, rooms []string) error {
	return h.operator(t).SocketsLeave(ctx, rooms...)
}

// Disconnect implements api.Hub.
func (h *hub) Disconnect(ctx context.Context, t api.Target, close bool) error {
	return h.operator(t).DisconnectSockets(ctx, close)
}

// Sockets implements api.Hub. The transport is known for this node's sockets only.
func (h *hub) Sockets(ctx context.Context, t api.Target) ([]api.SocketInfo, error) {
	found, err := h.operator(t).FetchSockets(ctx)
	if err != nil {
		return nil, err
	}
	ns := h.io.Of(t.Namespace)
	out := make([]api.SocketInfo, 0, len(found))
	for _, rs := range found {
		var d fetchedData
		_ = rs.DecodeData(&d)
		info := api.SocketInfo{ID: rs.ID, UserID: d.UserID, RestaurantID: d.RestaurantID, Rooms: rs.Rooms}
		if at, err := time.Parse(time.RFC3339Nano, d.ConnectedAt); err == nil {
			info.ConnectedAt = at
		} else if rs.Handshake != nil {
			info.ConnectedAt = rs.Handshake.Time
		}
		if local, ok := ns.Socket(rs.ID); ok {
			info.Transport = local.Transport()
		}
		out = append(out, info)
	}
	return out, nil
}
