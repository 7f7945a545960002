package engineio_test

import (
	"log"
	"net/http"
	"time"

	"github.com/tomato-code/realtime/engineio"
)

// echo sends every message back to the session it came from.
type echo struct{ s *engineio.Session }

func (e echo) OnMessage(data []byte, binary bool) {
	if binary {
		e.s.Send(engineio.NewBinaryMessage(data))
	} else {
		e.s.Send(engineio.NewTextMessage(data))
	}
}

func (echo) OnClose(reason string, err error) { log.Printf("closed: %s %v", reason, err) }

func Example() {
	srv := engineio.NewServer(engineio.Config{
		PingInterval: 25 * time.Second,
		CORS:         &engineio.CORS{Origins: []string{"https://app.example.com"}, Credentials: true},
		OnOpen: func(s *engineio.Session) engineio.SessionHandler {
			return echo{s}
		},
	})
	http.Handle("/engine.io/", srv)
}

// One Message can be sent to many sessions: its frames are built once for all of them.
func ExampleMessage() {
	var sessions []*engineio.Session // e.g. the members of a room
	m := engineio.NewTextMessage([]byte(`2["news","hello"]`))
	for _, s := range sessions {
		s.Send(m) // never blocks; a session that cannot keep up is closed
	}
}
