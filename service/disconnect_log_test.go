package service

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/service/auth"
	"github.com/tomato-code/realtime/service/config"
)

// A connection that ends with an error says which in its disconnect line: here the client
// breaks the websocket protocol (a frame with a reserved bit set).
func TestDisconnectLogCarriesTheError(t *testing.T) {
	testutil.CheckGoroutines(t)
	logs := new(testutil.LogBuffer)
	cfg := testConfig(nil)
	s, err := New(cfg, slog.New(slog.NewTextHandler(logs, nil)), Options{Stdout: new(bytes.Buffer)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	conn, _, token := dialAs(t, cfg, srv.URL, "u7")
	if err := wsutil.WriteClientText(conn, []byte(`40{"token":"`+token+`"}`)); err != nil {
		t.Fatal(err)
	}
	logs.WaitLine(t, "msg=connect ", 5*time.Second)
	f := ws.NewTextFrame([]byte(`42["x"]`))
	f.Header.Rsv = ws.Rsv(true, false, false) // no extension was negotiated: a protocol error
	if err := ws.WriteFrame(conn, ws.MaskFrame(f)); err != nil {
		t.Fatal(err)
	}
	line := logs.WaitLine(t, "msg=disconnect ", 5*time.Second)
	if !strings.Contains(line, `reason="transport error"`) || !strings.Contains(line, "error=") || !strings.Contains(line, "protocol") {
		t.Errorf("disconnect line without the protocol error: %s", line)
	}
	shutdown, cancelShutdown := context.WithTimeout(context.Background(), time.Second)
	defer cancelShutdown()
	s.io.Shutdown(shutdown)
}

// dialAs opens a websocket to the service at url and returns it, the reader of what the
// server sends (the open packet first) and a token of user for its CONNECT.
func dialAs(t *testing.T, cfg *config.Config, url, user string) (net.Conn, io.Reader, string) {
	t.Helper()
	token, err := auth.MintHS256([]byte(cfg.JWTSecret), auth.MintOptions{UserID: user, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/socket.io/?EIO=4&transport=websocket")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if br != nil {
		return conn, br, token // br holds frames that came with the 101, then reads conn
	}
	return conn, conn, token
}
