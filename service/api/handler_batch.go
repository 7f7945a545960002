package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
)

// serveBatch performs many emits in one request. Every entry is validated before anything is
// sent, so a bad entry fails the whole request with a 400 naming it (emits[3].event ...). The
// emits then go out in order; the answer lists one result per entry, in the same order, once
// all acknowledgements are in.
func (h *Handler) serveBatch(ctx context.Context, w http.ResponseWriter, r *http.Request, log *callLog) (any, error) {
	body, err := h.readBody(w, r)
	if err != nil {
		return nil, err
	}
	var o object
	if err := o.parse(body, "", -1); err != nil {
		return nil, err
	}
	var entries []json.RawMessage
	ok := false
	if o.present(mEmits) {
		entries, ok = parseArray(o.vals[mEmits])
	}
	if !ok {
		return nil, badRequest("emits must be an array of emits")
	}
	if len(entries) == 0 {
		return nil, badRequest("emits must not be empty")
	}
	if len(entries) > MaxBatch {
		return nil, badRequest("emits holds %d entries, more than %d", len(entries), MaxBatch)
	}
	emits := make([]emitRequest, len(entries))
	slots := make([]emitSlots, len(entries))
	var eo object
	for i, raw := range entries {
		if err := eo.parse(raw, "emits", i); err != nil {
			return nil, err
		}
		if emits[i], err = h.parseEmit(&eo, &slots[i]); err != nil {
			return nil, err
		}
	}
	log.add(slog.Int("emits", len(emits)))
	h.observeEmits(RouteEmitBatch, len(emits))
	// Emits without ack are done when sent; those with ack are collected afterwards.
	results := make([]emitResult, len(emits))
	type ackWait struct {
		i    int
		done <-chan emitResult
	}
	var pending []ackWait
	for i := range emits {
		if emits[i].ackTimeout == 0 {
			results[i] = h.emit(ctx, &emits[i])
		} else {
			pending = append(pending, ackWait{i, h.startAck(ctx, &emits[i])})
		}
	}
	for _, p := range pending {
		select {
		case results[p.i] = <-p.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return batchBody(results)
}

// batchBody encodes {"success":...,"results":[...]}; plain successes, most entries, are
// written without encoding/json.
func batchBody(results []emitResult) (rawJSON, error) {
	all := true
	for i := range results {
		all = all && results[i].Success
	}
	out := make([]byte, 0, 32+len(results)*len(`{"success":true},`))
	if all {
		out = append(out, `{"success":true,"results":[`...)
	} else {
		out = append(out, `{"success":false,"results":[`...)
	}
	for i, res := range results {
		if i > 0 {
			out = append(out, ',')
		}
		var entry any
		switch {
		case res.Success && res.TimedOut == nil:
			out = append(out, successJSON[:len(successJSON)-1]...)
			continue
		case res.Success:
			entry = ackBody(res)
		default:
			entry = emitResult{Message: res.Message}
		}
		data, err := json.Marshal(entry)
		if err != nil {
			return nil, err
		}
		out = append(out, data...)
	}
	return append(out, "]}\n"...), nil
}
