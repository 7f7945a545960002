package emitter_test

import (
	"context"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tomato-code/realtime/emitter"
)

func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	e := emitter.New(rdb, emitter.Config{}) // Key "socket.io", as the servers' adapter
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// To every socket of user 42 but those in "muted", on whichever server they are.
	order := map[string]any{"id": "o-1", "status": "ready", "receipt": []byte{0x25, 0x50}} // binary travels as binary
	if err := e.To("user:42").Except("muted").Emit(ctx, "order:update", order); err != nil {
		log.Print(err)
	}
	// Namespaces, and commands that every server applies to its sockets.
	if err := e.Of("/admin").In("user:42").SocketsJoin(ctx, "order:o-1"); err != nil {
		log.Print(err)
	}
	if err := e.In("user:13").DisconnectSockets(ctx, true); err != nil {
		log.Print(err)
	}
}
