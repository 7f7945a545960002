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
	closeConn, err := o.boolean(mClose)
	if err != nil {
		return nil, err
	}
	log.setTarget(t)
	log.add(slog.Bool("close", closeConn))
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if err := h.cfg.Hub.Disconnect(ctx, t, closeConn); err != nil {
		return nil, err
	}
	return successBody{Success: true}, nil
}
