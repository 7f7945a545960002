package api

import (
	"context"
	"encoding/json"
	"time"
)

// Hub is what the internal API needs from the Socket.IO server. The service implements it on
// socketio; tests implement it with a recorder. Every method addresses the sockets of a Target
// across the whole cluster when the server runs with a cluster adapter.
type Hub interface {
	// Emit sends event with args to every socket of t, once per socket however many of
	// t.Rooms it is in. A volatile emit skips sockets that cannot take it right away.
	Emit(ctx context.Context, t Target, event string, args []json.RawMessage, volatile bool) error
	// EmitWithAck sends like Emit, each socket with an acknowledgement id, and returns once the
	// packets are queued; done is then called exactly once, from another goroutine, when every
	// socket answered or timeout passed, whichever comes first.
	EmitWithAck(ctx context.Context, t Target, event string, args []json.RawMessage, volatile bool, timeout time.Duration, done func(AckResult)) error
	// Join makes the sockets of t join rooms.
	Join(ctx context.Context, t Target, rooms []string) error
	// Leave makes the sockets of t leave rooms.
	Leave(ctx context.Context, t Target, rooms []string) error
	// Disconnect disconnects the sockets of t from their namespace; with close, it closes their
	// underlying connections too.
	Disconnect(ctx context.Context, t Target, close bool) error
	// Sockets lists the sockets of t.
	Sockets(ctx context.Context, t Target) ([]SocketInfo, error)
}

// Target selects sockets: those of Namespace that are in any of Rooms and in none of Except.
// Rooms is never empty: the API refuses requests that would address every socket.
type Target struct {
	Namespace string
	Rooms     []string
	Except    []string
}

// AckResult is what the clients answered to an emit with acknowledgement.
type AckResult struct {
	// Responses holds, for each socket that answered in time, the first argument it passed to
	// its acknowledgement callback (null when it passed none), in the order they arrived.
	Responses []json.RawMessage
	// TimedOut is set when at least one socket had not answered when the timeout passed.
	TimedOut bool
}

// SocketInfo describes one socket for GET /api/v1/internal/sockets.
type SocketInfo struct {
	ID           string    `json:"id"`
	UserID       string    `json:"userId"`
	RestaurantID string    `json:"restaurantId,omitempty"`
	Rooms        []string  `json:"rooms"`
	Transport    string    `json:"transport,omitempty"`
	ConnectedAt  time.Time `json:"connectedAt"`
}
