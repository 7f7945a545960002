package httpsend

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
)

func TestDoKeepsTheConnection(t *testing.T) {
	testutil.CheckGoroutines(t)
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Internal-Key") != "k" || r.URL.Path != "/api/v1/internal/emit" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"success":true,"echo":`+string(body)+`}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	c := NewClient(host, 5*time.Second)
	defer c.Close()
	req := Post(host, "/api/v1/internal/emit", "k", []byte(`{"n":00}`))
	for i := range 20 {
		PutDigits(req[len(req)-3:len(req)-1], int64(i))
		status, body, err := c.Do(context.Background(), req)
		if err != nil || status != 200 {
			t.Fatalf("request %d: status %d, err %v", i, status, err)
		}
		want := `{"success":true,"echo":{"n":` + string(req[len(req)-3:len(req)-1]) + `}}`
		if string(body) != want {
			t.Fatalf("body %q, want %q", body, want)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for 20 requests, want 1", n)
	}
	status, _, err := c.Do(context.Background(), Post(host, "/api/v1/internal/emit", "wrong", nil))
	if err != nil || status != 403 {
		t.Fatalf("wrong key: status %d, err %v", status, err)
	}
}

func TestDoReconnectsAfterIdleClose(t *testing.T) {
	testutil.CheckGoroutines(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	c := NewClient(host, 5*time.Second)
	defer c.Close()
	req := Post(host, "/", "k", []byte("{}"))
	if status, _, err := c.Do(context.Background(), req); err != nil || status != 200 {
		t.Fatalf("first request: %d %v", status, err)
	}
	// The server drops its idle keep-alive connections, as Node's does after 5 s.
	srv.CloseClientConnections()
	if status, body, err := c.Do(context.Background(), req); err != nil || status != 200 || string(body) != "ok" {
		t.Fatalf("request after the server closed the connection: %d %q %v", status, body, err)
	}
}

func TestDoChunkedAndLarge(t *testing.T) {
	testutil.CheckGoroutines(t)
	big := strings.Repeat("y", 100_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			io.WriteString(w, "part1,")
			w.(http.Flusher).Flush()
			io.WriteString(w, "part2")
		case "/big":
			w.Header().Set("Content-Length", "100000")
			io.WriteString(w, big)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	c := NewClient(host, 5*time.Second)
	defer c.Close()
	status, body, err := c.Do(context.Background(), Post(host, "/chunked", "k", nil))
	if err != nil || status != 200 || string(body) != "part1,part2" {
		t.Fatalf("chunked: %d %q %v", status, body, err)
	}
	// A body larger than the buffer is read to its end (the connection stays usable) and a
	// prefix of it is returned.
	status, body, err = c.Do(context.Background(), Post(host, "/big", "k", nil))
	if err != nil || status != 200 || len(body) == 0 || strings.Trim(string(body), "y") != "" {
		t.Fatalf("big: %d, %d bytes, %v", status, len(body), err)
	}
	status, body, err = c.Do(context.Background(), Post(host, "/chunked", "k", nil))
	if err != nil || status != 200 || string(body) != "part1,part2" {
		t.Fatalf("after big: %d %q %v", status, body, err)
	}
}

func TestDoFailsOnGarbage(t *testing.T) {
	testutil.CheckGoroutines(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		buf := make([]byte, 1024)
		conn.Read(buf)
		io.WriteString(conn, "SSH-2.0-nope\r\n\r\n")
	}()
	c := NewClient(ln.Addr().String(), 2*time.Second)
	defer c.Close()
	if _, _, err := c.Do(context.Background(), Post("x", "/", "k", nil)); err == nil {
		t.Fatal("garbage response accepted")
	}
	<-done
}

func TestDechunk(t *testing.T) {
	tests := []struct {
		in   string
		body string
		ok   bool
		err  bool
	}{
		{"5\r\nhello\r\n0\r\n\r\n", "hello", true, false},
		{"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", true, false},
		{"5\r\nhel", "", false, false},
		{"5\r\nhello\r\n0\r\n", "", false, false},
		{"zz\r\n", "", false, true},
	}
	for _, tt := range tests {
		b := []byte(tt.in)
		body, ok, err := dechunk(b)
		if ok != tt.ok || (err != nil) != tt.err || (ok && string(body) != tt.body) {
			t.Errorf("dechunk(%q) = %q, %v, %v", tt.in, body, ok, err)
		}
	}
}

func TestPutDigits(t *testing.T) {
	b := []byte("xx0000000yy")
	PutDigits(b[2:9], 4213)
	if string(b) != "xx0004213yy" {
		t.Fatalf("got %q", b)
	}
}
