package engineio

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
)

// A deadline further away than one turn of the wheel waits in its slot while the wheel turns:
// it fires once it has passed, never a turn early.
func TestWheelDeadlineLongerThanATurn(t *testing.T) {
	testutil.CheckGoroutines(t)
	srv := NewServer(Config{PingInterval: 100 * time.Millisecond, PingTimeout: time.Hour, OnOpen: func(*Session) SessionHandler { return nil }})
	turn := time.Duration(srv.wheel.tick * wheelSlots)
	req := httptest.NewRequest("GET", "/engine.io/?EIO=4&transport=websocket", nil)
	s := srv.newSession(req, &wsConn{conn: &discardConn{sink: &sink{done: make(chan struct{}, 1)}, closed: make(chan struct{})}})
	defer s.terminate(ReasonServerShutdown, nil, msgClose, false)

	wait := turn + turn/2
	s.mu.Lock()
	start := time.Now()
	s.resetTimerLocked(wait)
	s.mu.Unlock()
	pinged := func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.awaitingPong }
	eventually(t, "the ping", pinged)
	if d := time.Since(start); d < wait {
		t.Errorf("ping after %v, before its deadline %v (a turn is %v)", d, wait, turn)
	}
}
