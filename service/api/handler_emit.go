package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// emitRequest is one validated emit, from POST emit or one entry of a batch.
type emitRequest struct {
	target     Target
	event      string
	args       []json.RawMessage
	volatile   bool
	ackTimeout time.Duration // zero: no acknowledgement
}

// emitResult is the answer to one emit: {"success":true}, plus the clients' answers with ack.
type emitResult struct {
	Success   bool              `json:"success"`
	Message   string            `json:"message,omitempty"`
	Responses []json.RawMessage `json:"responses,omitempty"`
	TimedOut  *bool             `json:"timedOut,omitempty"`
}

// emitSlots is the storage of what an emit usually holds one of: its payload (e.args) and
// its room (e.target.Rooms, for a single room). One allocation for both instead of one each;
// a batch allocates the slots of all its entries at once.
type emitSlots struct {
	arg  [1]json.RawMessage
	room [1]string
}

// parseEmit reads one emit from o, using slots for its payload and room.
func (h *Handler) parseEmit(o *object, slots *emitSlots) (emitRequest, error) {
	var e emitRequest
	var err error
	if !o.present(mEvent) {
		return e, badRequest("%s is required", o.name(mEvent))
	}
	if e.event, err = o.str(mEvent); err != nil {
		return e, err
	}
	if e.event == "" {
		return e, badRequest("%s must not be empty", o.name(mEvent))
	}
	if ReservedEvents[e.event] {
		return e, badRequest("%s %q is reserved", o.name(mEvent), e.event)
	}
	o.one = slots.room[:0]
	if e.target, err = h.target(o); err != nil {
		return e, err
	}
	// An absent payload sends the event without arguments; null is sent as null.
	if p, ok := o.raw(mPayload); ok {
		slots.arg[0] = p
		e.args = slots.arg[:]
	}
	if e.volatile, err = o.boolean(mVolatile); err != nil {
		return e, err
	}
	if o.present(mAck) {
		if e.ackTimeout, err = parseAck(o); err != nil {
			return e, err
		}
	}
	return e, nil
}

func parseAck(o *object) (time.Duration, error) {
	msg := badRequest("%s must be an object with an integer timeoutMs between 1 and %d", o.name(mAck), MaxAckTimeout.Milliseconds())
	var ack object
	if err := ack.parse(o.vals[mAck], o.name(mAck), -1); err != nil || !ack.present(mTimeoutMs) {
		return 0, msg
	}
	ms, ok := intValue(ack.vals[mTimeoutMs])
	if !ok || ms < 1 || ms > MaxAckTimeout.Milliseconds() {
		return 0, badRequest("%s must be an integer between 1 and %d", ack.name(mTimeoutMs), MaxAckTimeout.Milliseconds())
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// emit sends e without acknowledgement; the result is known on return.
func (h *Handler) emit(ctx context.Context, e *emitRequest) emitResult {
	if err := h.cfg.Hub.Emit(ctx, e.target, e.event, e.args, e.volatile); err != nil {
		return emitResult{Message: err.Error()}
	}
	return emitResult{Success: true}
}

// startAck sends e with acknowledgements; the result arrives on the channel once the clients
// answered or the timeout passed.
func (h *Handler) startAck(ctx context.Context, e *emitRequest) <-chan emitResult {
	out := make(chan emitResult, 1)
	err := h.cfg.Hub.EmitWithAck(ctx, e.target, e.event, e.args, e.volatile, e.ackTimeout, func(r AckResult) {
		timedOut := r.TimedOut
		responses := r.Responses
		if responses == nil {
			responses = []json.RawMessage{}
		}
		out <- emitResult{Success: true, Responses: responses, TimedOut: &timedOut}
	})
	if err != nil {
		out <- emitResult{Message: err.Error()}
	}
	return out
}

func (h *Handler) serveEmit(ctx context.Context, w http.ResponseWriter, r *http.Request, log *callLog) (any, error) {
	body, err := h.readBody(w, r)
	if err != nil {
		return nil, err
	}
	var o object
	if err := o.parse(body, "", -1); err != nil {
		return nil, err
	}
	e, err := h.parseEmit(&o, new(emitSlots))
	if err != nil {
		return nil, err
	}
	log.event = e.event
	log.setTarget(e.target)
	h.observeEmits(RouteEmit, 1)
	var res emitResult
	if e.ackTimeout == 0 {
		res = h.emit(ctx, &e)
	} else {
		select {
		case res = <-h.startAck(ctx, &e):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if !res.Success {
		return nil, &httpError{status: http.StatusInternalServerError, message: res.Message}
	}
	if res.TimedOut != nil {
		log.add(slog.Int("acks", len(res.Responses)), slog.Bool("timedOut", *res.TimedOut))
	}
	return ackBody(res), nil
}

func (h *Handler) observeEmits(route string, n int) {
	if h.cfg.ObserveEmits != nil {
		h.cfg.ObserveEmits(route, n)
	}
}

// ackBody keeps "responses" in the answer of an ack emit even when it is empty.
func ackBody(res emitResult) any {
	if res.TimedOut == nil {
		return successBody{Success: true}
	}
	return struct {
		Success   bool              `json:"success"`
		Responses []json.RawMessage `json:"responses"`
		TimedOut  bool              `json:"timedOut"`
	}{true, res.Responses, *res.TimedOut}
}
