package load

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/tomato-code/realtime/bench/internal/wsframe"
)

type emitBody struct {
	Event   string          `json:"event"`
	Room    string          `json:"room"`
	Payload json.RawMessage `json:"payload"`
}

// body returns the JSON body of a request and checks its Content-Length.
func body(t *testing.T, req []byte) []byte {
	t.Helper()
	head, b, ok := bytes.Cut(req, []byte("\r\n\r\n"))
	if !ok {
		t.Fatal("no head")
	}
	i := bytes.Index(head, []byte("Content-Length: "))
	n, _ := strconv.Atoi(string(head[i+len("Content-Length: "):]))
	if n != len(b) {
		t.Fatalf("Content-Length %d, body %d bytes", n, len(b))
	}
	return b
}

func checkPayload(t *testing.T, payload []byte, phase int, sent int64) {
	t.Helper()
	ev := append([]byte(`42["bench",`), payload...)
	ev = append(ev, ']')
	p, s, ok := wsframe.Stamp(ev)
	if !ok || p != phase || s != sent {
		t.Fatalf("payload %s: stamp %d %d %v, want %d %d", payload, p, s, ok, phase, sent)
	}
}

func TestSingleEmitPatch(t *testing.T) {
	req := singleEmit("127.0.0.1:3000", "key", "bench", "u", true, "", 0, 10).clone()
	setPhase(req, 7)
	req.patch(1732568000123456, func() int { return 42 })
	var e emitBody
	if err := json.Unmarshal(body(t, req.b), &e); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, req.b)
	}
	if e.Event != "bench" || e.Room != "user:u0000042" {
		t.Fatalf("event %q room %q", e.Event, e.Room)
	}
	checkPayload(t, e.Payload, 7, 1732568000123456)
	if !bytes.Contains(e.Payload, []byte(`"pad":"xxxxxxxxxx"`)) {
		t.Fatalf("padding missing: %s", e.Payload)
	}
	for _, h := range []string{"POST /api/v1/internal/emit HTTP/1.1\r\n", "Host: 127.0.0.1:3000\r\n", "X-Internal-Key: key\r\n"} {
		if !bytes.Contains(req.b, []byte(h)) {
			t.Fatalf("request lacks %q", h)
		}
	}
	// The template itself is untouched by patching a clone.
	tmpl := singleEmit("127.0.0.1:3000", "key", "bench", "u", true, "", 0, 10)
	c := tmpl.clone()
	c.patch(1, func() int { return 1 })
	if bytes.Equal(c.b, tmpl.b) {
		t.Fatal("clone shares bytes with the template")
	}
}

func TestFanoutEmit(t *testing.T) {
	req := singleEmit("h:1", "k", `ev"x`, "", false, "restaurant:r1", 0, 0).clone()
	setPhase(req, 3)
	req.patch(1732568000000001, func() int { t.Fatal("fan-out emit picked a user"); return 0 })
	var e emitBody
	if err := json.Unmarshal(body(t, req.b), &e); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if e.Event != `ev"x` || e.Room != "restaurant:r1" {
		t.Fatalf("event %q room %q", e.Event, e.Room)
	}
	checkPayload(t, e.Payload, 3, 1732568000000001)
}

func TestBatchEmit(t *testing.T) {
	req := batchEmit("h:1", "k", "bench", "u", 5, 0, 0).clone()
	setPhase(req, 4)
	next := 100
	req.patch(1732568000000002, func() int { next++; return next })
	if !bytes.HasPrefix(req.b, []byte("POST /api/v1/internal/emit/batch ")) {
		t.Fatalf("request line: %.40s", req.b)
	}
	var b struct{ Emits []emitBody }
	if err := json.Unmarshal(body(t, req.b), &b); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if len(b.Emits) != 5 {
		t.Fatalf("%d emits", len(b.Emits))
	}
	for i, e := range b.Emits {
		if want := fmt.Sprintf("user:u%07d", 101+i); e.Room != want {
			t.Fatalf("emit %d room %q, want %q", i, e.Room, want)
		}
		checkPayload(t, e.Payload, 4, 1732568000000002)
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:3000", "http://localhost:80", "http://127.9.9.9:1"} {
		if _, err := loopbackAddr(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://10.0.0.1:3000", "http://example.com:80", "https://127.0.0.1:3000", "http://[::1]:3000", "127.0.0.1:3000", "http://127.0.0.1"} {
		if _, err := loopbackAddr(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
