package api

import (
	"context"
	"log/slog"
	"net/http"
)

// serveJoin: {room|rooms, join, namespace?, except?} makes the sockets in rooms join `join`
// (a string or an array), on every node.
func (h *Handler) serveJoin(ctx context.Context, w http.ResponseWriter, r *http.Request, log *callLog) (any, error) {
	return h.serveMembership(ctx, w, r, log, "join", h.cfg.Hub.Join)
}

// serveLeave: {room|rooms, leave, namespace?, except?} makes them leave `leave`.
func (h *Handler) serveLeave(ctx context.Context, w http.ResponseWriter, r *http.Request, log *callLog) (any, error) {
	return h.serveMembership(ctx, w, r, log, "leave", h.cfg.Hub.Leave)
}

func (h *Handler) serveMembership(ctx context.Context, w http.ResponseWriter, r *http.Request, log *callLog, member string,
	op func(context.Context, Target, []string) error) (any, error) {
	body, err := readBody(w, r, h.cfg.MaxBody, h.cfg.BodyTimeout)
	if err != nil {
		return nil, err
	}
	o, err := parseObject(body, "")
	if err != nil {
		return nil, err
	}
	t, err := h.target(o)
	if err != nil {
		return nil, err
	}
	if !o.present(member) {
		return nil, badRequest("%s is required (a string or an array of strings)", member)
	}
	rooms, err := o.names(member)
	if err != nil {
		return nil, err
	}
	if len(rooms) == 0 {
		return nil, badRequest("%s must not be empty", member)
	}
	logTarget(log, t)
	log.add(slog.String(member, brief(rooms)))
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if err := op(ctx, t, dedupe(rooms)); err != nil {
		return nil, err
	}
	return successBody{Success: true}, nil
}
