package socketio

import "context"

// JoinAwaiter is an optional interface of an Adapter whose room joins reach the rest of the
// cluster some time after AddAll returns: a cluster adapter that subscribes to a channel per
// room learns from its broker a round trip later that the subscription is live, and a
// broadcast published meanwhile does not reach this server.
//
// When the namespace's adapter implements it, the CONNECT reply of a socket waits until the
// rooms its middleware joined (and the room of its own id, which the socket joins as it
// connects) receive the cluster's broadcasts, at most Config.JoinWaitTimeout: a client that
// sees "connect" can then be reached through any server by those rooms. Joins made later (in
// a connection or event handler, or SocketsJoin from another server) are not waited for.
//
// The wait holds up only the connecting client: the reply, the connection handlers and the
// packets the client sent meanwhile then run on a goroutine of their own, one at a time and
// in order as always. When the connection closes during the wait, the wait ends, the socket
// leaves its rooms and no reply is sent.
type JoinAwaiter interface {
	// JoinsPending reports whether AwaitJoined(s) would wait: some room of s (its own id
	// included) may not receive the cluster's broadcasts yet. It is called for every socket
	// that passed its middleware, on the connection's read path, and must be cheap.
	JoinsPending(s *Socket) bool
	// AwaitJoined waits until every room of s, the room of its own id included, receives the
	// cluster's broadcasts on this server, or until ctx ends (then it returns ctx.Err()). It
	// returns nil at once when waiting cannot help, e.g. while the cluster is unreachable.
	// The connection goes ahead whatever it returns.
	AwaitJoined(ctx context.Context, s *Socket) error
}
