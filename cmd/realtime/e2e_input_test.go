package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/tomato-code/realtime/internal/testutil"
)

// TestE2EBadAPIInput sends what a broken or hostile caller would, while a client listens: each
// request gets its clear answer and nothing reaches the client.
func TestE2EBadAPIInput(t *testing.T) {
	testutil.CheckGoroutines(t)
	p := startService(t, "API_MAX_BODY=2048")
	var out struct {
		Answers map[string]apiCall
		Got     [][]any
	}
	p.runJS(t, `
const s = await connect({ token: sign({ _id: 'u1' }) });
const got = record(s);
const emit = (body, opts) => api('/api/v1/internal/emit', body, opts);
const good = { event: 'e', room: 'user:u1', payload: 'leak' };
// Listened for before any request: the event may reach the client before the API's answer.
const fine = next(s, 'fine');
const answers = {
  noKey: await emit(good, { key: '' }),
  wrongKey: await emit(good, { key: 'wrong' }),
  wrongKeyMalformed: await emit('{"event":', { key: 'wrong' }),
  malformed: await emit('{"event":'),
  notObject: await emit('[1,2]'),
  string: await emit('"hello"'),
  noRoom: await emit({ event: 'e', payload: 1 }),
  emptyRooms: await emit({ event: 'e', rooms: [] }),
  emptyRoom: await emit({ event: 'e', room: '' }),
  noEvent: await emit({ room: 'user:u1' }),
  reserved: await emit({ event: 'connect', room: 'user:u1' }),
  reservedBatch: await api('/api/v1/internal/emit/batch', { emits: [good, { event: 'disconnecting', room: 'user:u1' }] }),
  tooLarge: await emit({ event: 'e', room: 'user:u1', payload: 'x'.repeat(3000) }),
  unknownRoute: await api('/api/v1/internal/nope', good),
  wrongMethod: await api('/api/v1/internal/emit', null, { method: 'GET' }),
  emptyJoin: await api('/api/v1/internal/rooms/join', { room: 'user:u1', join: [] }),
  disconnectNoRoom: await api('/api/v1/internal/disconnect', {}),
  socketsNoRoom: await api('/api/v1/internal/sockets', null, { method: 'GET' }),
  unknownFields: await emit({ event: 'fine', room: 'user:u1', priority: 'high', extra: { nested: [1] } }),
};
await fine;
return { answers, got };`, &out)

	want := map[string]string{
		"noKey":             `403 {"message":"Forbidden"}`,
		"wrongKey":          `403 {"message":"Forbidden"}`,
		"wrongKeyMalformed": `403 {"message":"Forbidden"}`,
		"malformed":         `400 {"message":"body must be a JSON object"}`,
		"notObject":         `400 {"message":"body must be a JSON object"}`,
		"string":            `400 {"message":"body must be a JSON object"}`,
		"noRoom":            `400 {"message":"room or rooms is required (a string or an array of strings)"}`,
		"emptyRooms":        `400 {"message":"rooms must not be empty"}`,
		"emptyRoom":         `400 {"message":"room must not be empty"}`,
		"noEvent":           `400 {"message":"event is required"}`,
		"reserved":          `400 {"message":"event \"connect\" is reserved"}`,
		"reservedBatch":     `400 {"message":"emits[1].event \"disconnecting\" is reserved"}`,
		"tooLarge":          `413 {"message":"request body too large: the limit is 2048 bytes"}`,
		"unknownRoute":      `404 {"message":"Not found"}`,
		"wrongMethod":       `405 {"message":"Method not allowed"}`,
		"emptyJoin":         `400 {"message":"join must not be empty"}`,
		"disconnectNoRoom":  `400 {"message":"room or rooms is required (a string or an array of strings)"}`,
		"socketsNoRoom":     `400 {"message":"room is required (query parameter)"}`,
		"unknownFields":     `200 {"success":true}`,
	}
	for name, w := range want {
		a := out.Answers[name]
		if got := fmt.Sprintf("%d %s", a.Status, compact(a.Body)); got != w {
			t.Errorf("%s: %s, want %s", name, got, w)
		}
	}
	// Only the last, valid emit arrived.
	if len(out.Got) != 1 || out.Got[0][0] != "fine" {
		t.Errorf("client received %v, want only the valid emit", out.Got)
	}
}

// TestE2ESplitUTF8 sends an emit whose body is cut inside multi-byte characters, in TCP
// writes made one after the other (Nagle off, each write flushed before the next), and checks
// that the client receives the text intact.
func TestE2ESplitUTF8(t *testing.T) {
	testutil.CheckGoroutines(t)
	p := startService(t)
	var out struct {
		Status string
		Got    []any
	}
	p.runJS(t, `
const net = require('net');
const s = await connect({ token: sign({ _id: 'u1' }) });
const got = next(s, 'utf8');
const body = Buffer.from(JSON.stringify({ event: 'utf8', room: 'user:u1', payload: 'é🍅日本' }));
const u = new globalThis.URL(API);
const status = await new Promise((resolve, reject) => {
  const c = net.connect(Number(u.port), u.hostname);
  c.setNoDelay(true);
  let answer = '';
  c.on('data', (d) => { answer += d; if (answer.includes('\r\n')) { resolve(answer.split('\r\n')[0]); c.destroy(); } });
  c.on('error', reject);
  const head = 'POST /api/v1/internal/emit HTTP/1.1\r\nHost: x\r\nx-internal-key: ' + KEY + '\r\nContent-Length: ' + body.length + '\r\n\r\n';
  // Cut points inside é (2 bytes), 🍅 (4 bytes) and 日 (3 bytes).
  const cuts = [body.indexOf('é') + 1, body.indexOf('🍅') + 2, body.indexOf('日') + 1];
  const pieces = [Buffer.from(head)];
  let from = 0;
  for (const cut of cuts) { pieces.push(body.subarray(from, cut)); from = cut; }
  pieces.push(body.subarray(from));
  const write = (i) => { if (i < pieces.length) c.write(pieces[i], () => write(i + 1)); };
  write(0);
});
return { status, got: await got };`, &out)
	if out.Status != "HTTP/1.1 200 OK" || len(out.Got) != 1 || out.Got[0] != "é🍅日本" {
		t.Fatalf("status %q, received %q", out.Status, out.Got)
	}
}

// TestE2EConfigurationErrors starts the binary with missing or invalid settings: it must stop
// at once with a message naming the setting.
func TestE2EConfigurationErrors(t *testing.T) {
	bin := realtimeBinary(t)
	for _, c := range []struct {
		env  []string
		args []string
		want string
	}{
		{[]string{"INTERNAL_SERVICE_KEY=k"}, nil, "JWT_SECRET is required"},
		{[]string{"JWT_SECRET=s"}, nil, "INTERNAL_SERVICE_KEY is required"},
		{[]string{"JWT_SECRET=s", "INTERNAL_SERVICE_KEY=k", "PORT=http"}, nil, `invalid PORT "http"`},
		{[]string{"JWT_SECRET=s", "INTERNAL_SERVICE_KEY=k"}, []string{"--log-format", "xml"}, `invalid LOG_FORMAT "xml"`},
		{[]string{"JWT_PUBLIC_KEY_FILE=/nonexistent.pem", "INTERNAL_SERVICE_KEY=k"}, nil, "JWT_PUBLIC_KEY_FILE"},
		{[]string{"JWT_SECRET=s", "INTERNAL_SERVICE_KEY=k", "SINGLE_SESSION=maybe"}, nil, `invalid SINGLE_SESSION "maybe"`},
	} {
		cmd := exec.Command(bin, c.args...)
		cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOST=127.0.0.1", "PORT=0"}, c.env...)
		out, err := cmd.CombinedOutput()
		code := -1
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		}
		if code != 2 || !strings.Contains(string(out), c.want) {
			t.Errorf("%v %v: exit %d, output %q; want exit 2 naming %q", c.env, c.args, code, out, c.want)
		}
	}
}

// TestE2EManyConnectsFromOneAddress opens a thousand Socket.IO connections and a thousand bare
// Engine.IO sessions from one address, and closes a burst of raw TCP connections: the service
// keeps serving another client throughout.
func TestE2EManyConnectsFromOneAddress(t *testing.T) {
	testutil.CheckGoroutines(t)
	p := startService(t, "LOG_LEVEL=warn")
	// Raw TCP connections that send half a request and vanish.
	for i := 0; i < 200; i++ {
		c, err := net.Dial("tcp", strings.TrimPrefix(p.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n")
		c.Close()
	}
	var out struct {
		Connected, Health, Bare int
		Got                     []any
	}
	p.runJS(t, `
const token = sign({ _id: 'crowd' });
const crowd = [];
for (let i = 0; i < 10; i++) {
  const batch = [];
  for (let j = 0; j < 100; j++) batch.push(connect({ token }, { transports: ['websocket'] }));
  crowd.push(...await Promise.all(batch));
}
// Engine.IO handshakes that never connect a namespace.
let bare = 0;
await Promise.all(Array.from({ length: 1000 }, async () => {
  const r = await fetch(BASE + '/socket.io/?EIO=4&transport=polling');
  if (r.status === 200) bare++;
  await r.text();
}));
const health = (await (await fetch(BASE + '/health')).json()).activeConnections;
const other = await connect({ token: sign({ _id: 'other' }) });
const got = next(other, 'still');
await api('/api/v1/internal/emit', { event: 'still', room: 'user:other', payload: 'serving' });
return { connected: crowd.filter((s) => s.connected).length, health, bare, got: await got };`, &out)
	if out.Connected != 1000 || out.Health != 1000 || out.Bare != 1000 || len(out.Got) != 1 || out.Got[0] != "serving" {
		t.Fatalf("%+v", out)
	}
	resp, err := http.Get(p.url + "/ready")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("ready: %d", resp.StatusCode)
	}
}
