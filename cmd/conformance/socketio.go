package main

import (
	"net/http"
	"time"

	"github.com/tomato-code/realtime/engineio"
	"github.com/tomato-code/realtime/socketio"
)

// mountSocketIO mounts the Socket.IO suite's server at /socket.io/ (conformance-profile.md §3):
// 300 ms pings, 200 ms pong timeout, maxPayload 1,000,000, connectTimeout 1 s, CORS for any
// origin. On "/" a socket gets "auth" with its CONNECT auth payload, "message" is echoed as
// "message-back" and "message-with-ack" is acknowledged with its own arguments; on "/custom" a
// socket gets "auth"; every other namespace is refused with "Invalid namespace". It returns
// the server, for shutdown.
func mountSocketIO(mux *http.ServeMux) *socketio.Server {
	srv := socketio.NewServer(socketio.Config{
		Engine: engineio.Config{
			PingInterval: 300 * time.Millisecond,
			PingTimeout:  200 * time.Millisecond,
			MaxPayload:   1_000_000,
			CORS:         &engineio.CORS{Origins: []string{"*"}},
		},
		ConnectTimeout: time.Second,
	})
	srv.Of("/").OnConnection(func(s *socketio.Socket) {
		s.Emit("auth", s.Auth())
		s.On("message", func(s *socketio.Socket, args socketio.Args, _ socketio.Ack) {
			s.Emit("message-back", args.Values()...)
		})
		s.On("message-with-ack", func(s *socketio.Socket, args socketio.Args, ack socketio.Ack) {
			if ack != nil {
				ack(args.Values()...)
			}
		})
	})
	srv.Of("/custom").OnConnection(func(s *socketio.Socket) {
		s.Emit("auth", s.Auth())
	})
	mux.Handle("/socket.io/", srv)
	return srv
}
