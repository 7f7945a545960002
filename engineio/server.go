package engineio

import (
	"context"
	"net/http"
)

// Server is an Engine.IO server. It implements http.Handler; mount it at the path the clients
// use, e.g. "/engine.io/" or "/socket.io/", with a trailing slash.
type Server struct {
	cfg Config
}

// NewServer returns a server for cfg. cfg.OnOpen is required.
func NewServer(cfg Config) *Server {
	if cfg.OnOpen == nil {
		panic("engineio: Config.OnOpen is required")
	}
	return &Server{cfg: cfg.withDefaults()}
}

// ServeHTTP answers the Engine.IO requests: handshakes, polling GETs and POSTs, and websocket
// upgrades.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "not implemented", http.StatusNotImplemented)
}

// Shutdown stops accepting new sessions (handshakes get 503), closes every session with
// "server shutting down" once its queued messages are written, and waits until they are all
// closed or ctx ends. When ctx ends first it closes the remaining sessions at once and returns
// ctx.Err(). Requests of existing sessions are still served while it runs.
func (s *Server) Shutdown(ctx context.Context) error { return nil }

// SessionCount returns the number of open sessions.
func (s *Server) SessionCount() int { return 0 }
