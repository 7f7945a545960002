package redis

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// subscribeChunk bounds the channels of one SUBSCRIBE command.
const subscribeChunk = 512

// receiveLoop reads the subscriber connection. go-redis reconnects it on the next read after
// an error and then resubscribes every channel of the PubSub in one command, on its one
// connection: the request channel keeps exactly one subscription from this process.
func (c *Cluster) receiveLoop() {
	defer c.wg.Done()
	bo := backoff{min: 50 * time.Millisecond, max: 5 * time.Second}
	subscribed, failed, pinged := false, false, false
	for c.ctx.Err() == nil {
		ps := c.pubsub()
		msg, err := ps.ReceiveTimeout(c.ctx, c.cfg.HealthCheckInterval)
		if err != nil && isTimeout(err) {
			if pinged {
				// No answer to the last ping for a whole interval: the connection is dead
				// without having been closed (a network partition). go-redis would only
				// notice after TCP keepalive, minutes later; start over on a new one.
				err = errors.New("no answer from Redis within the health check interval")
				c.replacePubSub(ps)
			} else if err = ps.Ping(c.ctx); err == nil {
				// A silent connection may be a dead one: ask, the answer comes as a Pong.
				pinged = true
				continue
			}
		}
		pinged = false
		if err != nil {
			if c.ctx.Err() != nil {
				return
			}
			if subscribed || !failed {
				c.health.setSubscribed(false, err)
				c.lostConfirmations()
			}
			subscribed, failed = false, true
			select {
			case <-time.After(bo.next()):
			case <-c.ctx.Done():
				return
			}
			continue
		}
		if failed {
			c.stats.reconnects.Add(1)
			failed = false
		}
		bo.reset()
		if !subscribed {
			subscribed = true
			c.health.setSubscribed(true, nil)
		}
		switch m := msg.(type) {
		case *goredis.Message:
			c.dispatch(m)
		case *goredis.Subscription:
			c.confirm(m.Kind, m.Channel)
		}
	}
}

// replacePubSub closes a subscriber connection that stopped answering and puts a new one in
// its place, to which the subscription loop subscribes every wanted channel again. Closing
// the old one first keeps the request channel at one subscription from this process, as
// soon as Redis sees the close.
func (c *Cluster) replacePubSub(old *goredis.PubSub) {
	_ = old.Close()
	c.psMu.Lock()
	if c.ctx.Err() == nil { // not closing: Close closes whatever c.ps is once cancelled
		c.ps = c.client.Subscribe(c.ctx)
	}
	c.psMu.Unlock()
	c.mu.Lock()
	for key, s := range c.subs {
		if s.have {
			c.dirty[key] = struct{}{}
		}
		c.set(s, false, false)
		s.inflight, s.resend = 0, false
		c.release(key, s)
	}
	c.syncNotify()
	c.notify()
	c.mu.Unlock()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// dispatch routes one message: answers to this node's requests are taken here, so that a
// handler waiting for them on the handling goroutine cannot block them; the rest is queued, in
// order, for the handling goroutine.
func (c *Cluster) dispatch(m *goredis.Message) {
	c.stats.received.Add(1)
	if hook := c.testHook.Load(); hook != nil {
		(*hook)(m.Channel)
	}
	var a *Adapter
	kind := routeBroadcast
	c.mu.RLock()
	if m.Pattern != "" {
		a = c.patterns[m.Pattern]
	} else if s := c.subs[m.Channel]; s != nil {
		a, kind = s.a, s.kind
	}
	c.mu.RUnlock()
	if a == nil {
		return // unsubscribed an instant ago
	}
	var room string
	if kind == routeBroadcast {
		var ok bool
		if room, ok = a.ch.RoomOf(m.Channel); !ok {
			return // matched a pattern without being a broadcast channel of its namespace
		}
	}
	if kind == routeBroadcast && room != "" && c.requestsIn.Load() == 0 && !a.mem.HasRoom(room) {
		// A pattern subscription brings every node every room's broadcasts; most are for
		// rooms held elsewhere. No request waits that could create the room first, so this is
		// handle's check, made before the copy and the hand-off to the handling goroutine.
		c.stats.skipped.Add(1)
		return
	}
	payload := []byte(m.Payload)
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
		c.mu.Unlock()
		ps := c.pubsub()
		// Outside the lock: these wait for Redis. No answer comes for a command that failed;
		// an unsubscription that failed is right anyway (go-redis forgets the channel first,
		// and its next connection does not subscribe it), a subscription is sent again.
		ok := true
		for chunk := range slices.Chunk(sub, subscribeChunk) {
			ok = c.sent(c.subscribe(ps.Subscribe, chunk), "", chunk, true) && ok
		}
		for chunk := range slices.Chunk(unsub, subscribeChunk) {
			c.sent(ps.Unsubscribe(c.ctx, chunk...), "", chunk, false)
		}
		if len(psub) > 0 {
			ok = c.sent(c.subscribe(ps.PSubscribe, psub), "p:", psub, true) && ok
		}
		if len(punsub) > 0 {
			c.sent(ps.PUnsubscribe(c.ctx, punsub...), "p:", punsub, false)
		}
		if ok && len(sub)+len(psub) > 0 {
			c.mu.Lock()
			c.retryBackoff.reset()
			c.mu.Unlock()
		}
	}
}

// subscribe sends a (P)SUBSCRIBE command, unless a test makes it fail.
func (c *Cluster) subscribe(send func(context.Context, ...string) error, names []string) error {
	if fault := c.testSubscribeFault.Load(); fault != nil {
		if err := (*fault)(names); err != nil {
			return err
		}
	}
	return send(c.ctx, names...)
}

// sent takes note of a failed (un)subscribe command, which Redis will not answer, and reports
// whether the command went out. A failed subscription is sent again after a backoff: when
// the connection broke under the command, go-redis reconnects at once and resubscribes what
// it had recorded, but it records the command's channels only after the command, so the new
// connection lacks them until the next reconnect, and the rooms' broadcasts would not reach
// this node meanwhile.
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
		s.answered()
		if subscribe && s.have {
			// The next pass sends it again, or, if it is no longer wanted by then, unsubscribes
			// it, so that go-redis forgets it too.
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

// answered counts one answer, or failure, of a command for the key; c.mu is held.
func (s *sub) answered() {
	if s.inflight > 0 {
		s.inflight--
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
	default:
		subscribe = want && failed
	}
	if subscribe || unsubscribe {
		s.inflight++
	}
	c.release(key, s)
	return subscribe, unsubscribe
}

// confirm records Redis's confirmation of a (p)(un)subscription.
func (c *Cluster) confirm(kind, channel string) {
	key := channel
	if kind == "psubscribe" || kind == "punsubscribe" {
		key = "p:" + channel
	}
	subscribed := kind == "subscribe" || kind == "psubscribe"
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.syncNotify()
	// Looked up, not stored: the entry keeps its own key, and channel, a string go-redis made
	// for the message, is garbage after it.
	s := c.subs[key]
	if s == nil {
		if !subscribed {
			return
		}
		// A subscription the node has forgotten (its commands' answers were written off with a
		// lost connection): Redis has it all the same, and it counts as such.
		s = &sub{}
		c.subs[key] = s
	}
	s.answered()
	c.set(s, s.have, subscribed)
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

// waitSynced waits until the node is ready and Redis confirmed exactly the subscriptions it
// wants, so that, for example, the server count includes this node. Tests use it.
func (c *Cluster) waitSynced(ctx context.Context) error {
	for {
		if err := c.WaitReady(ctx); err != nil {
			return err
		}
		c.mu.Lock()
		// Confirmed equals have: every wanted subscription is live and every unwanted one
		// is gone.
		synced := len(c.dirty) == 0 && c.matched == c.haveCount && c.confirmedCount == c.matched
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
