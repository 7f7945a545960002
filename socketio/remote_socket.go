package socketio

import (
	"context"
	"encoding/json"
)

// RemoteSocket is a socket returned by FetchSockets: a snapshot of a socket of this server or
// of another one, with operations that reach it wherever it is.
type RemoteSocket struct {
	SocketInfo
	ns *Namespace
}

// DecodeData decodes the socket's data (Socket.SetData, as JSON) into v.
func (r *RemoteSocket) DecodeData(v any) error { return json.Unmarshal(r.Data, v) }

// Emit sends an event to the socket.
func (r *RemoteSocket) Emit(event string, args ...any) error {
	return r.ns.To(r.ID).Emit(event, args...)
}

// Join makes the socket join rooms.
func (r *RemoteSocket) Join(ctx context.Context, rooms ...string) error {
	return r.ns.In(r.ID).SocketsJoin(ctx, rooms...)
}

// Leave makes the socket leave rooms.
func (r *RemoteSocket) Leave(ctx context.Context, rooms ...string) error {
	return r.ns.In(r.ID).SocketsLeave(ctx, rooms...)
}

// Disconnect disconnects the socket (see Socket.Disconnect).
func (r *RemoteSocket) Disconnect(ctx context.Context, close bool) error {
	return r.ns.In(r.ID).DisconnectSockets(ctx, close)
}

// info returns the FetchSockets description of a local socket.
func (s *Socket) info() SocketInfo {
	data := json.RawMessage(`{}`)
	if v := s.Data(); v != nil {
		if b, err := json.Marshal(v); err == nil {
			data = b
		}
	}
	return SocketInfo{ID: s.id, Handshake: s.Handshake(), Rooms: s.Rooms(), Data: data}
}
