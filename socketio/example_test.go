package socketio_test

import (
	"context"
	"encoding/json"
	"log"
	"net/http"
	"time"

	"github.com/tomato-code/realtime/socketio"
)

// A chat server: token check in a middleware, rooms, relayed messages with acknowledgements.
func Example() {
	srv := socketio.NewServer(socketio.Config{})
	chat := srv.Of("/")
	chat.Use(func(s *socketio.Socket) error {
		var auth struct {
			Token string `json:"token"`
		}
		if json.Unmarshal(s.Auth(), &auth) != nil || auth.Token == "" {
			return &socketio.ConnectError{Message: "Authentication error", Data: map[string]any{"retry": false}}
		}
		s.SetData(auth.Token)
		return nil
	})
	chat.OnConnection(func(s *socketio.Socket) {
		s.Join("lobby")
		s.On("say", func(s *socketio.Socket, args socketio.Args, ack socketio.Ack) {
			// The arguments go out exactly as they came, binary included.
			s.To("lobby").Emit("said", args.Values()...)
			if ack != nil {
				ack("delivered")
			}
		})
		s.OnDisconnect(func(reason string) { log.Printf("%s left: %s", s.ID(), reason) })
	})
	http.Handle("/socket.io/", srv)
}

// Asking every client of a room and collecting the answers.
func ExampleBroadcastOperator_EmitWithAck() {
	srv := socketio.NewServer(socketio.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	answers, err := srv.Of("/").To("room:42").EmitWithAck(ctx, "are-you-there")
	if err != nil {
		log.Printf("%d answers before the deadline: %v", len(answers), err)
	}
	for _, a := range answers {
		var reply string
		a.Decode(0, &reply)
	}
}
