package resp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tomato-code/realtime/internal/rawio"
)

// Defaults of what the Options leave at zero, as go-redis documents them.
const (
	defaultDialTimeout  = 5 * time.Second
	defaultWriteTimeout = 5 * time.Second
)

// keepWriteBuffer is the largest command buffer kept between commands: a SUBSCRIBE of
// hundreds of channels is rare, and its buffer is not worth holding for the connection's life.
const keepWriteBuffer = 64 << 10

// Subscriber is one Pub/Sub connection to Redis. See the package documentation for what may
// be called concurrently.
type Subscriber struct {
	conn net.Conn

	// Read side, owned by the goroutine that calls Receive.
	small    []byte    // the buffer of ReadBufferSize bytes, kept
	buf      []byte    // small, or a larger one while a large message is read
	r, w     int       // buf[r:w] is read from the connection and not parsed yet
	deadline time.Time // the read deadline set on conn
	err      error     // a read or protocol error: the stream is unusable from then on

	// Write side.
	wmu          sync.Mutex
	wbuf         []byte
	writeTimeout time.Duration // 0: no write deadline

	closeOnce sync.Once
	closeErr  error
}

// Dial connects to the Redis server of opts (Network and Addr, through opts.Dialer when it is
// set), authenticates and names the connection. ctx bounds it all, as does opts.DialTimeout
// (default 5s).
//
// As in go-redis, opts.TLSConfig applies to the connections of the default dialer: a Dialer
// of the caller's makes its own, so that publisher and subscriber connections, made by the
// same Options, are alike. Options that concern pools, retries, read timeouts, RESP3 or the
// DB number have no use here and are ignored.
func Dial(ctx context.Context, opts *goredis.Options) (*Subscriber, error) {
	if opts == nil {
		opts = &goredis.Options{}
	}
	if opts.StreamingCredentialsProvider != nil {
		return nil, errors.New("resp: StreamingCredentialsProvider is not supported")
	}
	timeout := opts.DialTimeout
	if timeout <= 0 {
		timeout = defaultDialTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := dial(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("resp: dial: %w", err)
	}
	s := &Subscriber{conn: conn, small: make([]byte, ReadBufferSize)}
	s.buf = s.small
	switch {
	case opts.WriteTimeout > 0:
		s.writeTimeout = opts.WriteTimeout
	case opts.WriteTimeout == 0:
		s.writeTimeout = defaultWriteTimeout
	}
	if err := s.handshake(ctx, opts); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// dial opens the connection, TLS included.
func dial(ctx context.Context, opts *goredis.Options) (net.Conn, error) {
	network, addr := opts.Network, opts.Addr
	if network == "" {
		network = "tcp"
	}
	if addr == "" {
		addr = "localhost:6379"
		if network == "unix" {
			addr = "/tmp/redis.sock"
		}
	}
	if opts.Dialer != nil {
		return opts.Dialer(ctx, network, addr)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	// Raw reads and writes (internal/rawio): with the pattern subscription a node wakes for
	// every broadcast of the cluster, and each wake would also wake the runtime's monitor.
	conn = rawio.Wrap(conn)
	if opts.TLSConfig == nil {
		return conn, nil
	}
	cfg := opts.TLSConfig
	if cfg.ServerName == "" {
		// tls.Client verifies the name it is given, and sends it (SNI); tls.Dial, which
		// go-redis uses, takes it from the address. Do the same.
		host, _, splitErr := net.SplitHostPort(addr)
		if splitErr != nil {
			host = addr
		}
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return tc, nil
}

// handshake authenticates and names the connection: its commands go out in one write and
// their answers, each +OK, are read in order.
func (s *Subscriber) handshake(ctx context.Context, opts *goredis.Options) error {
	user, pass, err := credentials(ctx, opts)
	if err != nil {
		return fmt.Errorf("resp: credentials: %w", err)
	}
	var b []byte
	var sent []string // the commands, in the order of their replies
	// As go-redis: without a password there is nothing to send.
	if pass != "" {
		if user != "" {
			b = appendCommand(b, "AUTH", user, pass)
		} else {
			b = appendCommand(b, "AUTH", pass)
		}
		sent = append(sent, "AUTH")
	}
	if opts.ClientName != "" {
		b = appendCommand(b, "CLIENT", "SETNAME", opts.ClientName)
		sent = append(sent, "CLIENT SETNAME")
	}
	if len(sent) == 0 {
		return nil
	}
	// The end of ctx (its deadline among others) interrupts a read or write in progress,
	// after which ctx.Err() says why.
	stop := context.AfterFunc(ctx, func() { _ = s.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := s.conn.Write(b); err != nil {
		return fmt.Errorf("resp: handshake: %w", orCtx(ctx, err))
	}
	for _, cmd := range sent {
		m, err := s.next(time.Time{})
		if err != nil {
			return fmt.Errorf("resp: %s: %w", cmd, orCtx(ctx, err))
		}
		if m.Kind != kindStatus || string(m.Payload) != "OK" {
			return fmt.Errorf("resp: %s: %w: unexpected %s reply", cmd, ErrProtocol, m.Kind)
		}
	}
	if !stop() {
		return fmt.Errorf("resp: handshake: %w", ctx.Err())
	}
	return nil
}

// orCtx returns ctx's error when ctx ended, err otherwise: a deadline set in the past at the
// end of ctx is that end.
func orCtx(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func credentials(ctx context.Context, opts *goredis.Options) (user, pass string, err error) {
	switch {
	case opts.CredentialsProviderContext != nil: // preferred over the other, as in go-redis
		return opts.CredentialsProviderContext(ctx)
	case opts.CredentialsProvider != nil:
		user, pass = opts.CredentialsProvider()
		return user, pass, nil
	}
	return opts.Username, opts.Password, nil
}

// Subscribe subscribes to channels. Redis confirms each with a KindSubscribe message.
func (s *Subscriber) Subscribe(channels ...string) error {
	return s.command("SUBSCRIBE", channels, true)
}

// Unsubscribe unsubscribes from channels, or from every channel when none is given. Redis
// confirms each with a KindUnsubscribe message.
func (s *Subscriber) Unsubscribe(channels ...string) error {
	return s.command("UNSUBSCRIBE", channels, false)
}

// PSubscribe subscribes to patterns. Redis confirms each with a KindPSubscribe message.
func (s *Subscriber) PSubscribe(patterns ...string) error {
	return s.command("PSUBSCRIBE", patterns, true)
}

// PUnsubscribe unsubscribes from patterns, or from every pattern when none is given. Redis
// confirms each with a KindPUnsubscribe message.
func (s *Subscriber) PUnsubscribe(patterns ...string) error {
	return s.command("PUNSUBSCRIBE", patterns, false)
}

// Ping asks Redis for a KindPong message: a connection that answers is alive, whatever
// traffic it carries.
func (s *Subscriber) Ping() error {
	return s.command("PING", nil, false)
}

// command writes one command in one write. A write that fails may have left part of the
// command on the connection, after which nothing Redis reads is in step: the connection is
// closed, and Receive fails.
func (s *Subscriber) command(name string, args []string, needsArgs bool) error {
	if needsArgs && len(args) == 0 {
		return fmt.Errorf("resp: %s needs at least one name", name)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	b := appendCommand(s.wbuf[:0], name, args...)
	if cap(b) <= keepWriteBuffer {
		s.wbuf = b
	}
	if s.writeTimeout > 0 {
		if err := s.conn.SetWriteDeadline(time.Now().Add(s.writeTimeout)); err != nil {
			_ = s.Close()
			return fmt.Errorf("resp: %s: %w", name, err)
		}
	}
	if _, err := s.conn.Write(b); err != nil {
		_ = s.Close()
		return fmt.Errorf("resp: %s: %w", name, err)
	}
	return nil
}

// appendCommand appends a command as Redis reads it: an array of bulk strings.
func appendCommand(b []byte, name string, args ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(1+len(args)), 10)
	b = append(b, '\r', '\n')
	b = appendBulk(b, name)
	for _, a := range args {
		b = appendBulk(b, a)
	}
	return b
}

func appendBulk(b []byte, s string) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// Close closes the connection; a Receive in progress returns an error. Later calls return
// the first one's result.
func (s *Subscriber) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.conn.Close() })
	return s.closeErr
}
