package main

import (
	"bufio"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tomato-code/realtime/bench/internal/wsframe"
	"github.com/tomato-code/realtime/internal/testutil"
)

// The floor does what the load tool needs: a websocket client connects under the user of its
// token, an emit to that user's room reaches it as an event frame, and the API answers 200.
func TestEmitReachesTheUser(t *testing.T) {
	testutil.CheckGoroutines(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go newServer().run(ln)

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	// The key and its accept value are RFC 6455's own example (§1.3).
	io.WriteString(c, "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(c)
	head, err := readHead(br)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(head), "\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") {
		t.Fatalf("101 without the right Sec-WebSocket-Accept: %q", head)
	}
	if got := readServerFrame(t, br); !strings.HasPrefix(got, `0{"sid":`) {
		t.Fatalf("open packet %q", got)
	}
	claims := base64.RawURLEncoding.EncodeToString([]byte(`{"_id":"u0000042"}`))
	writeClientFrame(t, c, `40{"token":"h.`+claims+`.s"}`)
	if got := readServerFrame(t, br); !strings.HasPrefix(got, `40{"sid":`) {
		t.Fatalf("CONNECT reply %q", got)
	}

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Post("http://"+ln.Addr().String()+"/api/v1/internal/emit", "application/json",
		strings.NewReader(`{"event":"e","room":"user:u0000042","payload":{"bp":1,"bt":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "{\"success\":true}\n" {
		t.Fatalf("emit: %d %q", resp.StatusCode, body)
	}
	if got, want := readServerFrame(t, br), `42["e",{"bp":1,"bt":2}]`; got != want {
		t.Fatalf("event frame %q, want %q", got, want)
	}
}

func readServerFrame(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	head, err := br.Peek(2)
	if err == nil && head[1]&0x7f == 126 {
		head, err = br.Peek(4)
	}
	if err != nil {
		t.Fatal(err)
	}
	h, ok, err := wsframe.ParseHeader(head)
	if !ok || err != nil {
		t.Fatalf("frame header %x: %v", head, err)
	}
	_, _ = br.Discard(h.Size)
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(br, p); err != nil {
		t.Fatal(err)
	}
	return string(p)
}

func writeClientFrame(t *testing.T, c net.Conn, payload string) {
	t.Helper()
	if _, err := c.Write(wsframe.AppendMasked(nil, wsframe.OpText, []byte(payload), [4]byte{1, 2, 3, 4})); err != nil {
		t.Fatal(err)
	}
}
