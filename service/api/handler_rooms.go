package api

import (
	"context"
	"log/slog"
	"net/http"
)

// serveJoin: {room|rooms, join, namespace?, except?} makes the sockets in rooms join `join`
// (a string or an array), on every node.
func (h *Handler) serveJoin(ctx context.Context, w http.ResponseWriter, r *http.Request, log *callLog) (any, error) {
	return h.serveMembership(ctx, w, r, log, mJoin, h.cfg.Hub.Join)
}

// serveLeave: {room|rooms, leave, namespace?, except?} makes them leave `leave`.
func (h *Handler) serveLeave(ctx context.Context, w http.ResponseWriter, r *http.Request, log *callLog) (any, error) {
	return h.serveMembership(ctx, w, r, log, mLeave, h.cfg.Hub.Leave)
}

func (h *Handler) serveMembership(ctx context.Context, w http.ResponseWriter, r *http.Request, log *callLog, member int,
	op func(context.Context, Target, []string) error) (any, error) {
	body, err := h.readBody(w, r)
	if err != nil {
		return nil, err
	}
	var o object
	if err := o.parse(body, "", -1); err != nil {
		return nil, err
	}
	t, err := h.target(&o)
	if err != nil {
		return nil, err
	}
	if !o.present(member) {
		return nil, badRequest("%s is required (a string or an array of strings)", memberNames[member])
	}
	rooms, err := o.names(member)
	if err != nil {
		return nil, err
	}
	if len(rooms) == 0 {
		return nil, badRequest("%s must not be empty", memberNames[member])
	}
	log.setTarget(t)
	log.add(slog.String(memberNames[member], brief(rooms)))
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if err := op(ctx, t, dedupe(rooms)); err != nil {
		return nil, err
	}
	return successBody{Success: true}, nil
}
