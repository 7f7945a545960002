// Command conformance serves the profile that the official Engine.IO and Socket.IO protocol
// test suites expect (see scripts/conformance.sh): an echo Engine.IO server at /engine.io/ and,
// once mounted by mountSocketIO, the Socket.IO test server at /socket.io/.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tomato-code/realtime/engineio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	flag.Parse()

	mux := http.NewServeMux()
	eio := newEngineIOEcho()
	mux.Handle("/engine.io/", eio)
	mountSocketIO(mux)

	hs := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		eio.Shutdown(shutdownCtx)
		hs.Shutdown(shutdownCtx)
	}()
	log.Printf("conformance server listening on %s", *addr)
	if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// newEngineIOEcho returns the Engine.IO suite's server: 300 ms pings, 200 ms pong timeout,
// maxPayload 1,000,000, CORS for any origin, and every message echoed to its sender.
func newEngineIOEcho() *engineio.Server {
	return engineio.NewServer(engineio.Config{
		PingInterval: 300 * time.Millisecond,
		PingTimeout:  200 * time.Millisecond,
		MaxPayload:   1_000_000,
		CORS:         &engineio.CORS{Origins: []string{"*"}},
		OnOpen: func(s *engineio.Session) engineio.SessionHandler {
			return echo{s}
		},
	})
}

type echo struct{ s *engineio.Session }

func (e echo) OnMessage(data []byte, binary bool) {
	if binary {
		e.s.Send(engineio.NewBinaryMessage(data))
	} else {
		e.s.Send(engineio.NewTextMessage(data))
	}
}

func (echo) OnClose(string, error) {}
