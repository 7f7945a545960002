package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
)

const key = "test-key"

// call is one Hub operation as the recorder saw it.
type call struct {
	op       string
	target   Target
	event    string
	args     []string
	volatile bool
	timeout  time.Duration
	rooms    []string
	close    bool
}

// recorder is a Hub that records every call and answers as told.
type recorder struct {
	mu      sync.Mutex
	calls   []call
	err     error
	ack     AckResult
	sockets []SocketInfo
}

func (r *recorder) add(c call) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	return r.err
}

func (r *recorder) all() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

func strs(args []json.RawMessage) []string {
	var out []string
	for _, a := range args {
		out = append(out, string(a))
	}
	return out
}

func (r *recorder) Emit(_ context.Context, t Target, event string, args []json.RawMessage, volatile bool) error {
	return r.add(call{op: "emit", target: t, event: event, args: strs(args), volatile: volatile})
}

func (r *recorder) EmitWithAck(_ context.Context, t Target, event string, args []json.RawMessage, volatile bool, timeout time.Duration, done func(AckResult)) error {
	if err := r.add(call{op: "emitAck", target: t, event: event, args: strs(args), volatile: volatile, timeout: timeout}); err != nil {
		return err
	}
	r.mu.Lock()
	res := r.ack
	r.mu.Unlock()
	go done(res)
	return nil
}

func (r *recorder) Join(_ context.Context, t Target, rooms []string) error {
	return r.add(call{op: "join", target: t, rooms: rooms})
}

func (r *recorder) Leave(_ context.Context, t Target, rooms []string) error {
	return r.add(call{op: "leave", target: t, rooms: rooms})
}

func (r *recorder) Disconnect(_ context.Context, t Target, close bool) error {
	return r.add(call{op: "disconnect", target: t, close: close})
}

func (r *recorder) Sockets(_ context.Context, t Target) ([]SocketInfo, error) {
	err := r.add(call{op: "sockets", target: t})
	return r.sockets, err
}

type observed struct {
	route  string
	status int
}

type fixture struct {
	hub      *recorder
	srv      *httptest.Server
	mu       sync.Mutex
	observed []observed
	emits    map[string]int
}

func newFixture(t *testing.T, maxBody int64) *fixture {
	t.Helper()
	return newFixtureTimeout(t, maxBody, 0)
}

func newFixtureTimeout(t *testing.T, maxBody int64, bodyTimeout time.Duration) *fixture {
	t.Helper()
	testutil.CheckGoroutines(t)
	f := &fixture{hub: &recorder{}, emits: map[string]int{}}
	h := New(Config{
		Hub:         f.hub,
		Key:         key,
		Namespaces:  []string{"/orders"},
		MaxBody:     maxBody,
		BodyTimeout: bodyTimeout,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Observe: func(route string, status int, _ time.Duration) {
			f.mu.Lock()
			f.observed = append(f.observed, observed{route, status})
			f.mu.Unlock()
		},
		ObserveEmits: func(route string, n int) {
			f.mu.Lock()
			f.emits[route] += n
			f.mu.Unlock()
		},
	})
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

// do sends a request and returns the status and the decoded JSON answer.
func (f *fixture) do(t *testing.T, method, path, k, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if k != "" {
		req.Header.Set(KeyHeader, k)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: content type %q", method, path, ct)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s %s: answer %q is not a JSON object", method, path, data)
	}
	return resp.StatusCode, out
}

func (f *fixture) post(t *testing.T, path, body string) (int, map[string]any) {
	t.Helper()
	return f.do(t, http.MethodPost, path, key, body)
}

func TestKeyIsCheckedFirst(t *testing.T) {
	f := newFixture(t, 0)
	for _, k := range []string{"", "wrong", key + "x", strings.ToUpper(key), key[:4]} {
		for _, c := range []struct{ method, path, body string }{
			{"POST", RouteEmit, `{"event":"e","room":"r"}`},
			{"POST", RouteEmit, `{not json`},
			{"POST", RouteEmitBatch, `[`},
			{"POST", RouteRoomsJoin, ``},
			{"POST", RouteDisconnect, `{"room":"r"}`},
			{"GET", RouteSockets + "?room=r", ``},
			{"GET", RouteEmit, ``},
			{"POST", Prefix + "nope", `{}`},
		} {
			status, body := f.do(t, c.method, c.path, k, c.body)
			if status != 403 || body["message"] != "Forbidden" || len(body) != 1 {
				t.Errorf("key %q %s %s: %d %v, want 403 Forbidden", k, c.method, c.path, status, body)
			}
		}
	}
	if calls := f.hub.all(); len(calls) != 0 {
		t.Fatalf("a request without the key reached the hub: %+v", calls)
	}
}

func TestKeyIsCheckedBeforeTheBodyIsRead(t *testing.T) {
	f := newFixture(t, 0)
	// A body far over the limit, announced but never sent: the answer must come without it.
	conn, err := net.Dial("tcp", f.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\nx-internal-key: nope\r\n\r\n{", RouteEmit)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("status %d, want 403", resp.StatusCode)
	}
	// A small announced body that never comes: net/http would wait for it before answering
	// unless the handler says the connection is done.
	for _, path := range []string{RouteEmit, Prefix + "nope"} {
		small, err := net.Dial("tcp", f.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer small.Close()
		fmt.Fprintf(small, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nx-internal-key: nope\r\n\r\n{", path)
		resp, err = http.ReadResponse(bufio.NewReader(small), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Fatalf("%s: status %d, want 403", path, resp.StatusCode)
		}
	}
}

func TestRoutingErrors(t *testing.T) {
	f := newFixture(t, 0)
	status, body := f.do(t, "GET", Prefix+"unknown", key, "")
	if status != 404 || body["message"] != "Not found" {
		t.Errorf("unknown route: %d %v", status, body)
	}
	for _, c := range []struct{ method, path, allow string }{
		{"GET", RouteEmit, "POST"}, {"PUT", RouteEmitBatch, "POST"}, {"DELETE", RouteRoomsJoin, "POST"},
		{"GET", RouteRoomsLeave, "POST"}, {"GET", RouteDisconnect, "POST"}, {"POST", RouteSockets, "GET"},
	} {
		req, _ := http.NewRequest(c.method, f.srv.URL+c.path, nil)
		req.Header.Set(KeyHeader, key)
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d allow %q", c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.observed) != 7 || f.observed[0] != (observed{"unknown", 404}) || f.observed[1] != (observed{RouteEmit, 405}) {
		t.Errorf("observed %+v", f.observed)
	}
}

func TestEmit(t *testing.T) {
	f := newFixture(t, 0)
	cases := []struct {
		body string
		want call
	}{
		{`{"event":"order:update","room":"user:1","payload":{"id":1,"name":"ü 🍅","n":1.50}}`,
			call{op: "emit", event: "order:update", target: Target{Namespace: "/", Rooms: []string{"user:1"}}, args: []string{`{"id":1,"name":"ü 🍅","n":1.50}`}}},
		{`{"event":"e","rooms":["a","b","a"],"except":"c","namespace":"/orders","volatile":true,"payload":null}`,
			call{op: "emit", event: "e", target: Target{Namespace: "/orders", Rooms: []string{"a", "b"}, Except: []string{"c"}}, args: []string{"null"}, volatile: true}},
		{`{"event":"e","room":"a","rooms":["b"],"except":["c","d"],"unknown":{"x":[1]},"volatile":false}`,
			call{op: "emit", event: "e", target: Target{Namespace: "/", Rooms: []string{"a", "b"}, Except: []string{"c", "d"}}}},
		{`{"event":"e","rooms":"single","payload":[1,"two"]}`,
			call{op: "emit", event: "e", target: Target{Namespace: "/", Rooms: []string{"single"}}, args: []string{`[1,"two"]`}}},
		// Single names in several members: each keeps its own.
		{`{"event":"e","room":"a","rooms":"b","except":"c"}`,
			call{op: "emit", event: "e", target: Target{Namespace: "/", Rooms: []string{"a", "b"}, Except: []string{"c"}}}},
		{`{"event":"e","room":"a","except":"b"}`,
			call{op: "emit", event: "e", target: Target{Namespace: "/", Rooms: []string{"a"}, Except: []string{"b"}}}},
	}
	for _, c := range cases {
		f.hub.mu.Lock()
		f.hub.calls = nil
		f.hub.mu.Unlock()
		status, body := f.post(t, RouteEmit, c.body)
		if status != 200 || body["success"] != true || len(body) != 1 {
			t.Errorf("%s: %d %v", c.body, status, body)
			continue
		}
		calls := f.hub.all()
		if len(calls) != 1 || fmt.Sprint(calls[0]) != fmt.Sprint(c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.body, calls, c.want)
		}
	}
}

func TestEmitBadRequests(t *testing.T) {
	f := newFixture(t, 0)
	cases := map[string]string{
		``:                                  "body must be a JSON object",
		`{`:                                 "body must be a JSON object",
		`[]`:                                "body must be a JSON object",
		`"x"`:                               "body must be a JSON object",
		`null`:                              "body must be a JSON object",
		`{"event":"e","room":"r"} trailing`: "body must be a JSON object",
		`{"room":"r"}`:                      "event is required",
		`{"event":null,"room":"r"}`:         "event is required",
		`{"event":1,"room":"r"}`:            "event must be a string",
		`{"event":"","room":"r"}`:           "event must not be empty",
		`{"event":"e"}`:                     "room or rooms is required",
		`{"event":"e","rooms":[]}`:          "rooms must not be empty",
		`{"event":"e","room":[]}`:           "room must not be empty",
		`{"event":"e","room":""}`:           "room must not be empty",
		`{"event":"e","rooms":["a",""]}`:    "rooms[1] must be a non-empty string",
		`{"event":"e","rooms":["a",3]}`:     "rooms[1] must be a non-empty string",
		`{"event":"e","rooms":{"a":1}}`:     "rooms must be a string or an array of strings",
		`{"event":"e","room":"r","namespace":"/nope"}`:          `namespace "/nope" is not served`,
		`{"event":"e","room":"r","namespace":5}`:                "namespace must be a string",
		`{"event":"e","room":"r","volatile":"yes"}`:             "volatile must be true or false",
		`{"event":"e","room":"r","except":[1]}`:                 "except[0] must be a non-empty string",
		`{"event":"e","room":"r","ack":5}`:                      "ack must be an object",
		`{"event":"e","room":"r","ack":{}}`:                     "ack must be an object",
		`{"event":"e","room":"r","ack":{"timeoutMs":0}}`:        "ack.timeoutMs must be an integer between 1 and 60000",
		`{"event":"e","room":"r","ack":{"timeoutMs":60001}}`:    "ack.timeoutMs must be an integer",
		`{"event":"e","room":"r","ack":{"timeoutMs":1.5}}`:      "ack.timeoutMs must be an integer",
		`{"event":"e","room":"r","ack":{"timeoutMs":"100"}}`:    "ack.timeoutMs must be an integer",
		"{\"event\":\"e\",\"room\":\"r\",\"payload\":\"\xff\"}": "body is not valid UTF-8",
	}
	for _, ev := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		cases[`{"event":"`+ev+`","room":"r"}`] = `event "` + ev + `" is reserved`
	}
	for body, want := range cases {
		status, got := f.post(t, RouteEmit, body)
		msg, _ := got["message"].(string)
		if status != 400 || !strings.HasPrefix(msg, want) {
			t.Errorf("%q: %d %q, want 400 %q", body, status, msg, want)
		}
	}
	if calls := f.hub.all(); len(calls) != 0 {
		t.Fatalf("bad requests reached the hub: %+v", calls)
	}
}

func TestBodyLimit(t *testing.T) {
	f := newFixture(t, 100)
	big := `{"event":"e","room":"r","payload":"` + strings.Repeat("x", 100) + `"}`
	status, body := f.post(t, RouteEmit, big)
	if status != 413 || !strings.Contains(body["message"].(string), "100 bytes") {
		t.Errorf("over the limit: %d %v", status, body)
	}
	// Chunked, so that the server learns the size only by reading.
	req, _ := http.NewRequest("POST", f.srv.URL+RouteEmit, io.MultiReader(strings.NewReader(big)))
	req.Header.Set(KeyHeader, key)
	req.ContentLength = -1
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("chunked over the limit: %d", resp.StatusCode)
	}
	if status, _ := f.post(t, RouteEmit, `{"event":"e","room":"r","payload":"`+strings.Repeat("x", 60)+`"}`); status != 200 {
		t.Errorf("under the limit: %d", status)
	}
	if n := len(f.hub.all()); n != 1 {
		t.Errorf("%d emits, want 1", n)
	}
}

// TestSplitUTF8 sends a body whose multi-byte characters are cut between two HTTP chunks, each
// written and flushed on its own, so that the server's reads see the halves separately.
func TestSplitUTF8(t *testing.T) {
	f := newFixture(t, 0)
	payload := "é🍅"
	body := []byte(`{"event":"e","room":"r","payload":"` + payload + `"}`)
	cut := strings.Index(string(body), "🍅") + 2 // inside the 4-byte tomato
	conn, err := net.Dial("tcp", f.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nx-internal-key: %s\r\n\r\n", RouteEmit, key)
	fmt.Fprintf(conn, "%x\r\n%s\r\n", cut, body[:cut])
	fmt.Fprintf(conn, "%x\r\n%s\r\n0\r\n\r\n", len(body)-cut, body[cut:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	calls := f.hub.all()
	if len(calls) != 1 || calls[0].args[0] != `"`+payload+`"` {
		t.Fatalf("payload arrived as %+v", calls)
	}
}

// TestSlowBody: a body that stops arriving gets an answer once the body timeout passes.
func TestSlowBody(t *testing.T) {
	f := newFixtureTimeout(t, 0, 200*time.Millisecond)
	conn, err := net.Dial("tcp", f.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nx-internal-key: %s\r\n\r\n{\"event\"", RouteEmit, key)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
	if n := len(f.hub.all()); n != 0 {
		t.Fatalf("%d hub calls", n)
	}
}

func TestEmitWithAck(t *testing.T) {
	f := newFixture(t, 0)
	f.hub.ack = AckResult{Responses: []json.RawMessage{json.RawMessage(`{"ok":true}`), json.RawMessage(`"yes"`)}, TimedOut: true}
	status, body := f.post(t, RouteEmit, `{"event":"ask","room":"user:1","payload":1,"ack":{"timeoutMs":250}}`)
	if status != 200 || body["success"] != true || body["timedOut"] != true || fmt.Sprint(body["responses"]) != "[map[ok:true] yes]" {
		t.Fatalf("ack answer: %d %v", status, body)
	}
	calls := f.hub.all()
	if len(calls) != 1 || calls[0].op != "emitAck" || calls[0].timeout != 250*time.Millisecond {
		t.Fatalf("calls %+v", calls)
	}
	f.hub.ack = AckResult{}
	_, body = f.post(t, RouteEmit, `{"event":"ask","room":"user:1","ack":{"timeoutMs":10}}`)
	if r, ok := body["responses"].([]any); !ok || len(r) != 0 || body["timedOut"] != false {
		t.Fatalf("no answers must still list responses: %v", body)
	}
}

func TestHubErrors(t *testing.T) {
	f := newFixture(t, 0)
	f.hub.err = errors.New("adapter down")
	status, body := f.post(t, RouteEmit, `{"event":"e","room":"r"}`)
	if status != 500 || body["message"] != "adapter down" {
		t.Errorf("emit error: %d %v", status, body)
	}
	f.hub.err = fmt.Errorf("fetch: %w", context.DeadlineExceeded)
	status, body = f.do(t, "GET", RouteSockets+"?room=r", key, "")
	if status != 504 {
		t.Errorf("timeout: %d %v", status, body)
	}
	f.hub.err = errors.New("boom")
	status, body = f.post(t, RouteRoomsJoin, `{"room":"r","join":"x"}`)
	if status != 500 || body["message"] != "internal error" {
		t.Errorf("join error: %d %v", status, body)
	}
}

func TestBatch(t *testing.T) {
	f := newFixture(t, 0)
	f.hub.ack = AckResult{Responses: []json.RawMessage{json.RawMessage(`1`)}}
	status, body := f.post(t, RouteEmitBatch, `{"emits":[
		{"event":"a","room":"r1","payload":1},
		{"event":"b","rooms":["r2"],"ack":{"timeoutMs":100}},
		{"event":"c","room":"r3","namespace":"/orders","volatile":true}]}`)
	if status != 200 || body["success"] != true {
		t.Fatalf("batch: %d %v", status, body)
	}
	results, _ := body["results"].([]any)
	if len(results) != 3 || fmt.Sprint(results[0]) != "map[success:true]" ||
		fmt.Sprint(results[1]) != "map[responses:[1] success:true timedOut:false]" || fmt.Sprint(results[2]) != "map[success:true]" {
		t.Fatalf("results %v", results)
	}
	calls := f.hub.all()
	if len(calls) != 3 || calls[0].event != "a" || calls[1].event != "b" || calls[1].op != "emitAck" || calls[2].event != "c" ||
		calls[2].target.Namespace != "/orders" || !calls[2].volatile {
		t.Fatalf("calls out of order or wrong: %+v", calls)
	}
	// Each entry keeps its own room and payload, though all are parsed before any is sent.
	if got := fmt.Sprint(calls[0].target.Rooms, calls[0].args, calls[1].target.Rooms, calls[1].args, calls[2].target.Rooms, calls[2].args); got != "[r1] [1] [r2] [] [r3] []" {
		t.Fatalf("rooms and payloads of the entries: %s", got)
	}

	bad := map[string]string{
		`{}`:           "emits must be an array",
		`{"emits":{}}`: "emits must be an array",
		`{"emits":[]}`: "emits must not be empty",
		`{"emits":[{"event":"a","room":"r"},{"room":"r"}]}`:                                                 "emits[1].event is required",
		`{"emits":[{"event":"a","room":"r"},5]}`:                                                            "emits[1] must be a JSON object",
		`{"emits":[{"event":"a","rooms":[]}]}`:                                                              "emits[0].rooms must not be empty",
		`{"emits":[{"event":"disconnect","room":"r"}]}`:                                                     `emits[0].event "disconnect" is reserved`,
		`{"emits":[{"event":"a","room":"r","ack":{"timeoutMs":0}}]}`:                                        "emits[0].ack.timeoutMs",
		`{"emits":[` + strings.Repeat(`{"event":"a","room":"r"},`, MaxBatch) + `{"event":"a","room":"r"}]}`: "emits holds 1001 entries",
	}
	for b, want := range bad {
		status, got := f.post(t, RouteEmitBatch, b)
		if msg, _ := got["message"].(string); status != 400 || !strings.HasPrefix(msg, want) {
			t.Errorf("%.60s: %d %q, want %q", b, status, msg, want)
		}
	}
	if n := len(f.hub.all()); n != 3 {
		t.Fatalf("a refused batch delivered something: %d calls", n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.emits[RouteEmitBatch] != 3 || f.emits[RouteEmit] != 0 {
		t.Fatalf("observed emits %v", f.emits)
	}
}

func TestBatchReportsFailedEntries(t *testing.T) {
	f := newFixture(t, 0)
	f.hub.err = errors.New("nope")
	status, body := f.post(t, RouteEmitBatch, `{"emits":[{"event":"a","room":"r"}]}`)
	results, _ := body["results"].([]any)
	if status != 200 || body["success"] != false || len(results) != 1 || fmt.Sprint(results[0]) != "map[message:nope success:false]" {
		t.Fatalf("%d %v", status, body)
	}
}

func TestRoomsJoinLeave(t *testing.T) {
	f := newFixture(t, 0)
	if status, body := f.post(t, RouteRoomsJoin, `{"room":"user:1","join":"order:7"}`); status != 200 || body["success"] != true {
		t.Fatalf("join: %d %v", status, body)
	}
	if status, _ := f.post(t, RouteRoomsLeave, `{"rooms":["user:1","user:2"],"leave":["order:7","order:8"],"namespace":"/orders","except":"user:3"}`); status != 200 {
		t.Fatalf("leave: %d", status)
	}
	calls := f.hub.all()
	want := []call{
		{op: "join", target: Target{Namespace: "/", Rooms: []string{"user:1"}}, rooms: []string{"order:7"}},
		{op: "leave", target: Target{Namespace: "/orders", Rooms: []string{"user:1", "user:2"}, Except: []string{"user:3"}}, rooms: []string{"order:7", "order:8"}},
	}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Fatalf("calls\n%+v\nwant\n%+v", calls, want)
	}
	for path, cases := range map[string]map[string]string{
		RouteRoomsJoin: {
			`{"join":"x"}`:              "room or rooms is required",
			`{"room":"r"}`:              "join is required",
			`{"room":"r","join":[]}`:    "join must not be empty",
			`{"room":"r","join":[""]}`:  "join[0] must be a non-empty string",
			`{"room":"r","join":false}`: "join must be a string or an array",
		},
		RouteRoomsLeave: {
			`{"rooms":[],"leave":"x"}`: "rooms must not be empty",
			`{"room":"r","leave":""}`:  "leave must not be empty",
			`{"room":"r","join":"x"}`:  "leave is required",
		},
	} {
		for b, want := range cases {
			status, got := f.post(t, path, b)
			if msg, _ := got["message"].(string); status != 400 || !strings.HasPrefix(msg, want) {
				t.Errorf("%s %s: %d %q, want %q", path, b, status, msg, want)
			}
		}
	}
}

func TestDisconnect(t *testing.T) {
	f := newFixture(t, 0)
	f.post(t, RouteDisconnect, `{"room":"user:1"}`)
	f.post(t, RouteDisconnect, `{"rooms":["user:2"],"close":true}`)
	calls := f.hub.all()
	if len(calls) != 2 || calls[0].close || !calls[1].close || calls[1].target.Rooms[0] != "user:2" {
		t.Fatalf("calls %+v", calls)
	}
	for b, want := range map[string]string{
		`{}`:                        "room or rooms is required",
		`{"rooms":[]}`:              "rooms must not be empty",
		`{"room":"r","close":"no"}`: "close must be true or false",
	} {
		status, got := f.post(t, RouteDisconnect, b)
		if msg, _ := got["message"].(string); status != 400 || !strings.HasPrefix(msg, want) {
			t.Errorf("%s: %d %q", b, status, msg)
		}
	}
}

func TestSockets(t *testing.T) {
	f := newFixture(t, 0)
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.hub.sockets = []SocketInfo{{ID: "s1", UserID: "u1", Rooms: []string{"s1", "user:u1"}, Transport: "websocket", ConnectedAt: since}}
	status, body := f.do(t, "GET", RouteSockets+"?room=user:u1&namespace=/orders", key, "")
	if status != 200 || fmt.Sprint(body["sockets"]) != "[map[connectedAt:2026-01-02T03:04:05Z id:s1 rooms:[s1 user:u1] transport:websocket userId:u1]]" {
		t.Fatalf("%d %v", status, body)
	}
	calls := f.hub.all()
	if len(calls) != 1 || calls[0].target.Namespace != "/orders" || calls[0].target.Rooms[0] != "user:u1" {
		t.Fatalf("calls %+v", calls)
	}
	f.hub.sockets = nil
	if _, body := f.do(t, "GET", RouteSockets+"?room=a&room=b", key, ""); fmt.Sprint(body["sockets"]) != "[]" {
		t.Errorf("empty list: %v", body)
	}
	for q, want := range map[string]string{"": "room is required", "?room=": "room is required", "?room=r&namespace=/x": `namespace "/x" is not served`} {
		status, got := f.do(t, "GET", RouteSockets+q, key, "")
		if msg, _ := got["message"].(string); status != 400 || !strings.HasPrefix(msg, want) {
			t.Errorf("%q: %d %q", q, status, msg)
		}
	}
}

func FuzzParseEmit(f *testing.F) {
	h := New(Config{Hub: &recorder{}, Key: "k", Namespaces: []string{"/a"}})
	f.Add([]byte(`{"event":"e","room":"r","payload":{"a":1},"ack":{"timeoutMs":5}}`))
	f.Add([]byte(`{"event":"e","rooms":["a","b"],"except":"c","namespace":"/a","volatile":true}`))
	f.Add([]byte(`{"emits":[{"event":"e","room":"r"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var o object
		if err := o.parse(data, "", -1); err != nil {
			return
		}
		e, err := h.parseEmit(&o, new(emitSlots))
		if err != nil {
			var he *httpError
			if !errors.As(err, &he) || he.status != 400 {
				t.Fatalf("error %v is not a 400", err)
			}
			return
		}
		if len(e.target.Rooms) == 0 || e.event == "" || ReservedEvents[e.event] {
			t.Fatalf("accepted %q as %+v", data, e)
		}
	})
}

// TestDateHeader: the API sets the Date header itself, from a value kept for the current
// second; it must still be a valid HTTP date of the time of the answer.
func TestDateHeader(t *testing.T) {
	f := newFixture(t, 0)
	for range 3 {
		before := time.Now().Truncate(time.Second)
		req, _ := http.NewRequest("POST", f.srv.URL+RouteEmit, strings.NewReader(`{"event":"e","room":"r"}`))
		req.Header.Set(KeyHeader, key)
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		after := time.Now()
		dates := resp.Header.Values("Date")
		if len(dates) != 1 {
			t.Fatalf("Date headers %q, want one", dates)
		}
		at, err := http.ParseTime(dates[0])
		if err != nil || !strings.HasSuffix(dates[0], " GMT") {
			t.Fatalf("Date %q is not an HTTP date: %v", dates[0], err)
		}
		if at.Before(before) || at.After(after) {
			t.Fatalf("Date %v is not between %v and %v", at, before, after)
		}
	}
}

// TestCallLogLine: each request writes one "api call" line with what it recorded, and a
// handler that reports sources gets the API's own code as the source, as Logger.LogAttrs
// would give it. Two requests, so that the second one's line uses what the first found.
func TestCallLogLine(t *testing.T) {
	testutil.CheckGoroutines(t)
	var logs testutil.LogBuffer
	h := New(Config{Hub: &recorder{}, Key: key, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{AddSource: true, Level: slog.LevelDebug}))})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for i, room := range []string{"user:1", "user:2"} {
		req, _ := http.NewRequest("POST", srv.URL+RouteEmit, strings.NewReader(`{"event":"order:update","room":"`+room+`","except":"x"}`))
		req.Header.Set(KeyHeader, key)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		line := logs.WaitLine(t, `"rooms":"`+room+`"`, 5*time.Second)
		var got struct {
			Level, Msg, Method, Path, Remote, Event, Namespace, Rooms, Except string
			Status                                                            int
			Elapsed                                                           *int64
			Source                                                            struct{ Function, File string }
		}
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if got.Level != "DEBUG" || got.Msg != "api call" || got.Method != "POST" || got.Path != RouteEmit || got.Status != 200 ||
			got.Elapsed == nil || got.Remote == "" || got.Event != "order:update" || got.Namespace != "/" || got.Except != "x" {
			t.Errorf("line %d: %s", i, line)
		}
		if !strings.HasSuffix(got.Source.Function, "api.(*Handler).ServeHTTP") || !strings.HasSuffix(got.Source.File, "/service/api/api.go") {
			t.Errorf("line %d: source %+v, want the API's ServeHTTP", i, got.Source)
		}
	}
	if n := logs.Count(`"msg":"api call"`); n != 2 {
		t.Errorf("%d api call lines, want 2:\n%s", n, logs.String())
	}
}

// TestCallLogLineText: the text line has its attributes in the order it always had, whether
// the method and path come with the route (a request of the route's method) or with the
// request (another method, an unknown path).
func TestCallLogLineText(t *testing.T) {
	testutil.CheckGoroutines(t)
	var logs testutil.LogBuffer
	h := New(Config{Hub: &recorder{}, Key: key, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	srv := httptest.NewServer(h)
	defer srv.Close()
	cases := []struct {
		method, path, body string
		status             int
		want               *regexp.Regexp
	}{
		{"POST", RouteEmit, `{"event":"e","room":"r","except":["x","y"]}`, 200,
			regexp.MustCompile(`^time=\S+ level=DEBUG msg="api call" method=POST path=/api/v1/internal/emit status=200 elapsed=\S+ remote=127\.0\.0\.1:\d+ event=e namespace=/ rooms=r except=x,y$`)},
		{"GET", RouteEmit, "", 405,
			regexp.MustCompile(`^time=\S+ level=WARN msg="api call" method=GET path=/api/v1/internal/emit status=405 elapsed=\S+ remote=127\.0\.0\.1:\d+$`)},
		{"POST", Prefix + "nope", "", 404,
			regexp.MustCompile(`^time=\S+ level=WARN msg="api call" method=POST path=/api/v1/internal/nope status=404 elapsed=\S+ remote=127\.0\.0\.1:\d+$`)},
		{"POST", RouteEmit, `{"room":"r"}`, 400,
			regexp.MustCompile(`^time=\S+ level=WARN msg="api call" method=POST path=/api/v1/internal/emit status=400 elapsed=\S+ remote=127\.0\.0\.1:\d+ error="event is required"$`)},
	}
	for i, c := range cases {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
		req.Header.Set(KeyHeader, key)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Fatalf("%s %s: status %d, want %d", c.method, c.path, resp.StatusCode, c.status)
		}
		logs.WaitLine(t, "status="+strconv.Itoa(c.status), 5*time.Second)
		lines := strings.Split(strings.TrimSuffix(logs.String(), "\n"), "\n")
		if len(lines) != i+1 || !c.want.MatchString(lines[i]) {
			t.Errorf("%s %s: line %q, want %v", c.method, c.path, lines[len(lines)-1], c.want)
		}
	}
}

// TestCallLogLineLevels: at the info level a call that worked writes no line, one refused
// writes a warning; the calls go one after the other, so the warning's line arriving first
// proves the success wrote nothing.
func TestCallLogLineLevels(t *testing.T) {
	testutil.CheckGoroutines(t)
	var logs testutil.LogBuffer
	h := New(Config{Hub: &recorder{}, Key: key, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, c := range []struct {
		key    string
		status int
	}{{key, 200}, {"wrong", 403}} {
		req, _ := http.NewRequest("POST", srv.URL+RouteEmit, strings.NewReader(`{"event":"e","room":"r"}`))
		req.Header.Set(KeyHeader, c.key)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Fatalf("key %q: status %d, want %d", c.key, resp.StatusCode, c.status)
		}
	}
	logs.WaitLine(t, "status=403", 5*time.Second)
	if got := logs.String(); logs.Count(`msg="api call"`) != 1 || !strings.Contains(got, "level=WARN") {
		t.Errorf("want one warning for the refused call and nothing for the other:\n%s", got)
	}
}
