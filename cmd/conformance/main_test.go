package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tomato-code/realtime/internal/testutil"
)

// TestRunShutdownClosesSocketIOSessions checks that stopping the server closes Socket.IO
// sessions too: a waiting long-poll gets the Engine.IO close packet, not a ping.
func TestRunShutdownClosesSocketIOSessions(t *testing.T) {
	testutil.CheckGoroutines(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- run(ctx, ln) }()
	base := "http://" + ln.Addr().String() + "/socket.io/?EIO=4&transport=polling"

	open := poll(t, http.MethodGet, base, "")
	sid := open[strings.Index(open, `"sid":"`)+7:]
	sid = sid[:strings.IndexByte(sid, '"')]
	url := base + "&sid=" + sid
	poll(t, http.MethodPost, url, "40")
	if got := poll(t, http.MethodGet, url, ""); !strings.HasPrefix(got, "40") {
		t.Fatalf("CONNECT answer = %q", got)
	}

	waiting := make(chan string, 1)
	go func() { waiting <- poll(t, http.MethodGet, url, "") }()
	// Whether the GET is parked before the shutdown starts or arrives just after, it carries
	// the close packet: a closing polling session waits for a GET to send it in.
	stop()
	got := <-waiting
	if !slices.Contains(strings.Split(got, "\x1e"), "1") {
		t.Fatalf("long-poll after shutdown = %q, want the close packet", got)
	}
	if err := <-ran; err != nil {
		t.Fatalf("run: %v", err)
	}
}

// poll makes one polling request and returns the response body; errors are fatal, except
// that t.Fatal cannot run off the test goroutine, so it uses t.Error there.
func poll(t *testing.T, method, url, body string) string {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return ""
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("%s %s: %d %q %v", method, url, resp.StatusCode, b, err)
	}
	return string(b)
}
