package engineio

import (
	"net/http"
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
	resp, err := http.Get(hs.URL + "/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	buf := make([]byte, 512)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	recs := strings.Split(b.String(), "\x1e")
	if len(recs) != 3 || !strings.HasPrefix(recs[0], "0{") || recs[1] != "4welcome" || recs[2] != "1" {
		t.Errorf("handshake response %q", b.String())
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
