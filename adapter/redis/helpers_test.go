package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tomato-code/realtime/socketio"
	"github.com/tomato-code/realtime/test/cluster"
)

const wait = 10 * time.Second

// startWait bounds the start of a Node.js process, up to the first line the test waits for. On
// a loaded machine (several test binaries and compilers on two cores) node took more than wait
// to load its packages and connect, which no test here measures.
const startWait = time.Minute

// goNode is a Go cluster node as the tests run it: a socketio server with this adapter,
// behind a real HTTP server. Clients pass auth {name, rooms}, as with test/cluster/server.js.
type goNode struct {
	name    string
	cluster *Cluster
	srv     *socketio.Server
	http    *httptest.Server
	url     string
	events  *eventLog // server-side events received
}

type nodeOptions struct {
	mode       SubscriptionMode
	namespaces []string
	cfg        func(*Config)
	server     func(*socketio.Config)
}

func startGoNode(t *testing.T, name, redisURL, key string, o nodeOptions) *goNode {
	t.Helper()
	cfg := Config{URL: redisURL, Key: key, Subscription: o.mode, RequestsTimeout: 3 * time.Second,
		Logger: slog.New(slog.NewTextHandler(testWriter{t, name}, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	cl, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := &goNode{name: name, cluster: cl, events: newEventLog()}
	scfg := socketio.Config{Adapter: cl.NewAdapter}
	if o.server != nil {
		o.server(&scfg)
	}
	n.srv = socketio.NewServer(scfg)
	for _, nsp := range append([]string{"/"}, o.namespaces...) {
		ns := n.srv.Of(nsp)
		ns.OnConnection(func(s *socketio.Socket) {
			var auth struct {
				Name  string   `json:"name"`
				Rooms []string `json:"rooms"`
			}
			_ = json.Unmarshal(s.Handshake().Auth, &auth)
			s.SetData(map[string]string{"name": auth.Name})
			s.Join(auth.Rooms...)
			n.events.add(nsp + " connection " + auth.Name)
		})
		ns.OnServerSideEmit("plain-servers", func(args socketio.Args, _ socketio.Ack) {
			n.events.add(nsp + " plain-servers " + args.String())
		})
		ns.OnServerSideEmit("ping-servers", func(args socketio.Args, ack socketio.Ack) {
			n.events.add(nsp + " ping-servers " + args.String())
			if ack != nil {
				_ = ack("pong-from-" + name)
			}
		})
	}
	n.http = httptest.NewServer(n.srv)
	n.url = n.http.URL
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = n.srv.Shutdown(ctx)
		n.http.Close()
		_ = n.cluster.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := cl.waitSynced(ctx); err != nil {
		t.Fatalf("%s: not connected to Redis: %v", name, err)
	}
	return n
}

// adapter returns the node's adapter of namespace nsp.
func (n *goNode) adapter(nsp string) *Adapter {
	return n.srv.Of(nsp).Adapter().(*Adapter)
}

// joined waits until the connection handler of the client called name (its auth name) has run
// on namespace nsp, so the client is in its rooms. The client sees "connect" before that
// handler runs: a broadcast published as soon as it does may otherwise find the client in
// none of its rooms yet, and miss it.
func (n *goNode) joined(t *testing.T, nsp, name string) {
	t.Helper()
	n.events.wait(t, nsp+" connection "+name)
}

// synced waits until every subscription of the node (rooms included) is live.
func (n *goNode) synced(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := n.cluster.waitSynced(ctx); err != nil {
		t.Fatalf("%s: subscriptions not confirmed: %v", n.name, err)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type testWriter struct {
	t    *testing.T
	name string
}

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s: %s", w.name, strings.TrimSpace(string(p)))
	return len(p), nil
}

// eventLog collects lines and lets a test wait for one.
type eventLog struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{}
}

func newEventLog() *eventLog { return &eventLog{changed: make(chan struct{})} }

func (l *eventLog) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

func (l *eventLog) wait(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(wait)
	for {
		l.mu.Lock()
		for _, s := range l.lines {
			if s == want {
				l.mu.Unlock()
				return
			}
		}
		changed := l.changed
		got := fmt.Sprint(l.lines)
		l.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no %q; got %s", want, got)
		}
	}
}

// clientSpec describes one socket.io-client client of test/cluster/clients.js.
type clientSpec struct {
	Name       string   `json:"name"`
	URL        string   `json:"url"`
	Nsp        string   `json:"nsp,omitempty"`
	Rooms      []string `json:"rooms"`
	Transports []string `json:"transports,omitempty"`
}

// startClients connects the clients and waits until each is connected.
func startClients(t *testing.T, specs ...clientSpec) *cluster.Proc {
	t.Helper()
	b, _ := json.Marshal(specs)
	p := cluster.Start(t, "clients.js", nil, string(b))
	for _, s := range specs {
		p.Wait(startWait, s.Name+" connected", func(l cluster.Line) bool { return l.Str("client") == s.Name && l["connected"] != nil })
	}
	return p
}

func gotEvent(client, event string) func(cluster.Line) bool {
	return func(l cluster.Line) bool { return l.Str("client") == client && l.Str("event") == event }
}

// checkCounts asserts how many times each "client event" pair was received.
func checkCounts(t *testing.T, clients *cluster.Proc, counts map[string]int) {
	t.Helper()
	for k, want := range counts {
		client, event, _ := strings.Cut(k, " ")
		if got := clients.Count(gotEvent(client, event)); got != want {
			t.Errorf("%s got %q %d times, want %d", client, event, got, want)
		}
	}
}

// startNodeServer runs test/cluster/server.js (socket.io 4.8 + @socket.io/redis-adapter 8.3).
func startNodeServer(t *testing.T, name, redisURL, key string, namespaces ...string) (*cluster.Proc, string) {
	t.Helper()
	p := cluster.Start(t, "server.js", []string{"REDIS_URL=" + redisURL, "KEY=" + key, "NAME=" + name,
		"NAMESPACES=" + strings.Join(namespaces, ",")})
	ready := p.Wait(startWait, "ready", func(l cluster.Line) bool { return l["ready"] != nil })
	return p, fmt.Sprintf("http://127.0.0.1:%v", ready["ready"])
}

// waitSubscribed waits until Redis confirmed the node's subscription to the channel of room,
// so that broadcasts from other nodes to that room reach it (see the package doc).
func (n *goNode) waitSubscribed(t *testing.T, nsp, room string) {
	t.Helper()
	if n.cluster.cfg.Subscription == SubscribePattern {
		return // the pattern covers every room from the start
	}
	ch := n.adapter(nsp).ch.Room(room)
	n.waitState(t, "subscription to "+ch, func(c *Cluster) bool {
		s := c.subs[ch]
		return s != nil && s.confirmed && s.have
	})
}

// waitState waits until cond, called with the Cluster's lock held, is true; the subscription
// loop signals each round of changes, which follow every join, leave and wait.
func (n *goNode) waitState(t *testing.T, what string, cond func(c *Cluster) bool) {
	t.Helper()
	deadline := time.After(wait)
	for {
		c := n.cluster
		c.mu.Lock()
		ok := cond(c)
		changed := c.syncChanged
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%s: no %s", n.name, what)
		}
	}
}
