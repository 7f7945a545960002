package redis

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/tomato-code/realtime/socketio"
)

var _ socketio.JoinAwaiter = (*Adapter)(nil)

// JoinsPending implements socketio.JoinAwaiter: with SubscribeRooms, while Redis is
// reachable, whether a subscription that s's rooms need is not live yet: the namespace
// channel, the pattern of rooms named like socket ids (its own room among them), or the
// channel of one of its other rooms, typically a room the middleware joined first on this
// node. With SubscribePattern every room is covered by the namespace's pattern: nothing to
// wait for.
func (a *Adapter) JoinsPending(s *socketio.Socket) bool {
	if !a.roomsMode || !a.c.Ready() {
		return false
	}
	keys := a.joinKeys(a.mem.SocketRooms(s))
	c := a.c
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.ContainsFunc(keys, c.pendingLocked)
}

// AwaitJoined implements socketio.JoinAwaiter: with SubscribeRooms it waits until Redis has
// confirmed, on the current subscriber connection, the subscriptions that s's rooms need (see
// JoinsPending). A publisher may then target any of them once the client sees "connect".
// It returns nil at once with SubscribePattern or while Redis is unreachable, and as soon as
// Redis becomes unreachable during the wait. When ctx's deadline passes first it counts the
// timeout (Stats.JoinWaitTimeouts), logs a warning and returns ctx.Err().
func (a *Adapter) AwaitJoined(ctx context.Context, s *socketio.Socket) error {
	if !a.roomsMode || !a.c.Ready() {
		return nil
	}
	rooms := a.mem.SocketRooms(s)
	err := a.c.awaitKeys(ctx, a, a.joinKeys(rooms))
	if errors.Is(err, context.DeadlineExceeded) {
		a.c.stats.joinWaitTimeouts.Add(1)
		a.c.log.Warn("redis adapter: Redis did not confirm the subscriptions of a connecting socket's rooms in time; it connects anyway, and broadcasts to those rooms from other servers may miss it for a while",
			"namespace", a.ns.Name(), "socket", s.ID(), "rooms", len(rooms))
	}
	return err
}

// joinKeys returns the subscription keys (channels, and "p:" with a pattern) that bring the
// broadcasts to rooms.
func (a *Adapter) joinKeys(rooms []string) []string {
	keys := make([]string, 0, 2+len(rooms))
	keys = append(keys, a.ch.Broadcast, a.idRooms)
	for _, room := range rooms {
		if !isIDRoom(room) {
			keys = append(keys, a.ch.Room(room))
		}
	}
	return keys
}

// joinWait is a connecting socket waiting for channels to be live.
type joinWait struct {
	left int           // channels not live yet; guarded by Cluster.mu
	done chan struct{} // closed when left reaches 0
}

// awaitKeys waits until the subscriptions of keys that are wanted are live, ctx ends, Redis
// becomes unreachable or the Cluster closes.
func (c *Cluster) awaitKeys(ctx context.Context, a *Adapter, keys []string) error {
	w := &joinWait{done: make(chan struct{})}
	c.mu.Lock()
	if c.closed || c.adapters[a.ns.Name()] != a {
		c.mu.Unlock()
		return nil
	}
	waiting := keys[:0] // the keys w is listed under
	for _, key := range keys {
		if c.pendingLocked(key) {
			c.joinWaits[key] = append(c.joinWaits[key], w)
			waiting = append(waiting, key)
		}
	}
	w.left = len(waiting)
	if len(waiting) > 0 {
		c.syncNotify() // for whoever watches the waits (tests, through waitState)
	}
	c.mu.Unlock()
	if len(waiting) == 0 {
		return nil
	}
	var err error
	if c.Ready() { // else the connection was lost before w was listed, and nobody will wake it
		select {
		case <-w.done:
			return nil
		case <-ctx.Done():
			err = ctx.Err()
		case <-c.ctx.Done():
		}
	}
	c.mu.Lock()
	for _, key := range waiting {
		c.removeJoinWait(key, w)
	}
	c.syncNotify()
	c.mu.Unlock()
	return err
}

// pendingLocked reports whether the subscription of key (a channel, or "p:" and a pattern) is
// wanted and not live yet: a channel without a route is not going to be subscribed, and
// there is nothing to wait for. c.mu is held.
func (c *Cluster) pendingLocked(key string) bool {
	if p, isPattern := strings.CutPrefix(key, "p:"); isPattern {
		if _, ok := c.patterns[p]; !ok {
			return false
		}
	} else if !c.routed(key) {
		return false
	}
	return !c.subs[key].live()
}

// live reports whether the subscription of the entry s (nil: none) is live: Redis confirmed
// it on the current connection and has answered every command sent for it since. c.mu is
// held.
func (s *sub) live() bool {
	return s != nil && s.have && s.confirmed && s.inflight == 0
}

// wakeIfLive ends the waits for key, whose entry is s, once its subscription is live. c.mu
// is held.
func (c *Cluster) wakeIfLive(key string, s *sub) {
	if len(c.joinWaits[key]) > 0 && s.live() {
		c.wakeJoinWaits(key)
	}
}

// wakeJoinWaits ends the waits for key: it is live, or will not be. c.mu is held.
func (c *Cluster) wakeJoinWaits(key string) {
	ws, ok := c.joinWaits[key]
	if !ok {
		return
	}
	delete(c.joinWaits, key)
	for _, w := range ws {
		if w.left--; w.left == 0 {
			close(w.done)
		}
	}
}

// removeJoinWait takes w off the waits for key, if it is still there. c.mu is held.
func (c *Cluster) removeJoinWait(key string, w *joinWait) {
	ws := c.joinWaits[key]
	for i, x := range ws {
		if x == w {
			ws[i] = ws[len(ws)-1]
			ws[len(ws)-1] = nil
			ws = ws[:len(ws)-1]
			break
		}
	}
	if len(ws) == 0 {
		delete(c.joinWaits, key)
	} else {
		c.joinWaits[key] = ws
	}
}
