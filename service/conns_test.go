package service

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/tomato-code/realtime/internal/testutil"
)

func TestConnsTracksHijackedConnections(t *testing.T) {
	testutil.CheckGoroutines(t)
	c := newConns()
	hijacked := make(chan net.Conn, 1)
	srv := &http.Server{
		ConnState: c.connState,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/hijack" {
				io.WriteString(w, "plain")
				return
			}
			nc, bw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			bw.WriteString("HTTP/1.1 101 Switching Protocols\r\n\r\n")
			bw.Flush()
			hijacked <- nc
		}),
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(c.listener(l))
	defer srv.Close()

	resp, err := http.Get("http://" + l.Addr().String() + "/plain")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()

	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	io.WriteString(client, "GET /hijack HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(client)
	if line, _ := br.ReadString('\n'); line != "HTTP/1.1 101 Switching Protocols\r\n" {
		t.Fatalf("status line %q", line)
	}
	server := <-hijacked
	if ws := c.websockets(); len(ws) != 1 || ws[0] != server {
		t.Fatalf("tracked %v, want the hijacked connection only", ws)
	}
	// Closing it (as the drain does) reaches the client and removes it from the set.
	if err := c.websockets()[0].Close(); err != nil {
		t.Fatal(err)
	}
	if rest, err := io.ReadAll(br); err != nil || string(rest) != "\r\n" {
		t.Fatalf("client read after close: %q %v, want the end of the stream", rest, err)
	}
	if ws := c.websockets(); len(ws) != 0 {
		t.Fatalf("closed connection still tracked: %v", ws)
	}
}
