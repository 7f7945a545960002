// Command conformance serves the profile that the official Engine.IO and Socket.IO protocol
// test suites expect (see scripts/conformance.sh): an echo Engine.IO server at /engine.io/ and,
// once mounted by mountSocketIO, the Socket.IO test server at /socket.io/.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/tomato-code/realtime/engineio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("conformance server listening on %s", ln.Addr())
	if err := run(ctx, ln); err != nil {
		log.Fatal(err)
	}
}

// shutdownTimeout bounds how long the servers wait for their sessions to close on exit.
const shutdownTimeout = 5 * time.Second

// run serves both suites' servers on ln until ctx ends, then closes the sessions of both (so
// that clients are told, instead of having their connections cut) and stops the listener.
func run(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	eio := newEngineIOEcho()
	mux.Handle("/engine.io/", eio)
	sio := mountSocketIO(mux)

	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	// Both at once: each waits for its own sessions, and neither should eat the other's time.
	var wg sync.WaitGroup
	var eioErr, sioErr error
	wg.Go(func() { eioErr = eio.Shutdown(shutdownCtx) })
	wg.Go(func() { sioErr = sio.Shutdown(shutdownCtx) })
	wg.Wait()
	err := errors.Join(eioErr, sioErr, hs.Shutdown(shutdownCtx))
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
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
