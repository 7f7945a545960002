package loop

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sys/unix"

	"github.com/tomato-code/realtime/bench/internal/wsframe"
	"github.com/tomato-code/realtime/internal/testutil"
)

// fakeServer is a minimal Socket.IO server for the loop's tests: it checks what the client
// sends (token, pong) and sends what a real server may (pings, events in one write, fragmented
// and oversized frames).
type fakeServer struct {
	t        *testing.T
	secret   []byte
	refuse   string // user id whose CONNECT is refused
	events   int    // stamped events sent to each connection after the ping
	mu       sync.Mutex
	problems []string
	remotes  []string
	wg       sync.WaitGroup // one per expected session, added by the test before it connects
}

func (f *fakeServer) problem(format string, args ...any) {
	f.mu.Lock()
	f.problems = append(f.problems, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer f.wg.Done()
	if r.URL.Path != "/socket.io/" || r.URL.Query().Get("EIO") != "4" || r.URL.Query().Get("transport") != "websocket" {
		f.problem("bad request %s", r.URL)
		http.Error(w, "bad", 400)
		return
	}
	conn, _, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		f.problem("upgrade: %v", err)
		return
	}
	defer conn.Close()
	f.mu.Lock()
	f.remotes = append(f.remotes, r.RemoteAddr)
	f.mu.Unlock()
	if err := f.session(conn); err != nil {
		f.problem("%v", err)
	}
}

func (f *fakeServer) session(conn net.Conn) error {
	if err := wsutil.WriteServerText(conn, []byte(`0{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)); err != nil {
		return err
	}
	msg, err := wsutil.ReadClientText(conn)
	if err != nil {
		return fmt.Errorf("reading CONNECT: %w", err)
	}
	tok, ok := strings.CutPrefix(string(msg), `40{"token":"`)
	tok, ok2 := strings.CutSuffix(tok, `"}`)
	if !ok || !ok2 {
		return fmt.Errorf("CONNECT packet %q", msg)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return f.secret, nil },
		jwt.WithValidMethods([]string{"HS256"})); err != nil {
		return fmt.Errorf("token: %w", err)
	}
	if claims["restaurantId"] != "r9" {
		return fmt.Errorf("restaurantId %v", claims["restaurantId"])
	}
	if claims["_id"] == f.refuse {
		wsutil.WriteServerText(conn, []byte(`44{"message":"Invalid token"}`))
		_, err := wsutil.ReadClientText(conn) // the client closes
		if err == nil {
			return fmt.Errorf("refused client kept talking")
		}
		return nil
	}
	if err := wsutil.WriteServerText(conn, []byte(`40{"sid":"s"}`)); err != nil {
		return err
	}
	if err := wsutil.WriteServerText(conn, []byte("2")); err != nil {
		return err
	}
	pong, err := wsutil.ReadClientText(conn)
	if err != nil || string(pong) != "3" {
		return fmt.Errorf("pong %q, %v", pong, err)
	}
	// A WebSocket-level ping must be answered with a pong carrying its payload.
	if err := ws.WriteFrame(conn, ws.NewPingFrame([]byte("hi"))); err != nil {
		return err
	}
	h, err := ws.ReadHeader(conn)
	if err != nil || h.OpCode != ws.OpPong || h.Length > 125 {
		return fmt.Errorf("websocket pong: %v, %d bytes, %v", h.OpCode, h.Length, err)
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(conn, payload); err != nil {
		return fmt.Errorf("websocket pong payload: %w", err)
	}
	if h.Masked {
		ws.Cipher(payload, h.Mask, 0)
	}
	if string(payload) != "hi" {
		return fmt.Errorf("websocket pong payload %q", payload)
	}

	// All events in one write, so that the client parses several frames per read; one of them
	// fragmented, one oversized (skipped unread), one unstamped.
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	now := time.Now().UnixMicro()
	for i := range f.events {
		p := wsframe.AppendStamp([]byte(`42["bench",{`), 1, now)
		p = append(p, "}]"...)
		if i == 1 {
			ws.WriteFrame(bw, ws.NewFrame(ws.OpText, false, p[:5]))
			ws.WriteFrame(bw, ws.NewFrame(ws.OpContinuation, false, p[5:12]))
			ws.WriteFrame(bw, ws.NewFrame(ws.OpContinuation, true, p[12:]))
			continue
		}
		ws.WriteFrame(bw, ws.NewTextFrame(p))
	}
	ws.WriteFrame(bw, ws.NewTextFrame(append([]byte(`42["big","`), bytes.Repeat([]byte("z"), 300_000)...)))
	ws.WriteFrame(bw, ws.NewTextFrame([]byte(`42["other",1]`)))
	bw.Flush()
	if _, err := conn.Write(buf.Bytes()); err != nil {
		return err
	}
	// Hold the connection until the client closes it.
	for {
		if _, err := wsutil.ReadClientText(conn); err != nil {
			return nil
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a counter that has no change signal
	}
}

func TestSetAgainstFakeServer(t *testing.T) {
	testutil.CheckGoroutines(t)
	const n, events = 20, 5
	f := &fakeServer{t: t, secret: []byte("sec"), refuse: UserID("u", 3), events: events}
	srv := httptest.NewServer(f)
	defer srv.Close()
	target := netip.MustParseAddrPort(strings.TrimPrefix(srv.URL, "http://"))

	set, err := New(Config{
		Targets:      []netip.AddrPort{target},
		Sources:      []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")},
		Secret:       f.secret,
		RestaurantID: "r9",
		Loops:        2,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	f.wg.Add(n)
	set.Open(0, n)
	waitFor(t, "all connections to settle", func() bool {
		st := set.Stats()
		return st.Connected+st.Failed == n && set.Delivered(1) == (n-1)*events
	})
	waitFor(t, "the trailing unstamped events", func() bool { return set.Stats().Unstamped == 2*(n-1) })
	st := set.Stats()
	if st.Opened != n || st.Connected != n-1 || st.Failed != 1 || st.Dropped != 0 {
		t.Fatalf("opened %d connected %d failed %d dropped %d", st.Opened, st.Connected, st.Failed, st.Dropped)
	}
	if len(st.Down) != 1 || st.Down[0] != 3 {
		t.Fatalf("down %v, want [3]", st.Down)
	}
	if st.Errors[`refused: {"message":"Invalid token"}`] != 1 {
		t.Fatalf("errors %v", st.Errors)
	}
	if st.Pings != n-1 || st.Events != (n-1)*(events+2) {
		t.Fatalf("pings %d events %d", st.Pings, st.Events)
	}
	if st.Phases[1].N != (n-1)*events || st.ConnectLatency.N != n-1 {
		t.Fatalf("phase 1 histogram %d values, connect latency %d", st.Phases[1].N, st.ConnectLatency.N)
	}
	if err := set.Close(); err != nil {
		t.Fatal(err)
	}
	f.wg.Wait()
	if len(f.problems) > 0 {
		t.Fatalf("server saw problems:\n%s", strings.Join(f.problems, "\n"))
	}
	for _, r := range f.remotes {
		if !strings.HasPrefix(r, "127.0.0.2:") && !strings.HasPrefix(r, "127.0.0.3:") {
			t.Fatalf("connection from %s, not from a configured source address", r)
		}
	}
}

func TestConnectRefusedCounts(t *testing.T) {
	testutil.CheckGoroutines(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close() // nothing listens there now
	set, err := New(Config{Targets: []netip.AddrPort{addr}, Secret: []byte("s")})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	set.Open(0, 3)
	if n := set.InFlight(); n > 3 || n < 0 {
		t.Fatalf("in flight right after Open: %d", n)
	}
	waitFor(t, "the failures", func() bool { return set.Stats().Failed == 3 })
	if set.InFlight() != 0 {
		t.Fatalf("in flight %d after all failed", set.InFlight())
	}
}

// newTestLoop returns a loop with one ready connection on one end of a socket pair, and the
// other end.
func newTestLoop(t *testing.T) (*loop, *conn, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := &Set{cfg: Config{Secret: []byte("s"), UserPrefix: "u", TokenTTL: time.Hour}}
	l, err := newLoop(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.Close(fds[0])
		unix.Close(fds[1])
		unix.Close(l.evfd)
		l.epfile.Close()
	})
	l.conns = append(l.conns, conn{fd: int32(fds[0]), state: stateReady})
	return l, &l.conns[0], fds[1]
}

func eventFrames(n int, phase int) []byte {
	var b []byte
	now := time.Now().UnixMicro()
	for range n {
		p := wsframe.AppendStamp([]byte(`42["bench",{`), phase, now)
		p = append(p, "}]"...)
		b = append(b, 0x81, byte(len(p)))
		b = append(b, p...)
	}
	return b
}

// The receive path of a ready connection (events and pings) must not allocate.
func TestReceivePathDoesNotAllocate(t *testing.T) {
	l, c, peer := newTestLoop(t)
	data := append(eventFrames(8, 2), 0x81, 1, '2') // 8 events and an Engine.IO ping
	drain := make([]byte, 4096)
	allocs := testing.AllocsPerRun(200, func() {
		buf := append(l.buf[:0], data...)
		if used := l.process(c, 0, buf, time.Now()); used != len(data) {
			t.Fatalf("used %d of %d bytes", used, len(data))
		}
		unix.Read(peer, drain) // the pongs
	})
	if allocs != 0 {
		t.Fatalf("receive path allocates %v times per read", allocs)
	}
	if c.state != stateReady || l.phases[2].Count() == 0 || l.c.pings.Load() == 0 {
		t.Fatalf("state %d, %d events, %d pings", c.state, l.phases[2].Count(), l.c.pings.Load())
	}
}

// Frames cut anywhere by the reads are reassembled.
func TestReadReassemblesSplitFrames(t *testing.T) {
	data := eventFrames(3, 1)
	for chunk := 1; chunk <= len(data); chunk++ {
		l, c, peer := newTestLoop(t)
		for off := 0; off < len(data); off += chunk {
			end := min(off+chunk, len(data))
			if _, err := unix.Write(peer, data[off:end]); err != nil {
				t.Fatal(err)
			}
			l.read(c, 0)
		}
		if got := l.phases[1].Count(); got != 3 || c.state != stateReady || len(c.pend) != 0 {
			t.Fatalf("chunks of %d: %d events, state %d, %d bytes pending", chunk, got, c.state, len(c.pend))
		}
	}
}

// A protocol violation closes the connection instead of stalling or panicking.
func TestBadFrameDrops(t *testing.T) {
	l, c, _ := newTestLoop(t)
	l.process(c, 0, []byte{0x81, 0x85, 1, 2, 3, 4, 5}, time.Now()) // masked server frame
	if c.state != stateClosed || l.c.dropped.Load() != 1 {
		t.Fatalf("state %d dropped %d", c.state, l.c.dropped.Load())
	}
}

// Endless fragments close the connection rather than grow its buffer.
func TestEndlessFragmentsDrop(t *testing.T) {
	l, c, _ := newTestLoop(t)
	chunk := make([]byte, 60000)
	frame := append([]byte{0x01, 126, byte(len(chunk) >> 8), byte(len(chunk))}, chunk...) // text, not final
	l.process(c, 0, frame, time.Now())
	cont := append([]byte{0x00, 126, byte(len(chunk) >> 8), byte(len(chunk))}, chunk...)
	for i := 0; i < 100 && c.state != stateClosed; i++ {
		l.process(c, 0, cont, time.Now())
	}
	if c.state != stateClosed || len(c.frag) != 0 {
		t.Fatalf("state %d with %d bytes of fragments", c.state, len(c.frag))
	}
}
