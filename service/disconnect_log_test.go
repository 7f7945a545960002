package service

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/service/auth"
)

// logSink is a log destination written by the service's goroutines and read by the test;
// every write signals changed, so that the test waits for lines rather than sleeps.
type logSink struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newLogSink() *logSink { return &logSink{changed: make(chan struct{}, 1)} }

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return s.b.Write(p)
}

// waitLine returns the last line holding substr, waiting for one until deadline.
func (s *logSink) waitLine(t *testing.T, substr string, deadline time.Time) string {
	t.Helper()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		s.mu.Lock()
		lines := strings.Split(s.b.String(), "\n")
		s.mu.Unlock()
		for i := len(lines) - 1; i >= 0; i-- {
			if strings.Contains(lines[i], substr) {
				return lines[i]
			}
		}
		select {
		case <-s.changed:
		case <-timer.C:
			t.Fatalf("no line with %q in the log", substr)
		}
	}
}

// A connection that ends with an error says which in its disconnect line: here the client
// breaks the websocket protocol (a frame with a reserved bit set).
func TestDisconnectLogCarriesTheError(t *testing.T) {
	testutil.CheckGoroutines(t)
	logs := newLogSink()
	cfg := testConfig(nil)
	s, err := New(cfg, slog.New(slog.NewTextHandler(logs, nil)), Options{Stdout: new(bytes.Buffer)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	token, err := auth.MintHS256([]byte(cfg.JWTSecret), auth.MintOptions{UserID: "u7", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/socket.io/?EIO=4&transport=websocket")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if br != nil {
		ws.PutReader(br) // the open packet may have come with the 101; it is not needed
	}
	if err := wsutil.WriteClientText(conn, []byte(`40{"token":"`+token+`"}`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	logs.waitLine(t, "msg=connect ", deadline)
	f := ws.NewTextFrame([]byte(`42["x"]`))
	f.Header.Rsv = ws.Rsv(true, false, false) // no extension was negotiated: a protocol error
	if err := ws.WriteFrame(conn, ws.MaskFrame(f)); err != nil {
		t.Fatal(err)
	}
	line := logs.waitLine(t, "msg=disconnect ", deadline)
	if !strings.Contains(line, `reason="transport error"`) || !strings.Contains(line, "error=") || !strings.Contains(line, "protocol") {
		t.Errorf("disconnect line without the protocol error: %s", line)
	}
	shutdown, cancelShutdown := context.WithTimeout(context.Background(), time.Second)
	defer cancelShutdown()
	s.io.Shutdown(shutdown)
}
