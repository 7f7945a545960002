package redis

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/tomato-code/realtime/adapter/redis/resp"
)

// subscribeChunk bounds the channels of one SUBSCRIBE command.
const subscribeChunk = 512

// receiveLoop owns the subscriber connection: it connects, reads until the connection
// fails, closes it and connects again, with backoff. There is one connection at a time, the
// old one closed before the next is dialled, so the request channel keeps exactly one
// subscription from this process (once Redis has seen the close).
func (c *Cluster) receiveLoop() {
	defer c.wg.Done()
	bo := backoff{min: 50 * time.Millisecond, max: 5 * time.Second}
	// answered: the current connection has answered (a message, a confirmation or a pong);
	// failed: a connection or an attempt failed since the last answer, so the next answer is
	// a reconnection; refused: the last connection ended with an error reply, so the next
	// counts as answering only once Redis has confirmed every subscription, lest a refusal
	// that comes again after the first confirmations makes the node flap between ready and
	// not at the shortest backoff.
	answered, failed, refused := false, false, false
	for {
		conn, err := c.connect()
		if err == nil {
			err = c.receive(conn, func() {
				if answered || refused && !c.isSynced() {
					return
				}
				refused = false
				if failed {
					c.stats.reconnects.Add(1)
					failed = false
				}
				bo.reset()
				answered = true
				c.health.setSubscribed(true, nil)
			})
			c.disconnect(conn)
		}
		if c.ctx.Err() != nil {
			return
		}
		if answered || !failed {
			c.health.setSubscribed(false, err)
			c.lostConfirmations()
		}
		if reply := (*resp.Error)(nil); errors.As(err, &reply) {
			refused = true
		}
		answered, failed = false, true
		select {
		case <-time.After(bo.next()):
		case <-c.ctx.Done():
			return
		}
	}
}

// connect dials the subscriber connection and makes it the current one. Nothing is
// subscribed on it yet: every wanted channel and pattern is marked for the subscription loop.
func (c *Cluster) connect() (*resp.Subscriber, error) {
	conn, err := resp.Dial(c.ctx, c.opts)
	if err != nil {
		return nil, err
	}
	// The connection is installed and the state reset for it under one hold of c.mu: a
	// subscription pass takes the connection under c.mu too, with the state it works from, so
	// a pass worked out before the reset cannot send its commands on this connection. Redis
	// would answer them here, after the reset forgot them: a SUBSCRIBE of a channel no longer
	// wanted by the next pass would leave a subscription that no pass unsubscribes.
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subMu.Lock()
	if c.ctx.Err() != nil { // closing: Close closed whatever c.sub was once cancelled
		c.subMu.Unlock()
		_ = conn.Close()
		return nil, ErrClosed
	}
	c.sub = conn
	c.subMu.Unlock()
	for key, s := range c.subs {
		if s.have {
			c.dirty[key] = struct{}{}
		}
		c.set(s, false, false)
		s.inflight, s.resend = 0, false
		c.release(key, s)
	}
	c.inflight = 0 // the old connection answers nothing more
	c.syncNotify()
	c.notify()
	return conn, nil
}

// disconnect closes conn, which failed, and leaves the Cluster without a connection: the
// subscription loop's commands fail until the next one.
func (c *Cluster) disconnect(conn *resp.Subscriber) {
	_ = conn.Close()
	c.subMu.Lock()
	if c.sub == conn {
		c.sub = nil
	}
	c.subMu.Unlock()
}

// receive reads conn until it fails, calling onAnswer after each message (a confirmation or a
// pong among them) has been handled. A connection silent for HealthCheckInterval is pinged, and
// given up if the next interval brings nothing either: a connection cut without a close (a network
// partition) would otherwise be noticed only by TCP keepalive, minutes later. An error reply
// fails the connection too: which command Redis refused, and so which subscriptions it holds,
// is not known any more, and a new connection starts from what the node wants.
func (c *Cluster) receive(conn *resp.Subscriber, onAnswer func()) error {
	pinged := false
	interval := c.cfg.HealthCheckInterval
	var deadline time.Time
	for {
		// The deadline moves only once an eighth of the interval has gone by: moving it costs a
		// timer update in the runtime, and messages come by the thousand per second. Silence is
		// then noticed after seven eighths of the interval or more.
		if now := time.Now(); deadline.Sub(now) < interval-interval/8 {
			deadline = now.Add(interval)
		}
		m, err := conn.Receive(deadline)
		if err != nil {
			if !isTimeout(err) {
				return err
			}
			if pinged {
				return errors.New("no answer from Redis within the health check interval")
			}
			if err := conn.Ping(); err != nil {
				return err
			}
			pinged = true
			continue
		}
		pinged = false
		switch m.Kind {
		case resp.KindMessage, resp.KindPMessage:
			c.dispatch(&m)
		case resp.KindSubscribe, resp.KindUnsubscribe, resp.KindPSubscribe, resp.KindPUnsubscribe:
			c.confirm(m.Kind, m.Channel)
		}
		onAnswer()
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// view returns b as a string without copying it, for lookups and checks that keep nothing:
// b is a view of the subscriber connection's buffer, overwritten by its next message.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// dispatch routes one message: answers to this node's requests are taken here, so that a
// handler waiting for them on the handling goroutine cannot block them; the rest is queued, in
// order, for the handling goroutine. m's bytes are views of the connection's buffer: a
// message dropped here costs a lookup and no allocation, and one that is kept is copied.
func (c *Cluster) dispatch(m *resp.Message) {
	c.stats.received.Add(1)
	if hook := c.testHook.Load(); hook != nil {
		(*hook)(view(m.Channel))
	}
	var a *Adapter
	kind := routeBroadcast
	c.mu.RLock()
	if m.Kind == resp.KindPMessage {
		a = c.patterns[string(m.Pattern)]
	} else if s := c.subs[string(m.Channel)]; s != nil {
		a, kind = s.a, s.kind
	}
	c.mu.RUnlock()
	if a == nil {
		return // unsubscribed an instant ago
	}
	var room string
	if kind == routeBroadcast {
		var ok bool
		if room, ok = a.ch.RoomOf(view(m.Channel)); !ok {
			return // matched a pattern without being a broadcast channel of its namespace
		}
		if room != "" && c.requestsIn.Load() == 0 && !a.mem.HasRoom(room) {
			// A pattern subscription brings every node every room's broadcasts; most are for
			// rooms held elsewhere. No request waits that could create the room first, so this
			// is handle's check, made before the copy and the hand-off to the handling
			// goroutine.
			c.stats.skipped.Add(1)
			return
		}
		room = strings.Clone(room)
	}
	payload := bytes.Clone(m.Payload)
	if kind == routeResponse {
		a.onResponse(payload)
		return
	}
	if kind == routeRequest {
		c.requestsIn.Add(1)
	}
	if !c.in.push(inbound{a: a, kind: kind, room: room, payload: payload}) {
		if kind == routeRequest {
			c.requestsIn.Add(-1)
		}
		c.stats.receiveDropped.Add(1)
	}
}

// handleLoop delivers received broadcasts and answers requests, one at a time, in order.
func (c *Cluster) handleLoop() {
	defer c.wg.Done()
	var batch []inbound
	for {
		select {
		case <-c.in.wake:
		case <-c.ctx.Done():
			return
		}
		for {
			batch = c.in.takeAll(batch[:0])
			if len(batch) == 0 {
				break
			}
			for _, msg := range batch {
				c.handle(msg)
			}
			clear(batch) // handled payloads are garbage now
			if cap(batch) > inQueueKeep {
				batch = nil
			}
		}
	}
}

func (c *Cluster) handle(msg inbound) {
	defer func() {
		// A panicking listener or disconnect handler must not stop the cluster traffic.
		if v := recover(); v != nil {
			c.log.Error("redis adapter: panic while handling a message", "panic", v)
		}
	}()
	switch msg.kind {
	case routeBroadcast:
		// Checked here, in order with the requests: a join queued just before this message
		// may have created the room.
		if msg.room != "" && !msg.a.mem.HasRoom(msg.room) {
			c.stats.skipped.Add(1)
			return // for a room this node does not hold: dropped before decoding, as Node does
		}
		msg.a.onBroadcast(msg.payload, msg.room != "")
	case routeRequest:
		defer c.requestsIn.Add(-1) // after the request's effect on the rooms, even if it panics
		msg.a.onRequest(msg.payload)
	}
}

// subscribeLoop brings the subscriptions in line with the routes: it is the only goroutine
// that sends SUBSCRIBE and UNSUBSCRIBE, so their order is the order of the changes.
func (c *Cluster) subscribeLoop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.wake:
		case <-c.ctx.Done():
			return
		}
		var sub, unsub, psub, punsub []string
		c.mu.Lock()
		for key := range c.dirty {
			p, isPattern := strings.CutPrefix(key, "p:")
			s := c.subs[key]
			var want bool
			if isPattern {
				_, want = c.patterns[p]
			} else {
				want = s != nil && s.a != nil
				if want && s.kind == routeBroadcast {
					if room, _ := s.a.ch.RoomOf(key); room != "" && !s.a.mem.HasRoom(room) {
						want = false
						s.a = nil // the room emptied: forget its channel until it is joined again
					}
				}
				if !want {
					c.wakeJoinWaits(key) // nobody is left to wait for it
				}
			}
			switch subscribe, unsubscribe := c.change(key, s, want); {
			case subscribe && isPattern:
				psub = append(psub, p)
			case subscribe:
				sub = append(sub, key)
			case unsubscribe && isPattern:
				punsub = append(punsub, p)
			case unsubscribe:
				unsub = append(unsub, key)
			}
		}
		clear(c.dirty)
		c.syncNotify()
		// Taken with the state the pass was worked out from (see connect): if the connection
		// is replaced from now on, the pass's commands fail, or are lost with this one, and the
		// next pass works from the state reset for the new one.
		conn := c.subscriber()
		c.mu.Unlock()
		if hook := c.testPassWorkedOut.Load(); hook != nil {
			(*hook)(sub)
		}
		// Outside the lock: these write to the connection. No answer comes for a command that
		// failed; an unsubscription that failed is right anyway (the command fails when the
		// connection does, and the subscription goes with the connection), a subscription is
		// sent again.
		ok := true
		for chunk := range slices.Chunk(sub, subscribeChunk) {
			ok = c.sent(c.subscribe(conn, (*resp.Subscriber).Subscribe, chunk), "", chunk, true) && ok
		}
		for chunk := range slices.Chunk(unsub, subscribeChunk) {
			c.sent(command(conn, (*resp.Subscriber).Unsubscribe, chunk), "", chunk, false)
		}
		if len(psub) > 0 {
			ok = c.sent(c.subscribe(conn, (*resp.Subscriber).PSubscribe, psub), "p:", psub, true) && ok
		}
		if len(punsub) > 0 {
			c.sent(command(conn, (*resp.Subscriber).PUnsubscribe, punsub), "p:", punsub, false)
		}
		if ok && len(sub)+len(psub) > 0 {
			c.mu.Lock()
			c.retryBackoff.reset()
			c.mu.Unlock()
		}
	}
}

// subscribe sends a (P)SUBSCRIBE command, unless a test makes it fail.
func (c *Cluster) subscribe(conn *resp.Subscriber, send func(*resp.Subscriber, ...string) error, names []string) error {
	if fault := c.testSubscribeFault.Load(); fault != nil {
		if err := (*fault)(names); err != nil {
			return err
		}
	}
	return command(conn, send, names)
}

// errNoConnection fails the commands sent while the subscriber connection is being replaced:
// the next one is subscribed to everything wanted once it is there.
var errNoConnection = errors.New("redis adapter: no subscriber connection")

// command sends a command on conn, if there is one.
func command(conn *resp.Subscriber, send func(*resp.Subscriber, ...string) error, names []string) error {
	if conn == nil {
		return errNoConnection
	}
	return send(conn, names...)
}

// sent takes note of a failed (un)subscribe command, which Redis will not answer, and reports
// whether the command went out. A failed subscription is sent again after a backoff. Most
// failures are the connection's, and its replacement is subscribed to everything wanted
// anyway (see connect); the retry makes sure of the subscription whatever failed, and the
// backoff keeps it from spinning while Redis is unreachable.
func (c *Cluster) sent(err error, prefix string, names []string, subscribe bool) bool {
	if err == nil {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, name := range names {
		key := prefix + name
		s := c.subs[key]
		if s == nil {
			continue // the connection was replaced since, and the entry let go
		}
		c.answered(s)
		if subscribe && s.have {
			// The next pass sends it again, or, if it is no longer wanted by then, unsubscribes
			// it, in case the command reached Redis before it failed.
			s.resend = true
			c.dirty[key] = struct{}{}
		}
		c.release(key, s)
	}
	if subscribe && c.retry == nil && !c.closed {
		c.retry = time.AfterFunc(c.retryBackoff.next(), func() {
			c.mu.Lock()
			c.retry = nil
			c.notify()
			c.mu.Unlock()
		})
	}
	c.syncNotify()
	return false
}

// answered counts one answer, or failure, of a command for the entry s. An answer that
// finds nothing in flight is to a command written off already (see sent), and is not counted
// twice. c.mu is held.
func (c *Cluster) answered(s *sub) {
	if s.inflight > 0 {
		s.inflight--
		c.inflight--
	}
}

// release deletes the entry s of key once it is idle. c.mu is held.
func (c *Cluster) release(key string, s *sub) {
	if s.idle() {
		delete(c.subs, key)
	}
}

// set sets s.have and s.confirmed, and the counts over subs with them. c.mu is held.
func (c *Cluster) set(s *sub, have, confirmed bool) {
	c.haveCount += b2i(have) - b2i(s.have)
	c.confirmedCount += b2i(confirmed) - b2i(s.confirmed)
	c.matched += b2i(have && confirmed) - b2i(s.have && s.confirmed)
	s.have, s.confirmed = have, confirmed
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// change records the wanted state of the subscription of key, whose entry is s (nil if it
// has none), and reports whether it must be subscribed or unsubscribed: as it changes, and
// again when it is wanted and its last subscription failed (see sent). The command it asks
// for is counted as sent. c.mu is held.
func (c *Cluster) change(key string, s *sub, want bool) (subscribe, unsubscribe bool) {
	if s == nil {
		if !want {
			return false, false
		}
		s = &sub{}
		c.subs[key] = s
	}
	failed := s.resend
	s.resend = false
	switch {
	case want && !s.have:
		c.set(s, true, s.confirmed)
		subscribe = true
	case !want && s.have:
		c.set(s, false, s.confirmed)
		unsubscribe = true
	case !want && s.confirmed && s.inflight == 0:
		// A subscription Redis confirmed that the node never wanted on this connection (see
		// confirm): nothing else would ever unsubscribe it.
		unsubscribe = true
	default:
		subscribe = want && failed
	}
	if subscribe || unsubscribe {
		s.inflight++
		c.inflight++
	}
	c.release(key, s)
	return subscribe, unsubscribe
}

// confirm records Redis's confirmation of a (p)(un)subscription of name, a view of the
// connection's buffer.
func (c *Cluster) confirm(kind resp.Kind, name []byte) {
	key := view(name) // looked up, not stored: an entry keeps its own key
	if kind == resp.KindPSubscribe || kind == resp.KindPUnsubscribe {
		key = "p:" + key
	}
	subscribed := kind == resp.KindSubscribe || kind == resp.KindPSubscribe
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.syncNotify()
	s := c.subs[key]
	if s == nil {
		if !subscribed {
			return
		}
		// A subscription the node has forgotten (its commands' answers were written off with a
		// lost connection): Redis has it all the same, and it counts as such.
		s = &sub{}
		key = strings.Clone(key)
		c.subs[key] = s
	}
	c.answered(s)
	c.set(s, s.have, subscribed)
	if subscribed && !s.have && s.inflight == 0 {
		// Confirmed, not wanted, and no UNSUBSCRIBE on its way: the next pass sends one, so
		// that the channel's messages stop and the node can be synced again.
		c.dirty[strings.Clone(key)] = struct{}{}
		c.notify()
	}
	c.wakeIfLive(key, s)
	c.release(key, s)
}

// lostConfirmations: the connection is gone, and every subscription with it.
func (c *Cluster) lostConfirmations() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, s := range c.subs {
		c.set(s, s.have, false)
		s.inflight = 0
		c.release(key, s)
	}
	c.inflight = 0
	c.syncNotify()
	// Sockets connecting now cannot be helped by waiting: they connect at once.
	for key := range c.joinWaits {
		c.wakeJoinWaits(key)
	}
}

// syncNotify wakes waitSynced; c.mu is held.
func (c *Cluster) syncNotify() {
	close(c.syncChanged)
	c.syncChanged = make(chan struct{})
}

// synced reports whether Redis confirmed exactly the subscriptions the node wants, and has
// answered every command sent: confirmed equals have, so every wanted subscription is live
// and every unwanted one is gone, and no command still on its way can change that. c.mu is
// held.
func (c *Cluster) synced() bool {
	return len(c.dirty) == 0 && c.inflight == 0 && c.matched == c.haveCount && c.confirmedCount == c.matched
}

// isSynced is synced for a caller that does not hold c.mu.
func (c *Cluster) isSynced() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.synced()
}

// waitSynced waits until the node is ready and Redis confirmed exactly the subscriptions it
// wants, so that, for example, the server count includes this node. Tests use it.
func (c *Cluster) waitSynced(ctx context.Context) error {
	for {
		if err := c.WaitReady(ctx); err != nil {
			return err
		}
		c.mu.Lock()
		synced := c.synced()
		changed := c.syncChanged
		c.mu.Unlock()
		if synced {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
