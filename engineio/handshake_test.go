package engineio

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
)

func TestHandshakePolling(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond}, false)

	seen := map[string]bool{}
	for range 20 {
		status, body, hdr := request(t, "GET", ts.url+"?EIO=4&transport=polling&t=abc", "")
		if status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
		if ct := hdr.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
			t.Errorf("Content-Type = %q", ct)
		}
		if cc := hdr.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control = %q", cc)
		}
		o := parseOpen(t, body)
		want := fmt.Sprintf(`0{"sid":"%s","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}`, o.Sid)
		if body != want {
			t.Errorf("open packet\n got %s\nwant %s", body, want)
		}
		if len(o.Sid) != 20 {
			t.Errorf("sid %q has %d characters, want 20", o.Sid, len(o.Sid))
		}
		if _, err := base64.RawURLEncoding.DecodeString(o.Sid); err != nil {
			t.Errorf("sid %q is not base64url: %v", o.Sid, err)
		}
		if seen[o.Sid] {
			t.Errorf("sid %q issued twice", o.Sid)
		}
		seen[o.Sid] = true
		r := ts.nextSession(t)
		if r.s.ID() != o.Sid || r.s.Transport() != "polling" {
			t.Errorf("session %s %s, want %s polling", r.s.ID(), r.s.Transport(), o.Sid)
		}
		hs := r.s.Handshake()
		if hs.QueryValue("t") != "abc" || hs.Query().Get("EIO") != "4" || hs.RemoteAddr == "" || hs.Time.IsZero() || hs.Secure ||
			!strings.HasPrefix(hs.URL, "/engine.io/?") || hs.Host == "" {
			t.Errorf("handshake info %+v", hs)
		}
		if ua := hs.HeaderValue("user-agent"); ua == "" || ua != hs.Header().Get("User-Agent") {
			t.Errorf("User-Agent %q, header %v", ua, hs.Header())
		}
	}
	if n := ts.SessionCount(); n != 20 {
		t.Errorf("SessionCount = %d, want 20", n)
	}
}

func TestHandshakeWebSocket(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	c := dialWS(t, ts, "EIO=4&transport=websocket")
	o := parseOpen(t, c.readText())
	if o.Upgrades == nil || len(o.Upgrades) != 0 {
		t.Errorf("upgrades = %v, want []", o.Upgrades)
	}
	if o.PingInterval != 60000 || o.PingTimeout != 20000 || o.MaxPayload != 1_000_000 {
		t.Errorf("open data %+v", o)
	}
	r := ts.nextSession(t)
	if r.s.Transport() != "websocket" || r.s.ID() != o.Sid {
		t.Errorf("session %s %s", r.s.ID(), r.s.Transport())
	}
}

func TestHandshakeWithoutWebSocketAdvertisesNoUpgrade(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{Transports: []string{"polling"}}, false)
	_, body, _ := request(t, "GET", ts.url+"?EIO=4&transport=polling", "")
	if o := parseOpen(t, body); len(o.Upgrades) != 0 {
		t.Errorf("upgrades = %v, want []", o.Upgrades)
	}
	status, body, _ := request(t, "GET", ts.url+"?EIO=4&transport=websocket", "")
	if status != 400 || body != `{"code":0,"message":"Transport unknown"}` {
		t.Errorf("websocket disabled: %d %s", status, body)
	}
}

func TestBadRequests(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{AllowRequest: func(r *http.Request) error {
		if r.Header.Get("X-Deny") != "" {
			return errors.New(`no <entry> "here"`)
		}
		return nil
	}}, false)
	sid := ts.pollHandshake(t)
	wsc := dialWS(t, ts, "EIO=4&transport=websocket")
	wsSid := parseOpen(t, wsc.readText()).Sid

	tests := []struct {
		name, method, query string
		hdr                 []string
		status              int
		body                string
	}{
		{"no EIO", "GET", "transport=polling", nil, 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"EIO=3", "GET", "EIO=3&transport=polling", nil, 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"EIO=abc", "GET", "EIO=abc&transport=polling", nil, 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"no transport", "GET", "EIO=4", nil, 400, `{"code":0,"message":"Transport unknown"}`},
		{"unknown transport", "GET", "EIO=4&transport=abc", nil, 400, `{"code":0,"message":"Transport unknown"}`},
		{"transport before EIO", "GET", "EIO=3&transport=abc", nil, 400, `{"code":0,"message":"Transport unknown"}`},
		{"POST handshake", "POST", "EIO=4&transport=polling", nil, 400, `{"code":2,"message":"Bad handshake method"}`},
		{"PUT handshake", "PUT", "EIO=4&transport=polling", nil, 400, `{"code":2,"message":"Bad handshake method"}`},
		{"method before EIO", "POST", "transport=polling", nil, 400, `{"code":2,"message":"Bad handshake method"}`},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", nil, 400, `{"code":3,"message":"Bad request"}`},
		{"unknown sid", "GET", "EIO=4&transport=polling&sid=nope", nil, 400, `{"code":1,"message":"Session ID unknown"}`},
		{"unknown sid POST", "POST", "EIO=4&transport=polling&sid=nope", nil, 400, `{"code":1,"message":"Session ID unknown"}`},
		{"polling on a websocket session", "GET", "EIO=4&transport=polling&sid=" + wsSid, nil, 400, `{"code":3,"message":"Bad request"}`},
		{"websocket without upgrade on a polling session", "GET", "EIO=4&transport=websocket&sid=" + sid, nil, 400, `{"code":3,"message":"Bad request"}`},
		{"protocol mismatch", "GET", "EIO=3&transport=polling&sid=" + sid, nil, 400, `{"code":3,"message":"Bad request"}`},
		{"forbidden", "GET", "EIO=4&transport=polling", []string{"X-Deny", "1"}, 403, `{"code":4,"message":"no <entry> \"here\""}`},
		{"forbidden before EIO", "GET", "EIO=3&transport=polling", []string{"X-Deny", "1"}, 403, `{"code":4,"message":"no <entry> \"here\""}`},
		{"other method on a session", "PUT", "EIO=4&transport=polling&sid=" + sid, nil, 500, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, hdr := request(t, tt.method, ts.url+"?"+tt.query, "", tt.hdr...)
			if status != tt.status || body != tt.body {
				t.Errorf("got %d %s, want %d %s", status, body, tt.status, tt.body)
			}
			if tt.body != "" && hdr.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type = %q", hdr.Get("Content-Type"))
			}
		})
	}
	// None of these requests closed the sessions.
	ts.session(t, sid)
	ts.session(t, wsSid)
}

// rawUpgrade sends a websocket upgrade request by hand and returns the response.
func rawUpgrade(t *testing.T, ts *testServer, query string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", ts.http.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(testTimeout))
	fmt.Fprintf(conn, "GET /engine.io/?%s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", query)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestBadUpgradeRequests(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	tests := []struct{ query, body string }{
		{"EIO=3&transport=websocket", "Unsupported protocol version"},
		{"transport=websocket", "Unsupported protocol version"},
		{"EIO=4&transport=websocket&sid=nope", "Session ID unknown"},
	}
	for _, tt := range tests {
		status, body := rawUpgrade(t, ts, tt.query)
		if status != 400 || body != tt.body {
			t.Errorf("%s: got %d %q, want 400 %q", tt.query, status, body, tt.body)
		}
	}
	if status, _ := rawUpgrade(t, ts, "EIO=4&transport=websocket"); status != 101 {
		t.Errorf("good upgrade: %d", status)
	}
}

func TestCORS(t *testing.T) {
	testutil.CheckGoroutines(t)
	t.Run("list with credentials", func(t *testing.T) {
		ts := newTestServer(t, Config{CORS: &CORS{Origins: []string{"https://a.example"}, Credentials: true, MaxAge: time.Hour}}, false)
		status, _, hdr := request(t, "OPTIONS", ts.url+"?EIO=4&transport=polling", "",
			"Origin", "https://a.example", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
		if status != 204 || hdr.Get("Access-Control-Allow-Origin") != "https://a.example" ||
			hdr.Get("Access-Control-Allow-Credentials") != "true" ||
			hdr.Get("Access-Control-Allow-Methods") != "GET,HEAD,PUT,PATCH,POST,DELETE" ||
			hdr.Get("Access-Control-Allow-Headers") != "content-type" || hdr.Get("Access-Control-Max-Age") != "3600" {
			t.Errorf("preflight: %d %v", status, hdr)
		}
		status, _, hdr = request(t, "GET", ts.url+"?EIO=4&transport=polling", "", "Origin", "https://a.example")
		if status != 200 || hdr.Get("Access-Control-Allow-Origin") != "https://a.example" || hdr.Get("Vary") != "Origin" {
			t.Errorf("allowed origin: %d %v", status, hdr)
		}
		status, _, hdr = request(t, "GET", ts.url+"?EIO=4&transport=polling", "", "Origin", "https://evil.example")
		if status != 200 || hdr.Get("Access-Control-Allow-Origin") != "" || hdr.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("other origin: %d %v", status, hdr)
		}
	})
	t.Run("any", func(t *testing.T) {
		ts := newTestServer(t, Config{CORS: &CORS{Origins: []string{"*"}}}, false)
		_, _, hdr := request(t, "GET", ts.url+"?EIO=4&transport=polling", "", "Origin", "https://b.example")
		if hdr.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("any origin: %v", hdr)
		}
		// Errors carry the CORS headers too, so that browsers can read them.
		status, _, hdr := request(t, "GET", ts.url+"?EIO=3&transport=polling", "", "Origin", "https://b.example")
		if status != 400 || hdr.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("error: %d %v", status, hdr)
		}
	})
	t.Run("none", func(t *testing.T) {
		ts := newTestServer(t, Config{}, false)
		_, _, hdr := request(t, "GET", ts.url+"?EIO=4&transport=polling", "", "Origin", "https://b.example")
		if hdr.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("no CORS configured: %v", hdr)
		}
	})
}
