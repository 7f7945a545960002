package resp

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tomato-code/realtime/internal/testutil"
	"github.com/tomato-code/realtime/test/cluster"
)

// Every kind of message, against a real Redis, with the counts it reports.
func TestSubscribeAndReceive(t *testing.T) {
	s, pub := dialRedis(t)
	ctx := context.Background()
	k := cluster.Key(t)
	must(t, s.Subscribe(k+"a", k+"b"))
	expect(t, s, KindSubscribe, "", k+"a", "", 1)
	expect(t, s, KindSubscribe, "", k+"b", "", 2)
	must(t, s.PSubscribe(k+"p*"))
	expect(t, s, KindPSubscribe, "", k+"p*", "", 3)

	must(t, pub.Publish(ctx, k+"a", "one").Err())
	must(t, pub.Publish(ctx, k+"px", "two").Err())
	must(t, pub.Publish(ctx, k+"b", "").Err())
	expect(t, s, KindMessage, "", k+"a", "one", 0)
	expect(t, s, KindPMessage, k+"p*", k+"px", "two", 0)
	expect(t, s, KindMessage, "", k+"b", "", 0)

	must(t, s.Ping())
	expect(t, s, KindPong, "", "", "", 0)
	must(t, s.Unsubscribe(k+"a"))
	expect(t, s, KindUnsubscribe, "", k+"a", "", 2)
	must(t, s.PUnsubscribe())
	expect(t, s, KindPUnsubscribe, "", k+"p*", "", 1)
	must(t, s.Unsubscribe())
	expect(t, s, KindUnsubscribe, "", k+"b", "", 0)
	// Out of subscribed mode, PING answers +PONG: still a pong.
	must(t, s.Ping())
	expect(t, s, KindPong, "", "", "", 0)
	// Nothing to unsubscribe: the channel is null.
	must(t, s.Unsubscribe())
	m := receive(t, s)
	if m.Kind != KindUnsubscribe || m.Channel != nil || m.Count != 0 {
		t.Errorf("UNSUBSCRIBE of nothing: %s %q %d", m.Kind, m.Channel, m.Count)
	}
}

// Messages larger than the read buffer arrive whole, between small ones, and the buffer grown
// for them is given back at the next Receive.
func TestLargeMessages(t *testing.T) {
	s, pub := dialRedis(t)
	ctx := context.Background()
	ch := cluster.Key(t)
	must(t, s.Subscribe(ch))
	expect(t, s, KindSubscribe, "", ch, "", 1)
	sizes := []int{10, ReadBufferSize - 40, ReadBufferSize, 3*ReadBufferSize + 7, 1 << 20, 5, 4 << 20, 4 << 20, 1}
	payloads := make([]string, len(sizes))
	for i, n := range sizes {
		payloads[i] = strings.Repeat(string(rune('a'+i)), n)
		must(t, pub.Publish(ctx, ch, payloads[i]).Err())
	}
	for _, p := range payloads {
		expect(t, s, KindMessage, "", ch, p, 0)
	}
	must(t, s.Ping())
	expect(t, s, KindPong, "", "", "", 0)
	if len(s.buf) != ReadBufferSize {
		t.Errorf("after the large messages the buffer is %d bytes, want %d back", len(s.buf), ReadBufferSize)
	}
}

// A timeout is a net.Error, and the connection goes on after it.
func TestReceiveTimeout(t *testing.T) {
	s, pub := dialRedis(t)
	ch := cluster.Key(t)
	must(t, s.Subscribe(ch))
	expect(t, s, KindSubscribe, "", ch, "", 1)
	start := time.Now()
	_, err := s.Receive(time.Now().Add(50 * time.Millisecond))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Receive of a silent connection: %v, want a timeout", err)
	}
	if took := time.Since(start); took > wait/2 {
		t.Errorf("the timeout came after %v", took)
	}
	must(t, pub.Publish(context.Background(), ch, "after").Err())
	expect(t, s, KindMessage, "", ch, "after", 0)
}

// Commands go out from other goroutines while one receives: PINGs from several at once, each
// answered.
func TestConcurrentCommands(t *testing.T) {
	s, _ := dialRedis(t)
	ch := cluster.Key(t)
	must(t, s.Subscribe(ch))
	expect(t, s, KindSubscribe, "", ch, "", 1)
	const senders, pings = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for range senders {
		wg.Go(func() {
			for range pings {
				if err := s.Ping(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for range senders * pings {
		expect(t, s, KindPong, "", "", "", 0)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Close ends a Receive in progress, and later commands fail.
func TestCloseEndsReceive(t *testing.T) {
	s, _ := dialRedis(t)
	done := make(chan error, 1)
	go func() {
		_, err := s.Receive(time.Time{})
		done <- err
	}()
	must(t, s.Ping()) // +PONG arrives first: Receive returns it, then waits again
	must(t, s.Close())
	select {
	case err := <-done:
		if err != nil && errors.Is(err, ErrProtocol) {
			t.Fatalf("Receive: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Receive did not return after Close")
	}
	if _, err := s.Receive(time.Time{}); err == nil {
		t.Error("Receive after Close succeeded")
	}
	if err := s.Subscribe("x"); err == nil {
		t.Error("Subscribe after Close succeeded")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A user whose ACL allows some channels: AUTH with a user name, the name set by CLIENT
// SETNAME, an error reply (NOPERM) to a denied SUBSCRIBE that leaves the connection usable,
// and a wrong password that fails Dial with Redis's error.
func TestAuthAndErrorReply(t *testing.T) {
	testutil.CheckGoroutines(t)
	opts := redisOptions(t)
	admin := goredis.NewClient(opts)
	defer admin.Close()
	ctx := context.Background()
	k := cluster.Key(t)
	user, pass := k+"-user", "secret-"+k
	must(t, admin.Do(ctx, "ACL", "SETUSER", user, "on", ">"+pass, "resetchannels", "&"+k+"ok*",
		"+subscribe", "+psubscribe", "+unsubscribe", "+punsubscribe", "+ping", "+client|setname").Err())
	t.Cleanup(func() { admin.Do(ctx, "ACL", "DELUSER", user) })

	o := *opts
	o.Username, o.Password, o.ClientName = user, pass, k+"-name"
	s := dialOpts(t, &o)
	list, err := admin.ClientList(ctx).Result()
	must(t, err)
	if !strings.Contains(list, "name="+k+"-name") || !strings.Contains(list, "user="+user) {
		t.Errorf("CLIENT LIST has no connection named %s of %s:\n%s", k+"-name", user, list)
	}
	must(t, s.Subscribe(k+"denied"))
	_, err = s.Receive(time.Now().Add(wait))
	var re *Error
	if !errors.As(err, &re) || !strings.HasPrefix(re.Text, "NOPERM") {
		t.Fatalf("SUBSCRIBE of a denied channel: %v, want a NOPERM *Error", err)
	}
	must(t, s.Subscribe(k+"ok1"))
	expect(t, s, KindSubscribe, "", k+"ok1", "", 1)

	// The same user through the providers, the context one first.
	o.Password, o.ClientName = "", ""
	o.CredentialsProvider = func() (string, string) { return user, pass }
	dialOpts(t, &o).Close()
	o.CredentialsProviderContext = func(context.Context) (string, string, error) {
		return "", "", errors.New("vault sealed")
	}
	if _, err := Dial(ctx, &o); err == nil || !strings.Contains(err.Error(), "vault sealed") {
		t.Errorf("Dial with a failing credentials provider: %v", err)
	}

	o = *opts
	o.Username, o.Password = user, "wrong"
	if _, err := Dial(ctx, &o); !errors.As(err, &re) || !strings.HasPrefix(re.Text, "WRONGPASS") {
		t.Errorf("Dial with a wrong password: %v, want a WRONGPASS *Error", err)
	}
}

// Options.Dialer, when set, makes the connection.
func TestCustomDialer(t *testing.T) {
	testutil.CheckGoroutines(t)
	opts := redisOptions(t)
	o := *opts
	var dialed []string
	o.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed = append(dialed, network+" "+addr)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	s := dialOpts(t, &o)
	if want := "tcp " + opts.Addr; len(dialed) != 1 || dialed[0] != want {
		t.Errorf("dialed %q, want [%q]", dialed, want)
	}
	must(t, s.Ping())
	expect(t, s, KindPong, "", "", "", 0)
}

// Misuse is an error, not a command Redis refuses later.
func TestSubscribeNothing(t *testing.T) {
	s, _ := dialRedis(t)
	if err := s.Subscribe(); err == nil {
		t.Error("SUBSCRIBE of nothing was sent")
	}
	if err := s.PSubscribe(); err == nil {
		t.Error("PSUBSCRIBE of nothing was sent")
	}
	must(t, s.Ping()) // and the connection is as it was
	expect(t, s, KindPong, "", "", "", 0)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
