package redis_test

import (
	"context"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/tomato-code/realtime/adapter/redis"
	"github.com/tomato-code/realtime/socketio"
)

func Example() {
	cl, err := redis.New(redis.Config{URL: os.Getenv("REDIS_URL")}) // Key "socket.io", as Node's adapter
	if err != nil {
		log.Fatal(err)
	}
	defer cl.Close() // after the server's Shutdown
	srv := socketio.NewServer(socketio.Config{Adapter: cl.NewAdapter})
	defer srv.Shutdown(context.Background())

	// Readiness for a load balancer: the node serves its own sockets either way.
	http.HandleFunc("/ready", func(w http.ResponseWriter, r *http.Request) {
		if !cl.Ready() {
			http.Error(w, cl.Health().LastError, http.StatusServiceUnavailable)
		}
	})
	http.Handle("/socket.io/", srv)

	// Broadcasts and operations now span every server, Go or Node.js.
	_ = srv.Of("/").To("room1").Emit("hello", "world")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sockets, err := srv.Of("/").In("room1").FetchSockets(ctx)
	log.Println(len(sockets), err)
}
