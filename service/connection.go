package service

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"time"
	"unique"

	"github.com/tomato-code/realtime/service/auth"
	"github.com/tomato-code/realtime/service/config"
	"github.com/tomato-code/realtime/service/metrics"
	"github.com/tomato-code/realtime/socketio"
)

// socketData is what a socket carries about its user, in 32 bytes: an idle node holds one
// per connection. It keeps the names of the user's and the restaurant's rooms, which the
// socket joins with these very strings, and reads the ids as their tails, so that an id is
// not held twice; and the connection time as Unix nanoseconds rather than a time.Time (24
// bytes). The restaurant's room name is interned (package unique): the sockets of a
// restaurant share one copy, and a handle is half a string's size.
//
// Its JSON form is the one the Node.js reference service keeps in socket.data, so that
// FetchSockets answers mix in a cluster: userId, restaurantId (omitted when empty), and
// connectedAt in RFC 3339 with nanoseconds, UTC.
type socketData struct {
	userRoom    string                // userRoom(user id)
	restaurant  unique.Handle[string] // restaurantRoom(restaurant id); zero when the user has none
	connectedAt int64                 // Unix nanoseconds
}

func newSocketData(id auth.Identity, connectedAt time.Time) *socketData {
	d := &socketData{userRoom: userRoom(id.UserID), connectedAt: connectedAt.UnixNano()}
	if id.RestaurantID != "" {
		d.restaurant = unique.Make(restaurantRoom(id.RestaurantID))
	}
	return d
}

// restaurantRoom returns the name of the restaurant's room, "" when the user has none.
func (d *socketData) restaurantRoom() string {
	if d.restaurant == (unique.Handle[string]{}) {
		return ""
	}
	return d.restaurant.Value()
}

// UserID returns the user's id.
func (d *socketData) UserID() string { return d.userRoom[len(userRoomPrefix):] }

// RestaurantID returns the restaurant's id, "" when the user has none.
func (d *socketData) RestaurantID() string {
	if r := d.restaurantRoom(); r != "" {
		return r[len(restaurantRoomPrefix):]
	}
	return ""
}

// ConnectedAt returns when the socket connected, in UTC.
func (d *socketData) ConnectedAt() time.Time { return time.Unix(0, d.connectedAt).UTC() }

// MarshalJSON gives the reference service's form of socket.data.
func (d *socketData) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		UserID       string    `json:"userId"`
		RestaurantID string    `json:"restaurantId,omitempty"`
		ConnectedAt  time.Time `json:"connectedAt"`
	}{d.UserID(), d.RestaurantID(), d.ConnectedAt()})
}

// fetchedData is socketData as FetchSockets returns it, from this node or another one. The
// time stays text here, so that a peer's unreadable connectedAt loses only itself (the
// socket's handshake time stands in) and not the members after it.
type fetchedData struct {
	UserID       string `json:"userId"`
	RestaurantID string `json:"restaurantId"`
	ConnectedAt  string `json:"connectedAt"`
}

// Room names of the room rules.
const (
	userRoomPrefix       = "user:"
	restaurantRoomPrefix = "restaurant:"
)

func userRoom(id string) string       { return userRoomPrefix + id }
func restaurantRoom(id string) string { return restaurantRoomPrefix + id }
func orderRoom(id string) string      { return "order:" + id }

// singleSessionTimeout bounds the cluster-wide disconnect of a user's older sockets.
const singleSessionTimeout = 5 * time.Second

// setupNamespace gives a namespace the service's authentication and room rules. Every
// namespace of NAMESPACES gets the same.
func (s *Service) setupNamespace(ns *socketio.Namespace) {
	name := ns.Name()
	ns.Use(func(sock *socketio.Socket) error {
		id, err := s.verifier.VerifyAuth(sock.Auth())
		if err != nil {
			reason := metrics.RefusedInvalidToken
			if errors.Is(err, auth.ErrNoToken) {
				reason = metrics.RefusedNoToken
			}
			s.metrics.ConnectRefused(name, reason)
			s.log.Info("connect refused", "namespace", name, "error", err.Error(), "reason", auth.Reason(err),
				"address", sock.Address())
			return err // its text, "Authentication error" or "Invalid token", is the client's connect_error
		}
		d := newSocketData(id, time.Now())
		sock.SetData(d)
		if s.cfg.RedisRoomChannels {
			// With REDIS_SUBSCRIPTION=rooms the rooms are joined here, so that the CONNECT
			// reply waits until Redis confirmed their subscriptions (socketio.JoinAwaiter)
			// and an emit to the user right after "connect" reaches it. Elsewhere they are
			// joined once connected, as the reference service does.
			s.joinRooms(ns, sock, d)
		}
		return nil
	})
	// The event and disconnect handlers are registered once on the namespace rather than on
	// each socket: they find the user in the socket's data, and a connection costs no
	// handler lists or closures of its own.
	ns.OnConnection(func(sock *socketio.Socket) { s.onConnect(ns, sock) })
	ns.OnAnySocketEvent(func(sock *socketio.Socket, event string, args socketio.Args, ack socketio.Ack) {
		s.metrics.EventReceived(name)
		if s.log.Enabled(context.Background(), slog.LevelDebug) {
			s.log.Debug("event in", "namespace", name, "socket", sock.ID(), "user", sock.Data().(*socketData).UserID(),
				"event", event, "args", clip(args.String()), "ack", ack != nil)
		}
	})
	ns.OnSocketEvent("join_order", func(sock *socketio.Socket, args socketio.Args, ack socketio.Ack) {
		s.orderRoom(sock, args, ack, true)
	})
	ns.OnSocketEvent("leave_order", func(sock *socketio.Socket, args socketio.Args, ack socketio.Ack) {
		s.orderRoom(sock, args, ack, false)
	})
	ns.OnSocketDisconnect(func(sock *socketio.Socket, reason string) {
		s.metrics.Disconnected(name, reason)
		if reason == socketio.ReasonWriteQueueFull {
			s.metrics.WriteQueueDrop(metrics.DropSessionClosed)
		}
		attrs := []any{"namespace", name, "socket", sock.ID(), "user", sock.Data().(*socketData).UserID(), "reason", reason}
		if err := sock.DisconnectError(); err != nil {
			attrs = append(attrs, "error", err.Error())
		}
		s.log.Info("disconnect", attrs...)
	})
}

func (s *Service) onConnect(ns *socketio.Namespace, sock *socketio.Socket) {
	d := sock.Data().(*socketData)
	if !s.cfg.RedisRoomChannels {
		s.joinRooms(ns, sock, d)
	}
	s.metrics.Connected(ns.Name())
	s.log.Info("connect", "namespace", ns.Name(), "socket", sock.ID(), "user", d.UserID(), "restaurant", d.RestaurantID(),
		"transport", sock.Transport(), "address", sock.Address())
}

// joinRooms makes sock join the rooms of its user and restaurant, after disconnecting the
// user's other sockets with SINGLE_SESSION=replace.
func (s *Service) joinRooms(ns *socketio.Namespace, sock *socketio.Socket, d *socketData) {
	if s.cfg.SingleSession == config.SingleSessionReplace {
		// Before joining the user's room, so that the new socket is not among those replaced.
		ctx, cancel := context.WithTimeout(context.Background(), singleSessionTimeout)
		err := ns.In(d.userRoom).DisconnectSockets(ctx, false)
		cancel()
		if err != nil {
			s.log.Warn("single session: disconnecting older sockets failed", "user", d.UserID(), "error", err)
		}
	}
	// The room names are the data's own strings: the socket's membership shares them.
	if r := d.restaurantRoom(); r != "" {
		sock.Join(d.userRoom, r)
	} else {
		sock.Join(d.userRoom)
	}
}

// orderResult is the acknowledgement of join_order and leave_order, as the reference sends it.
type orderResult struct {
	Success bool   `json:"success"`
	Message string `json:"message,omitempty"`
}

// orderRoom serves the client events join_order(orderId, ack?) and leave_order(orderId, ack?)
// of the reference service: the socket joins or leaves order:{orderId}. Any authenticated user
// may join any order room, as in the reference; backends that must check ownership make
// sockets join through POST /api/v1/internal/rooms/join instead.
func (s *Service) orderRoom(sock *socketio.Socket, args socketio.Args, ack socketio.Ack, join bool) {
	id, ok := orderID(args.Raw(0))
	if !ok {
		if ack != nil {
			_ = ack(orderResult{Message: "orderId is required"})
		}
		return
	}
	if !join {
		sock.Leave(orderRoom(id))
		if ack != nil {
			_ = ack(orderResult{Success: true})
		}
		return
	}
	sock.Join(orderRoom(id))
	if ack == nil {
		return
	}
	// With a Redis adapter that subscribes per room, the room's broadcasts from other nodes
	// reach this one a round trip after the join: the acknowledgement waits for that, so
	// that a client that saw it misses no order update, without holding up the connection.
	if w, ok := sock.Namespace().Adapter().(socketio.JoinAwaiter); ok && w.JoinsPending(sock) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), joinAckWait)
			defer cancel()
			_ = w.AwaitJoined(ctx, sock) // acknowledged either way: the adapter logs a timeout
			_ = ack(orderResult{Success: true})
		}()
		return
	}
	_ = ack(orderResult{Success: true})
}

// joinAckWait bounds how long join_order's acknowledgement waits for the cluster (see
// orderRoom); socketio's Config.JoinWaitTimeout bounds the same wait for a CONNECT.
const joinAckWait = 2 * time.Second

// orderID accepts a non-empty string or a number, as the reference does.
func orderID(raw json.RawMessage) (string, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, s != ""
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		if f, err := strconv.ParseFloat(string(n), 64); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64), true
		}
	}
	return "", false
}
