package redis

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tomato-code/realtime/adapter/redis/resp"
	"github.com/tomato-code/realtime/adapter/redis/wire"
	"github.com/tomato-code/realtime/internal/rawio"
	"github.com/tomato-code/realtime/socketio"
)

// SubscriptionMode says how a node subscribes to broadcasts.
type SubscriptionMode int

const (
	// SubscribePattern subscribes to "<key>#<nsp>#*" as Node.js does: every node receives
	// every broadcast of the namespace and drops those for rooms it does not hold. It keeps
	// the order of a cluster-wide join and a broadcast that follows it (see the package doc),
	// which is why it is the default.
	SubscribePattern SubscriptionMode = iota
	// SubscribeRooms subscribes to the namespace channel and to the channel of every room
	// that has a local socket: a node receives nothing for rooms it does not hold, at the
	// price of a window of about one Redis round trip after a room's first local join. A
	// connecting socket's CONNECT reply waits for the rooms its middleware joined
	// (Adapter.AwaitJoined), so the window remains only for joins made after the connect.
	// Rooms named like socket ids (idRoomLen bytes) come through one pattern instead.
	SubscribeRooms
)

// idRoomLen is the length of a socket id, 20 characters on this server and on Node.js. In
// SubscribeRooms mode every room of that length, each socket's own room among them, is
// received through one pattern per namespace rather than one channel each: a channel costs
// the node about 130 bytes of heap (its entry in Cluster.subs and its name;
// BenchmarkRoomChannelHeap), which every connection would pay once more, while
// broadcasts to one socket of another node are rare enough that receiving them everywhere, to
// be dropped, is cheap.
const idRoomLen = 20

// isIDRoom reports whether room is named like a socket id (see idRoomLen).
func isIDRoom(room string) bool { return len(room) == idRoomLen }

// Config configures a Cluster. Zero fields take the defaults written next to them.
type Config struct {
	// URL is the Redis URL, as redis.ParseURL reads it (redis://[user:pass@]host:port/db,
	// rediss:// for TLS). Required unless Options is set.
	URL string
	// Options, when not nil, configure the Redis connections instead of URL: go-redis's client,
	// which publishes, and the subscriber connection, which takes from them what package resp
	// says it uses.
	Options *goredis.Options
	// Key is the channel prefix (the "key" option of @socket.io/redis-adapter). Every
	// server of a cluster uses the same. Default "socket.io".
	Key string
	// RequestsTimeout bounds how long a cluster request waits for the other servers'
	// answers (the "requestsTimeout" of @socket.io/redis-adapter). Default 5s.
	RequestsTimeout time.Duration
	// Subscription is how broadcasts are subscribed to. Default SubscribePattern.
	Subscription SubscriptionMode
	// PublishQueueBytes bounds the messages waiting to be published, while Redis is slow or
	// unreachable; beyond it messages are dropped (Stats.PublishDropped). Default 32 MiB.
	PublishQueueBytes int
	// ReceiveQueue bounds the received messages waiting to be handled. Default 65536.
	ReceiveQueue int
	// HealthCheckInterval is how long the subscriber connection may be silent before it is
	// pinged. Default 5s.
	HealthCheckInterval time.Duration
	// Logger receives the adapter's few log lines. Default slog.Default().
	Logger *slog.Logger
}

// Errors of cluster operations.
var (
	// ErrUnavailable: Redis cannot be reached now, so the other servers cannot be asked.
	// Local parts of operations were done.
	ErrUnavailable = errors.New("redis adapter: Redis unavailable")
	// ErrTimeout: some servers did not answer within RequestsTimeout (or the context).
	ErrTimeout = errors.New("redis adapter: timeout waiting for the other servers")
	// ErrQueueFull: the publish queue is full; the message was not sent to other servers.
	ErrQueueFull = errors.New("redis adapter: publish queue full")
	// ErrClosed: the Cluster or the adapter is closed.
	ErrClosed = errors.New("redis adapter: closed")
)

// Cluster connects a server process to a Redis cluster bus and makes its namespaces'
// adapters. Create it with New, pass NewAdapter as socketio.Config.Adapter, and Close it after
// the socketio server shut down.
type Cluster struct {
	cfg    Config
	log    *slog.Logger
	client *goredis.Client
	opts   *goredis.Options // the client's options, which the subscriber connection shares

	// subMu guards sub, the subscriber connection, nil between connections. connect installs
	// a connection, and the subscription loop takes it, with c.mu held as well (see connect):
	// c.mu is taken first.
	subMu sync.Mutex
	sub   *resp.Subscriber

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	health *healthState
	stats  counters
	out    outbox
	in     *inQueue // received broadcasts and requests, in order, for the handler goroutine
	// requestsIn counts the requests in in and in handling: while there are none, rooms are
	// as every received request left them, and a broadcast for a room this node lacks can be
	// dropped as it arrives.
	requestsIn atomic.Int32

	mu       sync.RWMutex
	closed   bool
	adapters map[string]*Adapter // by namespace name
	// subs holds, by key (a channel, or "p:" and a pattern), the route and subscription state
	// of every channel the node wants and every subscription whose state is not settled yet
	// (see sub): with SubscribeRooms it has an entry per room held, so everything a
	// subscription needs is in one entry, under one key string. The subscriber connection keeps
	// no record of its own: this is the one.
	subs     map[string]*sub
	patterns map[string]*Adapter // pattern -> adapter
	dirty    map[string]struct{} // channels and patterns whose subscription must be checked
	wake     chan struct{}       // a dirty entry was added

	// How many entries of subs are had, confirmed, and both: when matched == haveCount ==
	// confirmedCount, nothing is dirty and nothing is in flight, every wanted subscription is
	// live and no other is.
	haveCount, confirmedCount, matched int
	// inflight is the sum of sub.inflight, the commands Redis has not answered yet. The counts
	// above do not show them: a SUBSCRIBE and an UNSUBSCRIBE of one channel, both unanswered,
	// leave the counts as they were before the pair.
	inflight    int
	syncChanged chan struct{} // closed and replaced when that may have changed
	// joinWaits are the connecting sockets waiting for channels to be live (see
	// Adapter.AwaitJoined), by channel.
	joinWaits map[string][]*joinWait

	// retry, while set, will wake the subscription loop to send again the subscriptions whose
	// command failed (sub.resend, see sent); retryBackoff spaces the attempts while Redis is
	// unreachable.
	retry        *time.Timer
	retryBackoff backoff

	// testHook, when set by tests, sees every message the subscriber receives. channel is a
	// view of the connection's buffer, valid during the call: the hook must not keep it.
	testHook atomic.Pointer[func(channel string)]
	// testSubscribeFault, when set by tests, can fail a (P)SUBSCRIBE command before it is sent,
	// as a connection that breaks under it does.
	testSubscribeFault atomic.Pointer[func(names []string) error]
	// testPassWorkedOut, when set by tests, is called by the subscription loop with the
	// SUBSCRIBE names of a pass it has worked out, once it has released c.mu and before it sends
	// the pass: a test can replace the connection in between.
	testPassWorkedOut atomic.Pointer[func(subscribe []string)]
}

type routeKind uint8

const (
	routeBroadcast routeKind = iota
	routeRequest
	routeResponse
)

// sub is the state of one subscription key. A broadcast channel's room is not kept: it is
// the channel's text between the namespace prefix and the final "#" (wire.Channels.RoomOf),
// and 16 bytes less an entry count with one entry per room.
type sub struct {
	// a handles the channel's messages, as kind says, while the channel is wanted; nil
	// otherwise, and always for a pattern (its adapter is in Cluster.patterns).
	a *Adapter
	// inflight counts the (un)subscribe commands sent that Redis has not answered yet: the
	// last answer tells the state only when none is left.
	inflight int32
	kind     routeKind
	// have: wanted as of the last subscription pass, so subscribed or about to be.
	have bool
	// confirmed: Redis confirmed the subscription on the current connection.
	confirmed bool
	// resend: the last subscription command failed (see sent).
	resend bool
}

// idle reports whether nothing refers to the entry any more: it is neither wanted, nor
// subscribed, nor waiting for an answer or a retry.
func (s *sub) idle() bool {
	return s.a == nil && !s.have && !s.confirmed && s.inflight == 0 && !s.resend
}

type inbound struct {
	a       *Adapter
	kind    routeKind
	room    string
	payload []byte
}

// New creates a Cluster and starts connecting to Redis. It does not wait for Redis: a node
// starts serving its local sockets at once and joins the cluster when Redis answers (see
// Ready and WaitReady).
func New(cfg Config) (*Cluster, error) {
	opts := cfg.Options
	if opts == nil {
		if cfg.URL == "" {
			return nil, errors.New("redis adapter: Config.URL or Config.Options is required")
		}
		var err error
		if opts, err = goredis.ParseURL(cfg.URL); err != nil {
			return nil, fmt.Errorf("redis adapter: %w", err)
		}
	} else {
		copied := *opts // MaxRetries is changed below: never the caller's struct
		opts = &copied
	}
	if cfg.Key == "" {
		cfg.Key = wire.DefaultKey
	}
	if cfg.RequestsTimeout <= 0 {
		cfg.RequestsTimeout = 5 * time.Second
	}
	if cfg.PublishQueueBytes <= 0 {
		cfg.PublishQueueBytes = 32 << 20
	}
	if cfg.ReceiveQueue <= 0 {
		cfg.ReceiveQueue = 65536
	}
	if cfg.HealthCheckInterval <= 0 {
		cfg.HealthCheckInterval = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	// Our own backoff paces reconnects; go-redis retrying inside a command would only delay
	// the moment we notice that Redis is gone.
	opts.MaxRetries = -1
	// Both connections read and write with raw system calls (internal/rawio): a node that is
	// idle between messages would otherwise wake the runtime's monitor thread for each one.
	// go-redis's own dialer still does the dialling (and TLS, whose connections stay as they
	// are); the subscriber connection dials through the same function.
	dial := opts.Dialer
	if dial == nil {
		dial = goredis.NewDialer(opts)
	}
	opts.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return rawio.Wrap(conn), nil
	}
	c := &Cluster{
		cfg:      cfg,
		log:      cfg.Logger,
		opts:     opts,
		client:   goredis.NewClient(opts),
		health:   newHealthState(cfg.Logger),
		in:       newInQueue(cfg.ReceiveQueue),
		adapters: make(map[string]*Adapter),
		subs:     make(map[string]*sub),
		patterns: make(map[string]*Adapter),
		dirty:    make(map[string]struct{}),
		wake:     make(chan struct{}, 1),

		retryBackoff: backoff{min: 50 * time.Millisecond, max: 5 * time.Second},
		syncChanged:  make(chan struct{}),
		joinWaits:    make(map[string][]*joinWait),
	}
	c.out.init(cfg.PublishQueueBytes, &c.stats)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.wg.Add(4)
	go c.receiveLoop()
	go c.handleLoop()
	go c.subscribeLoop()
	go c.publishLoop()
	return c, nil
}

// NewAdapter returns the adapter of namespace ns; it is a socketio.AdapterFactory.
func (c *Cluster) NewAdapter(ns socketio.LocalNamespace) socketio.Adapter {
	return c.newAdapter(ns)
}

// Ready reports whether the node is connected to the cluster (see Health).
func (c *Cluster) Ready() bool { return c.health.get().Ready }

// Health returns the state of the connection to Redis.
func (c *Cluster) Health() Health { return c.health.get() }

// Stats returns the counters since New.
func (c *Cluster) Stats() Stats { return c.stats.snapshot() }

// WaitReady waits until the node is connected to the cluster or ctx ends.
func (c *Cluster) WaitReady(ctx context.Context) error {
	for {
		changed, ready := c.health.wait()
		if ready {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.ctx.Done():
			return ErrClosed
		}
	}
}

// Close stops the Cluster: pending requests fail, queued messages are dropped, the Redis
// connections close. Close the socketio server first, so that its adapters close cleanly.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	if c.retry != nil {
		c.retry.Stop()
		c.retry = nil
	}
	adapters := make([]*Adapter, 0, len(c.adapters))
	for _, a := range c.adapters {
		adapters = append(adapters, a)
	}
	c.mu.Unlock()
	for _, a := range adapters {
		a.failPending()
	}
	c.out.close()
	c.cancel()
	var err error
	c.subMu.Lock() // after cancel: connect installs no new connection from now on
	if c.sub != nil {
		err = c.sub.Close()
	}
	c.subMu.Unlock()
	c.wg.Wait()
	return errors.Join(err, c.client.Close())
}

// register makes a the adapter of its namespace and queues the subscriptions of its fixed
// channels.
func (c *Cluster) register(a *Adapter) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.adapters[a.ns.Name()] = a
	c.route(a.ch.Request, a, routeRequest)
	c.route(a.ch.Response, a, routeResponse)
	c.route(a.ch.SpecificResponse(a.uid), a, routeResponse)
	if c.cfg.Subscription == SubscribePattern {
		p := a.ch.Pattern()
		c.patterns[p] = a
		c.dirty["p:"+p] = struct{}{}
	} else {
		c.route(a.ch.Broadcast, a, routeBroadcast)
		c.patterns[strings.TrimPrefix(a.idRooms, "p:")] = a
		c.dirty[a.idRooms] = struct{}{}
	}
	c.notify()
	return nil
}

// unregister drops the routes of a and queues the unsubscriptions.
func (c *Cluster) unregister(a *Adapter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.adapters[a.ns.Name()] == a {
		delete(c.adapters, a.ns.Name())
	}
	for ch, s := range c.subs {
		if s.a == a {
			s.a = nil // the next pass unsubscribes it and lets the entry go
			c.dirty[ch] = struct{}{}
		}
	}
	for p, pa := range c.patterns {
		if pa == a {
			delete(c.patterns, p)
			c.dirty["p:"+p] = struct{}{}
		}
	}
	c.notify()
}

// roomJoined is called after a local socket joined room: the room's channel must be
// subscribed unless it already is.
func (c *Cluster) roomJoined(a *Adapter, room string) {
	if isIDRoom(room) {
		return // the namespace's pattern for such rooms brings their broadcasts
	}
	ch := a.ch.Room(room)
	c.mu.RLock()
	known := c.routed(ch)
	c.mu.RUnlock()
	if known {
		return
	}
	c.mu.Lock()
	if !c.routed(ch) && !c.closed && c.adapters[a.ns.Name()] == a {
		c.route(ch, a, routeBroadcast)
		c.notify()
	}
	c.mu.Unlock()
}

// routed reports whether channel ch has a handler, so is wanted or about to be checked.
// c.mu is held, for reading at least.
func (c *Cluster) routed(ch string) bool {
	s := c.subs[ch]
	return s != nil && s.a != nil
}

// route makes a the handler of channel ch and queues the check of its subscription. An
// entry made here is keyed by ch, the one string kept for the channel: the subscription pass
// copies it into the command it writes. c.mu is held.
func (c *Cluster) route(ch string, a *Adapter, kind routeKind) {
	s := c.subs[ch]
	if s == nil {
		s = &sub{}
		c.subs[ch] = s
	}
	s.a, s.kind = a, kind
	c.dirty[ch] = struct{}{}
}

// roomMaybeEmpty is called after a local socket left room: when no local socket is left in
// it, its channel is unsubscribed.
func (c *Cluster) roomMaybeEmpty(a *Adapter, room string) {
	if isIDRoom(room) || a.mem.HasRoom(room) {
		return
	}
	ch := a.ch.Room(room)
	c.mu.Lock()
	if s := c.subs[ch]; s != nil && s.a == a {
		c.dirty[ch] = struct{}{}
		c.notify()
	}
	c.mu.Unlock()
}

// subscriber returns the current subscriber connection, nil between connections.
func (c *Cluster) subscriber() *resp.Subscriber {
	c.subMu.Lock()
	defer c.subMu.Unlock()
	return c.sub
}

// notify wakes the subscription loop; c.mu is held.
func (c *Cluster) notify() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// newID returns a random id of n characters of the base64url alphabet, like Node's uid2.
func newID(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]%64]
	}
	return string(b)
}
