package engineio

// Sessions returns the sessions open now. It is for operations that act on every session at a
// pace of their own, such as a drain that closes connections in batches so that clients
// reconnect elsewhere without a storm (Session.Close on each, spread over time); Shutdown
// closes them all at once instead.
func (srv *Server) Sessions() []*Session {
	out := make([]*Session, 0, srv.count.Load())
	srv.sessions.each(func(s *Session) { out = append(out, s) })
	return out
}
