package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
)

// The end-to-end tests run the real binary, built once per test run, as a child process and
// drive it with the official socket.io-client in Node.js and with plain HTTP.

var (
	buildOnce sync.Once
	buildDir  string
	binary    string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// realtimeBinary builds ./cmd/realtime with `go build` once and returns its path.
func realtimeBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "realtime-e2e-"); buildErr != nil {
			return
		}
		binary = filepath.Join(buildDir, "realtime")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

const (
	testSecret = "e2e-secret-0123456789abcdef0123456789"
	testKey    = "e2e-internal-key"
)

// proc is one running service.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string // Socket.IO, health, metrics
	apiURL string // the internal API (url unless INTERNAL_ADDR)
	key    string
	secret string

	mu    sync.Mutex
	cond  *sync.Cond
	logs  []map[string]any
	other []string // stderr lines that are not JSON, and stdout lines
	done  chan struct{}
	err   error
}

// startService runs the binary with a test configuration (loopback, a free port, JSON logs at
// debug level) plus env, and returns once it printed its "listening on" line.
func startService(t *testing.T, env ...string) *proc {
	t.Helper()
	return startServiceArgs(t, nil, env...)
}

// startServiceArgs is startService with command line arguments after "serve".
func startServiceArgs(t *testing.T, args []string, env ...string) *proc {
	t.Helper()
	bin := realtimeBinary(t)
	p := &proc{t: t, key: testKey, secret: testSecret, done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	p.cmd = exec.Command(bin, append([]string{"serve"}, args...)...)
	p.cmd.Env = append(os.Environ(),
		"HOST=127.0.0.1", "PORT=0", "JWT_SECRET="+testSecret, "INTERNAL_SERVICE_KEY="+testKey,
		"LOG_FORMAT=json", "LOG_LEVEL=debug", "FRONTEND_URL=", "REDIS_URL=", "NAMESPACES=", "SINGLE_SESSION=",
		"INTERNAL_ADDR=", "DRAIN_DURATION=1s")
	p.cmd.Env = append(p.cmd.Env, env...)
	stdout, _ := p.cmd.StdoutPipe()
	stderr, _ := p.cmd.StderrPipe()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			if addr, ok := strings.CutPrefix(line, "internal API listening on "); ok {
				p.apiURL = "http://" + addr
			} else if port, ok := strings.CutPrefix(line, "listening on "); ok {
				p.url = "http://127.0.0.1:" + port
				if p.apiURL == "" {
					p.apiURL = p.url
				}
				close(ready)
			}
			p.other = append(p.other, line)
			p.cond.Broadcast()
			p.mu.Unlock()
		}
	}()
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<16), 1<<22)
		for sc.Scan() {
			var m map[string]any
			p.mu.Lock()
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				p.logs = append(p.logs, m)
			} else {
				p.other = append(p.other, sc.Text())
			}
			p.cond.Broadcast()
			p.mu.Unlock()
		}
	}()
	go func() {
		wg.Wait()
		p.err = p.cmd.Wait()
		close(p.done)
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(15 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
		if t.Failed() {
			t.Logf("service output:\n%s", p.output())
		}
	})
	select {
	case <-ready:
	case <-p.done:
		t.Fatalf("service exited before it was ready: %v\n%s", p.err, p.output())
	case <-time.After(20 * time.Second):
		t.Fatalf("service not ready after 20s\n%s", p.output())
	}
	return p
}

// output returns everything the service printed, for failure messages.
func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, l := range p.other {
		b.WriteString(l + "\n")
	}
	for _, m := range p.logs {
		j, _ := json.Marshal(m)
		b.Write(append(j, '\n'))
	}
	return b.String()
}

// waitLog waits until a log line matching all of want (key -> value, compared as text) has
// been written, and returns it.
func (p *proc) waitLog(want map[string]string) map[string]any {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	timer := time.AfterFunc(10*time.Second, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := 0; ; {
		for ; i < len(p.logs); i++ {
			if logMatches(p.logs[i], want) {
				return p.logs[i]
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no log line with %v", want)
		}
		select {
		case <-p.done:
			p.t.Fatalf("service exited; no log line with %v", want)
		default:
		}
		p.cond.Wait()
	}
}

// waitOutput waits until the service printed a line (not a JSON log line) containing s.
func (p *proc) waitOutput(s string) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	timer := time.AfterFunc(10*time.Second, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for _, l := range p.other {
			if strings.Contains(l, s) {
				return
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the service printed no line with %q", s)
		}
		p.cond.Wait()
	}
}

// waitLogCount waits until n log lines match want.
func (p *proc) waitLogCount(want map[string]string, n int) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	timer := time.AfterFunc(10*time.Second, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		got := 0
		for _, l := range p.logs {
			if logMatches(l, want) {
				got++
			}
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%d log lines with %v, want %d", got, want, n)
		}
		p.cond.Wait()
	}
}

func (p *proc) findLogs(want map[string]string) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []map[string]any
	for _, l := range p.logs {
		if logMatches(l, want) {
			out = append(out, l)
		}
	}
	return out
}

func logMatches(line map[string]any, want map[string]string) bool {
	for k, v := range want {
		if fmt.Sprint(line[k]) != v {
			return false
		}
	}
	return true
}

func (p *proc) get(t *testing.T, path string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", p.url+path, nil)
	return doJSON(t, req)
}

func doJSON(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s %s: %d %q is not a JSON object", req.Method, req.URL, resp.StatusCode, data)
	}
	return resp.StatusCode, m
}

// jsPrelude is prepended to every Node.js script: helpers around the official client.
const jsPrelude = `
'use strict';
const { io } = require('socket.io-client');
const jwt = require('jsonwebtoken');
const BASE = process.env.URL, API = process.env.API_URL, KEY = process.env.KEY, SECRET = process.env.SECRET;
const sign = (claims, opts) => jwt.sign(claims, SECRET, Object.assign({ algorithm: 'HS256' }, opts || {}));
const sockets = [];
// connect resolves with a connected socket, or rejects with the connect_error.
const connect = (auth, opts) => new Promise((resolve, reject) => {
  opts = Object.assign({ reconnection: false, forceNew: true }, opts || {});
  const s = io(BASE + (opts.ns || ''), Object.assign({ auth }, opts));
  sockets.push(s);
  s.once('connect', () => resolve(s));
  s.once('connect_error', (err) => { s.close(); reject(err); });
});
// refusal returns the connect_error message, or 'connected'.
const refusal = (auth, opts) => connect(auth, opts).then((s) => { s.close(); return 'connected'; }, (e) => e.message);
const api = async (path, body, opts) => {
  opts = opts || {};
  const r = await fetch(API + path, {
    method: opts.method || 'POST',
    headers: { 'x-internal-key': opts.key === undefined ? KEY : opts.key, 'content-type': 'application/json' },
    body: opts.method === 'GET' ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
  const text = await r.text();
  let parsed; try { parsed = JSON.parse(text); } catch (e) { parsed = text; }
  return { status: r.status, body: parsed };
};
const timers = new Set();
// next resolves with the arguments of the next ev on s.
const next = (s, ev, ms) => new Promise((resolve, reject) => {
  const t = setTimeout(() => { timers.delete(t); reject(new Error('timeout waiting for ' + ev + ' on ' + s.id)); }, ms || 10000);
  timers.add(t);
  s.once(ev, (...args) => { clearTimeout(t); timers.delete(t); resolve(args); });
});
// record keeps every event s receives, in order, as [event, ...args].
const record = (s) => { const got = []; s.onAny((...a) => got.push(a)); return got; };
const main = async () => { /*BODY*/ };
// On success the script closes its sockets and lets Node exit once the close packets are
// written, so that the service sees every client leave.
main().then((r) => { for (const s of sockets) s.close(); for (const t of timers) clearTimeout(t); console.log(JSON.stringify(r)); },
  (e) => { console.error(e && e.stack || e); process.exit(1); });
`

// runJS runs body (the inside of an async function returning the result) against p and
// decodes the JSON result into out.
func (p *proc) runJS(t *testing.T, body string, out any, env ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	src := strings.Replace(jsPrelude, "/*BODY*/", body, 1)
	env = append([]string{"URL=" + p.url, "API_URL=" + p.apiURL, "KEY=" + p.key, "SECRET=" + p.secret}, env...)
	raw := testutil.RunNode(ctx, t, src, env...)
	raw = bytes.TrimSpace(raw)
	if i := bytes.LastIndexByte(raw, '\n'); i >= 0 {
		raw = raw[i+1:]
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("script result %q: %v", raw, err)
	}
}
