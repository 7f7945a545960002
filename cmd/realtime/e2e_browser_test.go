package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
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
	"github.com/tomato-code/realtime/service/config"
)

// chromiumPath is Debian's chromium, which .ci/run installs. puppeteer-core never downloads a
// browser: the tests use this one or skip.
const chromiumPath = "/usr/bin/chromium"

// clientBundle returns the browser build of socket.io-client pinned in test/node.
func clientBundle(t *testing.T) string {
	t.Helper()
	return filepath.Join(testutil.NodeDir(t), "node_modules", "socket.io-client", "dist", "socket.io.min.js")
}

// TestE2EClientScript checks the CLIENT_SCRIPT route without a browser: the bundle at
// /socket.io/socket.io.js with revalidation, next to a working Socket.IO handler; a 404 without
// the setting; and a start-up refusal naming the setting when the file cannot be read.
func TestE2EClientScript(t *testing.T) {
	testutil.CheckGoroutines(t)
	bundle := clientBundle(t)
	want, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	p := startService(t, "CLIENT_SCRIPT="+bundle)

	resp, err := http.Get(p.url + "/socket.io/socket.io.js")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, want) {
		t.Fatalf("GET /socket.io/socket.io.js: %d, %d bytes, want the %d bytes of %s", resp.StatusCode, len(got), len(want), bundle)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/javascript") {
		t.Errorf("Content-Type %q", ct)
	}
	etag := resp.Header.Get("ETag")
	req, _ := http.NewRequest("GET", p.url+"/socket.io/socket.io.js", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if etag == "" || resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation with ETag %q: %d, want 304", etag, resp.StatusCode)
	}

	// The source map the bundle names, from beside it, where a browser's developer tools ask.
	wantMap, err := os.ReadFile(bundle + ".map")
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(p.url + "/socket.io/" + filepath.Base(bundle) + ".map")
	if err != nil {
		t.Fatal(err)
	}
	gotMap, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(gotMap, wantMap) || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET the source map: %d %q, %d bytes, want the %d bytes of %s.map", resp.StatusCode, resp.Header.Get("Content-Type"), len(gotMap), len(wantMap), bundle)
	}

	// The Engine.IO handler behind the same prefix still answers handshakes.
	resp, err = http.Get(p.url + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	open, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var handshake struct{ Sid string }
	if resp.StatusCode != 200 || !bytes.HasPrefix(open, []byte("0")) || json.Unmarshal(open[1:], &handshake) != nil || handshake.Sid == "" {
		t.Fatalf("Engine.IO handshake next to the script: %d %q", resp.StatusCode, open)
	}
	// Close the session (a close packet), or the drain at the end waits for its next poll.
	resp, err = http.Post(p.url+"/socket.io/?EIO=4&transport=polling&sid="+handshake.Sid, "text/plain", strings.NewReader("1"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("close packet: %d", resp.StatusCode)
	}

	// Without the setting: a 404, and dev mode's banner says how to serve the client.
	bare := startServiceArgs(t, []string{"--dev"}, "JWT_SECRET=", "INTERNAL_SERVICE_KEY=", "HOST=", "LOG_FORMAT=text")
	if status, body := bare.get(t, "/socket.io/socket.io.js"); status != 404 || !strings.Contains(fmt.Sprint(body["message"]), "CLIENT_SCRIPT") {
		t.Errorf("without CLIENT_SCRIPT: %d %v, want a 404 that names the setting", status, body)
	}
	bare.waitOutput("More tokens:") // the banner's last line
	for _, want := range []string{"Test page: " + bare.url + "/", "npm install socket.io-client",
		"--client-script node_modules/socket.io-client/dist/socket.io.min.js", "CLIENT_SCRIPT", bare.url + "/socket.io/socket.io.js"} {
		if !strings.Contains(bare.output(), want) {
			t.Errorf("the dev banner lacks %q:\n%s", want, bare.output())
		}
	}

	cmd := exec.Command(realtimeBinary(t), "--dev", "--port", "0", "--client-script", filepath.Join(t.TempDir(), "missing.js"))
	out, err := cmd.CombinedOutput()
	code := -1
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	}
	if code != 2 || !strings.Contains(string(out), "CLIENT_SCRIPT") {
		t.Errorf("unreadable CLIENT_SCRIPT: exit %d, output %q; want exit 2 naming CLIENT_SCRIPT", code, out)
	}
}

// browserScript drives the dev page in headless Chromium with puppeteer-core, in steps. After
// each step it prints one JSON line and waits for a line on standard input, so that the Go
// test can check the service and emit through the internal API in between. Every wait is on
// the page's DOM (waitForFunction), never a timer.
const browserScript = `
'use strict';
const puppeteer = require('puppeteer-core');
const readline = require('readline');
const URL = process.env.URL, BARE_URL = process.env.BARE_URL, T = 15000;
const WS_URL = URL.replace(/^http/, 'ws');

const input = readline.createInterface({ input: process.stdin });
const lines = input[Symbol.asyncIterator]();
// step reports data to the Go test and waits until it says go on.
const step = async (name, data) => {
  console.log(JSON.stringify(Object.assign({ step: name }, data || {})));
  const r = await lines.next();
  if (r.done || r.value !== 'go') throw new Error('the test stopped after step ' + name);
};

const state = (page) => page.evaluate(() => ({
  state: document.getElementById('state').dataset.state,
  detail: document.getElementById('detail').textContent,
  client: document.getElementById('client').dataset.src || '',
}));
// connected waits until the page shows a connection over transport and returns the socket id.
const connected = async (page, transport) => {
  await page.waitForFunction((tr) => {
    const s = document.getElementById('state'), d = document.getElementById('detail').textContent;
    return s.dataset.state === 'connected' && d.endsWith(' over ' + tr);
  }, { timeout: T, polling: 'mutation' }, transport);
  const st = await state(page);
  return Object.assign(st, { id: st.detail.split(' ')[1] });
};
// received waits for the page to list an event and returns the line it shows.
const received = async (page, event) => {
  const li = await page.waitForFunction((ev) =>
    Array.from(document.querySelectorAll('#events li')).find((li) => li.dataset.event === ev),
  { timeout: T, polling: 'mutation' }, event);
  return li.evaluate((el) => el.textContent);
};
const reconnect = async (page, transports) => {
  await page.select('#transports', transports);
  await page.click('#connect');
};

const main = async () => {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM,
    headless: true, // --headless=new; given again below, as the project runs Chromium
    args: ['--headless=new', '--no-sandbox', '--no-first-run', '--disable-gpu',
      // Nothing but loopback: names do not resolve, so the CDN fallback fails fast.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
    userDataDir: process.env.PROFILE,
    defaultViewport: { width: 1000, height: 800 },
  });
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
    page.on('request', (r) => {
      if (!r.url().startsWith(URL + '/') && !r.url().startsWith(WS_URL + '/')) problems.push('request: ' + r.url());
    });
    page.on('requestfailed', (r) => { if (!r.url().includes('transport=polling')) problems.push('failed: ' + r.url()); });
    await page.goto(URL + '/');

    // Dev mode connects at once, polling first, then upgrades to websocket.
    await step('connected', await connected(page, 'websocket'));
    await step('go-event', { text: await received(page, process.env.GO_EVENT) });

    // The page's own form: it posts to the internal API with the prefilled dev key.
    await page.$eval('#emit-event', (el, v) => { el.value = v; }, process.env.FORM_EVENT);
    await page.$eval('#emit-payload', (el, v) => { el.value = v; }, process.env.FORM_PAYLOAD);
    await page.click('#emit-send');
    await page.waitForFunction(() => document.getElementById('emit-result').textContent !== 'not sent yet', { timeout: T, polling: 'mutation' });
    const text = await received(page, process.env.FORM_EVENT);
    const result = await page.$eval('#emit-result', (el) => el.textContent);
    await page.screenshot({ path: process.env.SHOT, fullPage: true });
    await step('form', { text, result });

    await reconnect(page, 'polling');
    await step('polling', await connected(page, 'polling'));
    const pollText = await received(page, process.env.POLL_EVENT);
    await step('polling-event', Object.assign(await state(page), { text: pollText }));

    await reconnect(page, 'websocket');
    await step('websocket', await connected(page, 'websocket'));

    // A service without CLIENT_SCRIPT: the CDN cannot be reached here, and the page says what
    // to do.
    const bare = await browser.newPage();
    await bare.goto(BARE_URL + '/');
    await bare.waitForFunction(() => document.getElementById('state').dataset.state === 'error', { timeout: T, polling: 'mutation' });
    await step('no-client', await state(bare));

    console.log(JSON.stringify({ step: 'done', problems }));
  } finally {
    // Standard input would keep node alive.
    input.close();
    process.stdin.destroy();
    await browser.close();
  }
};
main().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
`

// browserStep is one line the browser script prints.
type browserStep struct {
	Step     string   `json:"step"`
	ID       string   `json:"id"`
	State    string   `json:"state"`
	Detail   string   `json:"detail"`
	Client   string   `json:"client"`
	Text     string   `json:"text"`
	Result   string   `json:"result"`
	Problems []string `json:"problems"`
}

// browserRun is the browser script running under node, stepped from the test.
type browserRun struct {
	t      *testing.T
	stdin  io.WriteCloser
	steps  chan browserStep
	stderr syncBuffer
	exited chan struct{}
	stop   chan struct{}
	err    error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startBrowser runs browserScript with env. The script ends when the test closes its standard
// input (it then closes Chromium) or, as a last resort, on SIGTERM, which puppeteer also turns
// into closing Chromium.
func startBrowser(t *testing.T, env ...string) *browserRun {
	t.Helper()
	script := filepath.Join(t.TempDir(), "devpage.js")
	if err := os.WriteFile(script, []byte(browserScript), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	cmd := testutil.NodeCommand(ctx, t, script, append(env, "CHROMIUM="+chromiumPath, "PUPPETEER_SKIP_DOWNLOAD=1"))
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	b := &browserRun{t: t, steps: make(chan browserStep), exited: make(chan struct{}), stop: make(chan struct{})}
	cmd.Stderr = &b.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if b.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(b.exited)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		for sc.Scan() {
			var s browserStep
			if json.Unmarshal(sc.Bytes(), &s) != nil || s.Step == "" {
				b.stderr.Write(append(sc.Bytes(), '\n'))
				continue
			}
			select {
			case b.steps <- s:
			case <-b.stop:
			}
		}
		b.err = cmd.Wait()
	}()
	t.Cleanup(func() {
		close(b.stop)
		b.stdin.Close()
		<-b.exited
		cancel()
	})
	return b
}

// step waits for the script to report step name.
func (b *browserRun) step(name string) browserStep {
	b.t.Helper()
	select {
	case s := <-b.steps:
		if s.Step != name {
			b.t.Fatalf("browser reported step %q, want %q", s.Step, name)
		}
		return s
	case <-b.exited:
		b.t.Fatalf("browser script ended before step %q: %v\n%s", name, b.err, b.stderr.String())
	case <-time.After(60 * time.Second):
		b.t.Fatalf("no step %q from the browser after 60s\n%s", name, b.stderr.String())
	}
	return browserStep{}
}

// next lets the script go on to its next step.
func (b *browserRun) next() {
	b.t.Helper()
	if _, err := io.WriteString(b.stdin, "go\n"); err != nil {
		b.t.Fatalf("browser script: %v\n%s", err, b.stderr.String())
	}
}

// emit posts one event to user:dev-user through the internal API of p.
func (p *proc) emit(t *testing.T, event, payload string) {
	t.Helper()
	body := `{"event":` + jsonString(event) + `,"room":"user:dev-user","payload":` + payload + `}`
	req, _ := http.NewRequest("POST", p.apiURL+"/api/v1/internal/emit", strings.NewReader(body))
	req.Header.Set("x-internal-key", p.key)
	if status, resp := doJSON(t, req); status != 200 || resp["success"] != true {
		t.Fatalf("emit %s: %d %v", event, status, resp)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// transportOf returns the transport the service reports for socket id of user dev-user.
func (p *proc) transportOf(t *testing.T, id string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", p.apiURL+"/api/v1/internal/sockets?room=user:dev-user", nil)
	req.Header.Set("x-internal-key", p.key)
	status, body := doJSON(t, req)
	sockets, _ := body["sockets"].([]any)
	for _, s := range sockets {
		if m, _ := s.(map[string]any); m["id"] == id {
			tr, _ := m["transport"].(string)
			return tr
		}
	}
	t.Fatalf("socket %q is not listed in user:dev-user: %d %v", id, status, body)
	return ""
}

// TestE2EBrowserDevPage opens the page of `realtime --dev` in headless Chromium, with the
// socket.io-client bundle served by the service (CLIENT_SCRIPT): the page connects on its own,
// shows events emitted from Go and from its own form, over websocket and over polling; without
// CLIENT_SCRIPT and without the CDN it explains how to get the client. Set
// DEVPAGE_SCREENSHOT=file.png to keep the screenshot it takes.
func TestE2EBrowserDevPage(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("Chromium is not installed at %s (Debian package chromium; .ci/run installs it): the dev page is not tested in a browser", chromiumPath)
	}
	testutil.CheckGoroutines(t)
	bundle := clientBundle(t)
	dev := []string{"JWT_SECRET=", "INTERNAL_SERVICE_KEY=", "HOST=", "LOG_FORMAT=text"}
	p := startServiceArgs(t, []string{"--dev"}, append(dev, "CLIENT_SCRIPT="+bundle)...)
	p.key = config.DevInternalServiceKey
	bare := startServiceArgs(t, []string{"--dev"}, dev...)
	p.waitOutput("More tokens:")
	if want := p.url + "/socket.io/socket.io.js (CLIENT_SCRIPT=" + bundle + ")"; !strings.Contains(p.output(), want) {
		t.Errorf("the dev banner lacks %q:\n%s", want, p.output())
	}

	shot := filepath.Join(t.TempDir(), "devpage.png")
	const (
		goEvent     = "order:update"
		goPayload   = `{"id":7,"status":"ready","note":"é 🍅"}`
		formEvent   = "form:test"
		formPayload = `{"from":"the page's form","n":1}`
		pollEvent   = "order:polled"
		pollPayload = `{"id":8,"via":"polling"}`
	)
	b := startBrowser(t, "URL="+p.url, "BARE_URL="+bare.url, "PROFILE="+t.TempDir(), "SHOT="+shot,
		"GO_EVENT="+goEvent, "FORM_EVENT="+formEvent, "FORM_PAYLOAD="+formPayload, "POLL_EVENT="+pollEvent)

	s := b.step("connected")
	if s.Client != "/socket.io/socket.io.js" {
		t.Errorf("the page loaded socket.io-client from %q, want the service's /socket.io/socket.io.js", s.Client)
	}
	if tr := p.transportOf(t, s.ID); tr != "websocket" {
		t.Errorf("the page shows websocket, the service says %q", tr)
	}
	p.emit(t, goEvent, goPayload)
	b.next()

	if s = b.step("go-event"); !strings.HasSuffix(s.Text, goEvent+" "+goPayload) {
		t.Errorf("the page shows %q, want the event %s with %s", s.Text, goEvent, goPayload)
	}
	b.next()

	s = b.step("form")
	if s.Result != `200 {"success":true}` {
		t.Errorf("the form's emit answered %q", s.Result)
	}
	if !strings.HasSuffix(s.Text, formEvent+" "+formPayload) {
		t.Errorf("the page shows %q, want the event %s with %s", s.Text, formEvent, formPayload)
	}
	checkScreenshot(t, shot)
	b.next()

	s = b.step("polling")
	if tr := p.transportOf(t, s.ID); tr != "polling" {
		t.Errorf("polling chosen on the page, the service says %q", tr)
	}
	p.emit(t, pollEvent, pollPayload)
	b.next()
	if s = b.step("polling-event"); !strings.HasSuffix(s.Text, pollEvent+" "+pollPayload) || !strings.HasSuffix(s.Detail, " over polling") {
		t.Errorf("over polling the page shows %q (%s)", s.Text, s.Detail)
	}
	b.next()

	s = b.step("websocket")
	if tr := p.transportOf(t, s.ID); tr != "websocket" {
		t.Errorf("websocket only chosen on the page, the service says %q", tr)
	}
	b.next()

	s = b.step("no-client")
	if s.State != "error" || !strings.Contains(s.Detail, "CLIENT_SCRIPT=") || s.Client != "" {
		t.Errorf("without CLIENT_SCRIPT nor CDN the page shows %q %q", s.State, s.Detail)
	}
	b.next()

	if s = b.step("done"); len(s.Problems) != 0 {
		t.Errorf("the page with CLIENT_SCRIPT had problems:\n%s", strings.Join(s.Problems, "\n"))
	}
	<-b.exited
	if b.err != nil {
		t.Fatalf("browser script: %v\n%s", b.err, b.stderr.String())
	}
}

// checkScreenshot checks that the page's screenshot is a PNG of a plausible size and copies it
// to $DEVPAGE_SCREENSHOT when set, for people to look at.
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	img, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil || img.Width < 800 || img.Height < 600 {
		t.Errorf("screenshot: %v, %dx%d", err, img.Width, img.Height)
	}
	if keep := os.Getenv("DEVPAGE_SCREENSHOT"); keep != "" {
		if err := os.WriteFile(keep, data, 0o644); err != nil {
			t.Errorf("DEVPAGE_SCREENSHOT: %v", err)
		}
	}
}
