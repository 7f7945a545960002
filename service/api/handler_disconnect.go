package api

import (
	"context"
	"log/slog"
	"net/http"
)

// serveDisconnect: {room|rooms, close?, namespace?, except?} disconnects the sockets in rooms
// from the namespace, on every node. Clients see "io server disconnect" and do not reconnect
// on their own; with close: true the underlying connection is closed as well.
func (h *Handler) serveDisconnect(ctx context.Context, w http.ResponseWriter, r *http.Request, log *callLog) (any, error) {
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
	closeConn, err := o.boolean("close")
	if err != nil {
		return nil, err
	}
	logTarget(log, t)
	log.add(slog.Bool("close", closeConn))
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if err := h.cfg.Hub.Disconnect(ctx, t, closeConn); err != nil {
		return nil, err
	}
	return successBody{Success: true}, nil
}
