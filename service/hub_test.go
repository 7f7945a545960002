package service

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/service/api"
	"github.com/tomato-code/realtime/service/metrics"
	"github.com/tomato-code/realtime/socketio"
	"github.com/tomato-code/realtime/socketio/parser"
)

func TestClipCutsLongTextTheSameFromStringOrBytes(t *testing.T) {
	short := `{"id":7}`
	if got := clip(short); got != short {
		t.Errorf("clip(string) of a short text: %q", got)
	}
	if got := clip(json.RawMessage(short)); got != short {
		t.Errorf("clip(RawMessage) of a short text: %q", got)
	}
	long := `"` + strings.Repeat("x", maxLoggedPayload+10) + `"`
	want := long[:maxLoggedPayload] + "...(2060 bytes)"
	if got := clip(long); got != want {
		t.Errorf("clip(string) of %d bytes: %d bytes, ends %q", len(long), len(got), got[len(got)-20:])
	}
	if got := clip([]byte(long)); got != want {
		t.Errorf("clip([]byte) of %d bytes: %d bytes, ends %q", len(long), len(got), got[len(got)-20:])
	}
}

// stuckAdapter's BroadcastWithAck does not return until released, whatever its context says,
// as a cluster adapter stuck publishing would.
type stuckAdapter struct {
	*socketio.MemoryAdapter
	entered chan struct{}
	release chan struct{}
}

func (a *stuckAdapter) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts *socketio.BroadcastOptions, onCount func(int), onAck func(socketio.Args)) error {
	close(a.entered)
	<-a.release
	return a.MemoryAdapter.BroadcastWithAck(ctx, p, opts, onCount, onAck)
}

func TestEmitWithAckReturnsWhenItsContextEndsBeforeThePacketsAreQueued(t *testing.T) {
	var doneCalls atomic.Int32
	// Registered before CheckGoroutines, so run after it waited for the emit's goroutine.
	t.Cleanup(func() {
		if n := doneCalls.Load(); n != 0 {
			t.Errorf("done called %d times after EmitWithAck returned an error", n)
		}
	})
	testutil.CheckGoroutines(t)
	ad := &stuckAdapter{entered: make(chan struct{}), release: make(chan struct{})}
	srv := socketio.NewServer(socketio.Config{Adapter: func(ns socketio.LocalNamespace) socketio.Adapter {
		ad.MemoryAdapter = socketio.NewMemoryAdapter(ns)
		return ad
	}})
	h := &hub{io: srv, log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: metrics.New()}
	defer close(ad.release)

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- h.EmitWithAck(ctx, api.Target{Namespace: "/", Rooms: []string{"r"}}, "ev", nil, false, time.Minute,
			func(api.AckResult) { doneCalls.Add(1) })
	}()
	<-ad.entered
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("EmitWithAck: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("EmitWithAck still waiting 5s after its context was cancelled")
	}
}
