package engineio

import (
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
)

type funcHandler struct {
	onMessage func([]byte, bool)
	onClose   func(string, error)
}

func (h funcHandler) OnMessage(d []byte, b bool)  { h.onMessage(d, b) }
func (h funcHandler) OnClose(r string, err error) { h.onClose(r, err) }

// OnOpen may send and close: the open packet still comes first, and OnClose after OnOpen.
func TestOnOpenSendsAndCloses(t *testing.T) {
	testutil.CheckGoroutines(t)
	var opened atomic.Bool
	closed := make(chan string, 1)
	srv := NewServer(Config{OnOpen: func(s *Session) SessionHandler {
		s.Send(NewTextMessage([]byte("welcome")))
		s.Close()
		time.Sleep(10 * time.Millisecond) // OnClose must not run while OnOpen has not returned
		opened.Store(true)
		return funcHandler{func([]byte, bool) {}, func(r string, _ error) {
			if !opened.Load() {
				r = "OnClose before OnOpen returned"
			}
			closed <- r
		}}
	}})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	// What was queued goes in the handshake response, the close packet in the next.
	_, body, _ := request(t, "GET", hs.URL+"/?EIO=4&transport=polling", "")
	recs := strings.Split(body, "\x1e")
	if len(recs) != 2 || recs[1] != "4welcome" {
		t.Fatalf("handshake response %q", body)
	}
	sid := parseOpen(t, recs[0]).Sid
	if status, body, _ := request(t, "GET", hs.URL+"/?EIO=4&transport=polling&sid="+sid, ""); status != 200 || body != "1" {
		t.Errorf("second GET: %d %q", status, body)
	}
	select {
	case r := <-closed:
		if r != ReasonForcedClose {
			t.Errorf("close reason %q", r)
		}
	case <-time.After(testTimeout):
		t.Fatal("OnClose not called")
	}
}

// Close over polling with nothing queued and no GET pending waits for the next GET to carry
// the close packet, so that the client learns of it.
func TestPollingCloseWaitsForGet(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	sid := ts.pollHandshake(t)
	r := ts.nextSession(t)
	r.s.Close()
	if status, body := ts.poll(t, sid); status != 200 || body != "1" {
		t.Errorf("GET: %d %q", status, body)
	}
	if ev := r.waitClose(t); ev.reason != ReasonForcedClose {
		t.Errorf("close %+v", ev)
	}
}

// Close over polling with messages queued: they go in one response, the close packet alone in
// the next, whether the first GET was pending at the close or came after it. OnClose runs once
// the close packet is on its way.
func TestPollingCloseSendsQueuedFirst(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := newTestServer(t, Config{}, false)
	for _, pending := range []bool{false, true} {
		sid := ts.pollHandshake(t)
		r := ts.nextSession(t)
		first := make(chan string, 1)
		if pending {
			go func() { _, body := ts.poll(t, sid); first <- body }()
			eventually(t, "the pending GET", r.s.getPending)
		}
		r.s.Send(NewTextMessage([]byte("a")), NewTextMessage([]byte("b")))
		r.s.Close()
		if !pending {
			_, body := ts.poll(t, sid)
			first <- body
		}
		if body := <-first; body != "4a\x1e4b" {
			t.Errorf("pending %v: first GET after the close %q, want the queued messages alone", pending, body)
		}
		select {
		case ev := <-r.closed:
			t.Errorf("pending %v: closed %+v before the close packet was sent", pending, ev)
		default:
		}
		if status, body := ts.poll(t, sid); status != 200 || body != "1" {
			t.Errorf("pending %v: second GET %d %q, want the close packet", pending, status, body)
		}
		if ev := r.waitClose(t); ev.reason != ReasonForcedClose {
			t.Errorf("pending %v: close %+v", pending, ev)
		}
		if status, _ := ts.poll(t, sid); status != 400 {
			t.Errorf("pending %v: GET after the close: %d", pending, status)
		}
	}
}

// A handler may call Close and Send from OnMessage: OnClose then runs after OnMessage returns.
func TestCloseFromOnMessage(t *testing.T) {
	testutil.CheckGoroutines(t)
	var inMessage atomic.Bool
	closed := make(chan string, 1)
	srv := NewServer(Config{PingInterval: time.Minute, OnOpen: func(s *Session) SessionHandler {
		return funcHandler{
			func([]byte, bool) {
				inMessage.Store(true)
				s.Send(NewTextMessage([]byte("bye")))
				s.Close()
				time.Sleep(10 * time.Millisecond) // OnClose must wait for this return
				inMessage.Store(false)
			},
			func(r string, _ error) {
				if inMessage.Load() {
					r = "OnClose during OnMessage"
				}
				closed <- r
			},
		}
	}})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ts := &testServer{Server: srv, http: hs, url: hs.URL + "/"}
	c := dialWS(t, ts, "EIO=4&transport=websocket")
	parseOpen(t, c.readText())
	c.send("4hi")
	if m := c.readText(); m != "4bye" {
		t.Errorf("got %q", m)
	}
	c.expectClose()
	select {
	case r := <-closed:
		if r != ReasonForcedClose {
			t.Errorf("close reason %q", r)
		}
	case <-time.After(testTimeout):
		t.Fatal("OnClose not called")
	}
}
