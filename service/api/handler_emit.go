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

func (h *Handler) parseEmit(o object) (emitRequest, error) {
	var e emitRequest
	var err error
	if !o.present("event") {
		return e, badRequest("%s is required", o.name("event"))
	}
	if e.event, err = o.str("event"); err != nil {
		return e, err
	}
	if e.event == "" {
		return e, badRequest("%s must not be empty", o.name("event"))
	}
	if ReservedEvents[e.event] {
		return e, badRequest("%s %q is reserved", o.name("event"), e.event)
	}
	if e.target, err = h.target(o); err != nil {
		return e, err
	}
	// An absent payload sends the event without arguments; null is sent as null.
	if p, ok := o.raw("payload"); ok {
		e.args = []json.RawMessage{p}
	}
	if e.volatile, err = o.boolean("volatile"); err != nil {
		return e, err
	}
	if o.present("ack") {
		if e.ackTimeout, err = parseAck(o); err != nil {
			return e, err
		}
	}
	return e, nil
}

func parseAck(o object) (time.Duration, error) {
	msg := badRequest("%s must be an object with an integer timeoutMs between 1 and %d", o.name("ack"), MaxAckTimeout.Milliseconds())
	ack, err := parseObject(o.members["ack"], o.name("ack")+".")
	if err != nil || !ack.present("timeoutMs") {
		return 0, msg
	}
	var ms int64
	if err := json.Unmarshal(ack.members["timeoutMs"], &ms); err != nil || ms < 1 || ms > MaxAckTimeout.Milliseconds() {
		return 0, badRequest("%s must be an integer between 1 and %d", ack.name("timeoutMs"), MaxAckTimeout.Milliseconds())
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// start sends e. Without ack the result is ready at once; with ack it arrives on the channel
// once the clients answered or the timeout passed.
func (h *Handler) start(ctx context.Context, e emitRequest) <-chan emitResult {
	out := make(chan emitResult, 1)
	if e.ackTimeout == 0 {
		if err := h.cfg.Hub.Emit(ctx, e.target, e.event, e.args, e.volatile); err != nil {
			out <- emitResult{Message: err.Error()}
		} else {
			out <- emitResult{Success: true}
		}
		return out
	}
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
	body, err := readBody(w, r, h.cfg.MaxBody, h.cfg.BodyTimeout)
	if err != nil {
		return nil, err
	}
	o, err := parseObject(body, "")
	if err != nil {
		return nil, err
	}
	e, err := h.parseEmit(o)
	if err != nil {
		return nil, err
	}
	log.add(slog.String("event", e.event))
	logTarget(log, e.target)
	h.observeEmits(RouteEmit, 1)
	var res emitResult
	select {
	case res = <-h.start(ctx, e):
	case <-ctx.Done():
		return nil, ctx.Err()
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
