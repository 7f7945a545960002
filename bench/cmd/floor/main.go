// Command floor is the emit floor: a server that does only the work an emit through the
// internal API cannot avoid, as the load tool drives it. It reads the HTTP request, writes one
// websocket frame to the connection of the user the request names, and writes the HTTP answer.
// It checks no token or key, parses no JSON, keeps no Engine.IO or Socket.IO state, sends no
// pings and uses no net/http: a goroutine per connection on the runtime's poller, as a plain Go
// server has.
//
// Its server CPU per emit under the load tool's targeted phases, next to the Realtime Service's
// and the Node.js reference's on the same machine, tells how much of an emit's cost is the
// three loopback system calls themselves:
//
//	taskset -c 0 go run ./bench/cmd/floor -addr 127.0.0.1:3990 &
//	taskset -c 1 go run ./bench/cmd/load -url http://127.0.0.1:3990 -pid $(pgrep -f 'floor -addr') \
//	    -secret s -key k -n 2000 -idle -1s -scenarios targeted
//
// (the pid is the floor's own: with `go run`, pgrep finds the built binary, not go).
// It accepts what the load tool sends and little else; it is a measuring instrument, not a
// server to expose.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"

	"github.com/tomato-code/realtime/bench/internal/wsframe"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3990", "listen address")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	fmt.Printf("floor listening on %s\n", ln.Addr())
	err = newServer().run(ln) // returns only when accepting fails
	fmt.Fprintln(os.Stderr, "floor:", err)
	os.Exit(1)
}

func newServer() *server { return &server{users: make(map[int]*wsConn)} }

// run serves the connections ln accepts until accepting fails, and returns that error.
func (s *server) run(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go s.serve(c)
	}
}

type server struct {
	mu    sync.RWMutex
	users map[int]*wsConn // by the user index of the load tool's ids (u0000042 -> 42)
}

// wsConn is a client's websocket: several API connections may write to it at once.
type wsConn struct {
	mu sync.Mutex
	c  net.Conn
}

var (
	answer  = []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{\"success\":true}\n")
	health  = []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r\n{\"status\":\"healthy\"}\n")
	missing = []byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
	open    = []byte(`0{"sid":"floor","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)
)

// serve reads requests on c until it closes or becomes a websocket.
func (s *server) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 16<<10)
	var frame, body []byte // reused: the floor allocates nothing per emit
	for {
		head, err := readHead(br)
		if err != nil {
			return
		}
		switch {
		case bytes.Contains(head, []byte("\r\nUpgrade: websocket")) || bytes.Contains(head, []byte("\r\nupgrade: websocket")):
			s.websocket(c, br, head)
			return
		case bytes.HasPrefix(head, []byte("POST ")):
			n, ok := contentLength(head)
			if !ok {
				return
			}
			if cap(body) < n {
				body = make([]byte, n)
			}
			body = body[:n]
			if _, err := io.ReadFull(br, body); err != nil {
				return
			}
			frame = s.emit(frame[:0], body)
			if _, err := c.Write(answer); err != nil {
				return
			}
		case bytes.HasPrefix(head, []byte("GET /health")):
			if _, err := c.Write(health); err != nil {
				return
			}
		default:
			if _, err := c.Write(missing); err != nil {
				return
			}
		}
	}
}

// emit writes the request's event to the user it names: {"event":E,"room":"user:uNNNNNNN",
// "payload":P}, as the load tool builds it, becomes the frame 42[E,P].
func (s *server) emit(frame, body []byte) []byte {
	event := between(body, []byte(`"event":`), []byte(`,"room"`))
	room := between(body, []byte(`"room":"user:`), []byte(`"`))
	i := bytes.Index(body, []byte(`"payload":`))
	if event == nil || len(room) < 2 || i < 0 || len(body) < 2 {
		return frame
	}
	payload := body[i+len(`"payload":`) : len(body)-1]
	user, err := strconv.Atoi(string(room[1:]))
	if err != nil {
		return frame
	}
	s.mu.RLock()
	w := s.users[user]
	s.mu.RUnlock()
	if w == nil {
		return frame
	}
	n := len(`42[`) + len(event) + 1 + len(payload) + 1
	frame = wsframe.AppendHeader(frame, wsframe.OpText, n)
	frame = append(append(append(append(append(frame, "42["...), event...), ','), payload...), ']')
	w.mu.Lock()
	_, _ = w.c.Write(frame)
	w.mu.Unlock()
	return frame
}

// websocket answers the upgrade with the Engine.IO open packet, accepts the Socket.IO CONNECT
// under the user its token names, and then reads and drops whatever the client sends.
func (s *server) websocket(c net.Conn, br *bufio.Reader, head []byte) {
	hello := []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ")
	hello = append(hello, acceptOf(head)...)
	hello = wsframe.AppendHeader(append(hello, "\r\n\r\n"...), wsframe.OpText, len(open))
	if _, err := c.Write(append(hello, open...)); err != nil {
		return
	}
	connect, err := readClientFrame(br)
	if err != nil {
		return
	}
	user, ok := userOf(connect)
	if !ok {
		return
	}
	reply := []byte(`40{"sid":"floor` + strconv.Itoa(user) + `"}`)
	w := &wsConn{c: c}
	s.mu.Lock()
	s.users[user] = w
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.users[user] == w {
			delete(s.users, user)
		}
		s.mu.Unlock()
	}()
	w.mu.Lock()
	_, err = c.Write(append(wsframe.AppendHeader(nil, wsframe.OpText, len(reply)), reply...))
	w.mu.Unlock()
	if err != nil {
		return
	}
	for {
		if _, err := readClientFrame(br); err != nil {
			return
		}
	}
}

// userOf finds the user index in the CONNECT packet's token: the load tool's ids are the
// letter u and seven digits, in the token's "_id" claim.
func userOf(connect []byte) (int, bool) {
	token := between(connect, []byte(`"token":"`), []byte(`"`))
	parts := bytes.Split(token, []byte("."))
	if len(parts) != 3 {
		return 0, false
	}
	claims, err := base64.RawURLEncoding.DecodeString(string(parts[1]))
	if err != nil {
		return 0, false
	}
	id := between(claims, []byte(`"_id":"`), []byte(`"`))
	if len(id) < 2 {
		return 0, false
	}
	n, err := strconv.Atoi(string(id[1:]))
	return n, err == nil
}

// readHead reads an HTTP request head, through its blank line.
func readHead(br *bufio.Reader) ([]byte, error) {
	var head []byte
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		head = append(head, line...)
		if len(line) <= 2 {
			return head, nil
		}
		if len(head) > 16<<10 {
			return nil, fmt.Errorf("head too large")
		}
	}
}

func contentLength(head []byte) (int, bool) {
	v := between(head, []byte("\r\nContent-Length: "), []byte("\r\n"))
	if v == nil {
		v = between(head, []byte("\r\ncontent-length: "), []byte("\r\n"))
	}
	n, err := strconv.Atoi(string(v))
	return n, err == nil && n >= 0 && n <= 1<<20
}

// readClientFrame reads one masked client frame and returns its unmasked payload.
func readClientFrame(br *bufio.Reader) ([]byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return nil, err
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(br, ext[:]); err != nil {
			return nil, err
		}
		n = int(ext[0])<<8 | int(ext[1])
	case 127:
		return nil, fmt.Errorf("frame too large")
	}
	var mask [4]byte
	if h[1]&0x80 != 0 {
		if _, err := io.ReadFull(br, mask[:]); err != nil {
			return nil, err
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		return nil, err
	}
	for i := range p {
		p[i] ^= mask[i&3]
	}
	return p, nil
}

// between returns what lies in b between the first start and the next end after it.
// acceptOf returns the Sec-WebSocket-Accept value of an upgrade request's head (RFC 6455
// §4.2.2): a client that checks it, as the load tool's warm-up connection does, would
// otherwise refuse the floor.
func acceptOf(head []byte) string {
	key := between(head, []byte("\r\nSec-WebSocket-Key: "), []byte("\r\n"))
	if key == nil {
		key = between(head, []byte("\r\nsec-websocket-key: "), []byte("\r\n"))
	}
	sum := sha1.Sum(append(append([]byte(nil), bytes.TrimSpace(key)...), "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"...))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func between(b, start, end []byte) []byte {
	i := bytes.Index(b, start)
	if i < 0 {
		return nil
	}
	rest := b[i+len(start):]
	j := bytes.Index(rest, end)
	if j < 0 {
		return nil
	}
	return rest[:j]
}
