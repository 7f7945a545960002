package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
)

// serveBatch performs many emits in one request. Every entry is validated before anything is
// sent, so a bad entry fails the whole request with a 400 naming it (emits[3].event ...). The
// emits then go out in order; the answer lists one result per entry, in the same order, once
// all acknowledgements are in.
func (h *Handler) serveBatch(ctx context.Context, w http.ResponseWriter, r *http.Request, log *callLog) (any, error) {
	body, err := readBody(w, r, h.cfg.MaxBody, h.cfg.BodyTimeout)
	if err != nil {
		return nil, err
	}
	o, err := parseObject(body, "")
	if err != nil {
		return nil, err
	}
	var entries []json.RawMessage
	if !o.present("emits") || json.Unmarshal(o.members["emits"], &entries) != nil {
		return nil, badRequest("emits must be an array of emits")
	}
	if len(entries) == 0 {
		return nil, badRequest("emits must not be empty")
	}
	if len(entries) > MaxBatch {
		return nil, badRequest("emits holds %d entries, more than %d", len(entries), MaxBatch)
	}
	emits := make([]emitRequest, len(entries))
	for i, raw := range entries {
		eo, err := parseObject(raw, fmt.Sprintf("emits[%d].", i))
		if err != nil {
			return nil, err
		}
		if emits[i], err = h.parseEmit(eo); err != nil {
			return nil, err
		}
	}
	log.add(slog.Int("emits", len(emits)))
	h.observeEmits(RouteEmitBatch, len(emits))
	pending := make([]<-chan emitResult, len(emits))
	for i, e := range emits {
		pending[i] = h.start(ctx, e)
	}
	results := make([]any, len(emits))
	all := true
	for i, p := range pending {
		var res emitResult
		select {
		case res = <-p:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if res.Success {
			results[i] = ackBody(res)
		} else {
			all = false
			results[i] = emitResult{Message: res.Message}
		}
	}
	return struct {
		Success bool  `json:"success"`
		Results []any `json:"results"`
	}{all, results}, nil
}
