package load

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/tomato-code/realtime/bench/internal/loop"
	"github.com/tomato-code/realtime/internal/testutil"
)

// pace must never have more handshakes in flight than asked, even though the loops start the
// connections asynchronously.
func TestPaceBoundsHandshakesInFlight(t *testing.T) {
	testutil.CheckGoroutines(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// A server that accepts and never answers: every handshake stays in flight.
	var mu sync.Mutex
	var held []net.Conn
	accepted := make(chan struct{}, 100)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
			accepted <- struct{}{}
		}
	}()
	defer func() {
		ln.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()

	set, err := loop.New(loop.Config{Targets: []netip.AddrPort{netip.MustParseAddrPort(ln.Addr().String())}, Secret: []byte("s")})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		pace(ctx, set, 0, 50, 0, 10)
	}()
	for range 10 {
		<-accepted
	}
	// Give a pacer that ignores the bound time to overshoot: its ticks are 2 ms apart.
	time.Sleep(50 * time.Millisecond)
	cancel()
	<-done
	if st := set.Stats(); st.Opened != 10 || set.InFlight() != 10 {
		t.Fatalf("opened %d, in flight %d; want 10 and 10", st.Opened, set.InFlight())
	}
}
