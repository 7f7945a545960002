package api

import (
	"context"
	"log/slog"
	"net/http"
)

// serveSockets: GET ?room=R (repeatable) &namespace=N lists the sockets in the rooms, on every
// node: {"sockets":[{id, userId, restaurantId?, rooms, transport, connectedAt}]}.
func (h *Handler) serveSockets(ctx context.Context, w http.ResponseWriter, r *http.Request, log *callLog) (any, error) {
	q := r.URL.Query()
	t := Target{Namespace: "/"}
	if ns := q.Get("namespace"); ns != "" {
		if !h.namespaces[ns] {
			return nil, badRequest("namespace %q is not served", ns)
		}
		t.Namespace = ns
	}
	for _, room := range q["room"] {
		if room != "" {
			t.Rooms = append(t.Rooms, room)
		}
	}
	if len(t.Rooms) == 0 {
		return nil, badRequest("room is required (query parameter)")
	}
	t.Rooms = dedupe(t.Rooms)
	log.setTarget(t)
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	sockets, err := h.cfg.Hub.Sockets(ctx, t)
	if err != nil {
		return nil, err
	}
	if sockets == nil {
		sockets = []SocketInfo{}
	}
	log.add(slog.Int("sockets", len(sockets)))
	return struct {
		Sockets []SocketInfo `json:"sockets"`
	}{sockets}, nil
}
