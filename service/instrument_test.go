package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"

	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/service/config"
	"github.com/tomato-code/realtime/socketio"
)

// joinAwaitingAdapter is a memory adapter that confirms joins as the Redis adapter does with
// REDIS_SUBSCRIPTION=rooms, when the test says so.
type joinAwaitingAdapter struct {
	*socketio.MemoryAdapter
	rooms   chan []string // the socket's rooms, as each wait starts
	release chan struct{}
}

func (*joinAwaitingAdapter) JoinsPending(*socketio.Socket) bool { return true }

func (a *joinAwaitingAdapter) AwaitJoined(ctx context.Context, s *socketio.Socket) error {
	a.rooms <- a.SocketRooms(s)
	select {
	case <-a.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func newJoinAwaitingAdapter(ns socketio.LocalNamespace) *joinAwaitingAdapter {
	return &joinAwaitingAdapter{MemoryAdapter: socketio.NewMemoryAdapter(ns), rooms: make(chan []string, 1), release: make(chan struct{})}
}

type plainNamespace struct{}

func (plainNamespace) Name() string     { return "/" }
func (plainNamespace) NextAckID() int64 { return 0 }
func (plainNamespace) ServerSideEmit(json.RawMessage, [][]byte, func(socketio.Args)) bool {
	return false
}

// The counting wrapper keeps an adapter's socketio.JoinAwaiter visible to the socketio server
// (REDIS_SUBSCRIPTION=rooms relies on it) and adds none to an adapter without.
func TestInstrumentKeepsJoinAwaiter(t *testing.T) {
	s := &Service{}
	awaiting := s.instrument(func(ns socketio.LocalNamespace) socketio.Adapter {
		return newJoinAwaitingAdapter(ns)
	})(plainNamespace{})
	if _, ok := awaiting.(socketio.JoinAwaiter); !ok {
		t.Error("the wrapper of a JoinAwaiter hides it")
	}
	plain := s.instrument(func(ns socketio.LocalNamespace) socketio.Adapter {
		return socketio.NewMemoryAdapter(ns)
	})(plainNamespace{})
	if _, ok := plain.(socketio.JoinAwaiter); ok {
		t.Error("the wrapper of a memory adapter is a JoinAwaiter")
	}
}

// Through the service with REDIS_SUBSCRIPTION=rooms, a client's CONNECT reply waits for the
// adapter to confirm the user room, which the handshake middleware joined. Otherwise the
// rooms are joined once connected, and the wait sees none.
func TestConnectWaitsForTheUserRoom(t *testing.T) {
	for _, rooms := range []bool{true, false} {
		t.Run(fmt.Sprintf("rooms=%v", rooms), func(t *testing.T) { testConnectWaitsForTheUserRoom(t, rooms) })
	}
}

func testConnectWaitsForTheUserRoom(t *testing.T, roomChannels bool) {
	a, ws := connectThroughAwaitingAdapter(t, roomChannels, "u7")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	select {
	case rooms := <-a.rooms:
		if slices.Contains(rooms, userRoomPrefix+"u7") != roomChannels {
			t.Errorf("rooms when the wait started: %q; want the user room %v", rooms, roomChannels)
		}
	case <-ctx.Done():
		t.Fatal("the CONNECT reply did not wait for the adapter")
	}
	close(a.release)
	ws.expectPrefix(t, `40{"sid":"`)
}

// With an adapter whose joins take effect later (REDIS_SUBSCRIPTION=rooms), join_order's
// acknowledgement waits until the adapter confirmed the order room.
func TestJoinOrderAckWaitsForTheRoom(t *testing.T) {
	a, ws := connectThroughAwaitingAdapter(t, true, "u8")
	<-a.rooms
	a.release <- struct{}{} // the connect's wait
	ws.expectPrefix(t, `40{"sid":"`)
	ws.send(t, `421["join_order","9"]`)
	select {
	case rooms := <-a.rooms:
		if !slices.Contains(rooms, "order:9") {
			t.Errorf("rooms when the wait started: %q; want order:9", rooms)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the acknowledgement did not wait for the adapter")
	}
	// Nothing comes while the wait lasts.
	_ = ws.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if msg, err := wsutil.ReadServerText(ws.rw); err == nil {
		t.Fatalf("%q before the adapter confirmed the room", msg)
	}
	a.release <- struct{}{}
	ws.expectPrefix(t, `431[{"success":true}]`)
}

// awaitingClient is a raw websocket client of the service.
type awaitingClient struct {
	conn net.Conn
	rw   io.ReadWriter
}

func (c *awaitingClient) send(t *testing.T, msg string) {
	t.Helper()
	if err := wsutil.WriteClientText(c.conn, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

func (c *awaitingClient) expectPrefix(t *testing.T, prefix string) {
	t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if msg, err := wsutil.ReadServerText(c.rw); err != nil || !strings.HasPrefix(string(msg), prefix) {
		t.Fatalf("got %q, %v; want %s...", msg, err, prefix)
	}
}

// connectThroughAwaitingAdapter starts a service whose namespaces use a joinAwaitingAdapter
// and sends the CONNECT of user, whose reply waits for the adapter's release.
func connectThroughAwaitingAdapter(t *testing.T, roomChannels bool, user string) (*joinAwaitingAdapter, *awaitingClient) {
	t.Helper()
	testutil.CheckGoroutines(t)
	var a *joinAwaitingAdapter
	cfg := testConfig(func(c *config.Config) { c.RedisRoomChannels = roomChannels })
	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{Stdout: io.Discard,
		Adapter: func(ns socketio.LocalNamespace) socketio.Adapter {
			a = newJoinAwaitingAdapter(ns)
			return a
		}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.io.Shutdown(ctx)
	})
	conn, r, token := dialAs(t, cfg, srv.URL, user)
	ws := &awaitingClient{conn: conn, rw: struct {
		io.Reader
		io.Writer
	}{r, conn}}
	ws.expectPrefix(t, "0{")
	ws.send(t, `40{"token":"`+token+`"}`)
	return a, ws
}
