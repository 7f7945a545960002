package redis

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/test/cluster"
)

// freezer is a TCP proxy that can stop forwarding without closing anything, as a network
// partition does, and can hold each chunk for a while, as a distant server's network does.
type freezer struct {
	l      net.Listener
	target string
	delay  time.Duration // each chunk is forwarded this long after it was read
	mu     sync.Mutex
	frozen bool
	thawed chan struct{} // closed while not frozen
	conns  []net.Conn
	wg     sync.WaitGroup
}

func startFreezer(t *testing.T, target string) *freezer {
	t.Helper()
	return startDelayingFreezer(t, target, 0)
}

// startDelayingFreezer starts a freezer that forwards each chunk delay after it read it.
func startDelayingFreezer(t *testing.T, target string, delay time.Duration) *freezer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{l: l, target: target, delay: delay, thawed: make(chan struct{})}
	close(f.thawed)
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(func() {
		f.thaw()
		l.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *freezer) accept() {
	defer f.wg.Done()
	for {
		down, err := f.l.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", f.target)
		if err != nil {
			down.Close()
			continue
		}
		f.mu.Lock()
		f.conns = append(f.conns, down, up)
		f.mu.Unlock()
		f.wg.Add(2)
		go f.pipe(up, down)
		go f.pipe(down, up)
	}
}

// pipe copies src to dst, holding each chunk while the proxy is frozen; at the end it
// closes both sides, so a close goes through once the proxy thaws.
func (f *freezer) pipe(dst, src net.Conn) {
	defer f.wg.Done()
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		f.mu.Lock()
		thawed := f.thawed
		f.mu.Unlock()
		<-thawed
		if n > 0 && f.delay > 0 {
			time.Sleep(f.delay) // the network's latency, not a wait for a condition
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (f *freezer) freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.frozen {
		f.frozen = true
		f.thawed = make(chan struct{})
	}
}

func (f *freezer) thaw() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.frozen {
		f.frozen = false
		close(f.thawed)
	}
}

// A subscriber connection that goes silent without closing (a partition) is noticed by the
// health check, replaced, and the cluster heals with one subscription to the request channel.
func TestSilentPartition(t *testing.T) {
	testutil.CheckGoroutines(t)
	url, key := cluster.RedisURL(t), cluster.Key(t)
	ropts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startFreezer(t, ropts.Addr)
	g1 := startGoNode(t, "g1", url, key, nodeOptions{cfg: func(c *Config) {
		o := *ropts
		o.Addr = proxy.l.Addr().String()
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout = time.Second, time.Second, time.Second
		c.Options = &o
		c.HealthCheckInterval = 200 * time.Millisecond
	}})
	g2 := startGoNode(t, "g2", url, key, nodeOptions{})
	clients := startClients(t, clientSpec{Name: "A", URL: g1.url, Rooms: []string{"a"}})
	g1.joined(t, "/", "A")
	g1.synced(t)

	proxy.freeze()
	waitHealth(t, g1, false)
	if h := g1.cluster.Health(); !strings.Contains(h.LastError, "no answer from Redis") {
		t.Errorf("health while frozen %+v: not the health check's verdict", h)
	}
	proxy.thaw()
	waitHealth(t, g1, true)
	g1.synced(t)

	// Redis drops the old connection's subscriptions when its close gets through.
	rc := cluster.Client(t, url)
	req := g1.adapter("/").ch.Request
	deadline := time.Now().Add(wait)
	for {
		n, err := rc.PubSubNumSub(context.Background(), req).Result()
		if err == nil && n[req] == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("NUMSUB %s = %v, %v; want 2", req, n, err)
		}
		time.Sleep(20 * time.Millisecond) // Redis gives no signal when it drops a connection
	}
	must(t, g2.srv.Of("/").To("a").Emit("after-partition"))
	clients.Wait(wait, "A after-partition", gotEvent("A", "after-partition"))
	if h := g1.cluster.Health(); !h.Ready {
		t.Errorf("health %+v", h)
	}
	if st := g1.cluster.Stats(); st.Reconnects == 0 {
		t.Errorf("stats %+v: no reconnect", st)
	}
}
