package redis

import (
	"context"
	"sync"
	"time"
)

// publishBatch is the most messages sent in one pipeline.
const publishBatch = 256

// outbox is the ordered queue of messages to publish, bounded in bytes. Callers never wait
// for Redis: they append here and return.
type outbox struct {
	mu     sync.Mutex
	q      []outMsg
	head   int
	bytes  int
	max    int
	closed bool
	wake   chan struct{}
	stats  *counters
}

type outMsg struct {
	channel string
	payload []byte
}

func (o *outbox) init(max int, stats *counters) {
	o.max, o.stats, o.wake = max, stats, make(chan struct{}, 1)
}

// push queues a message; false when it does not fit (it is counted as dropped).
func (o *outbox) push(channel string, payload []byte) bool {
	size := len(channel) + len(payload)
	o.mu.Lock()
	if o.closed || o.bytes+size > o.max {
		o.mu.Unlock()
		o.stats.publishDropped.Add(1)
		return false
	}
	o.q = append(o.q, outMsg{channel, payload})
	o.bytes += size
	o.stats.queuedBytes.Store(uint64(o.bytes))
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return true
}

// take removes up to n messages from the front.
func (o *outbox) take(n int) []outMsg {
	o.mu.Lock()
	defer o.mu.Unlock()
	end := min(o.head+n, len(o.q))
	batch := make([]outMsg, end-o.head)
	copy(batch, o.q[o.head:end])
	for i := o.head; i < end; i++ {
		o.bytes -= len(o.q[i].channel) + len(o.q[i].payload)
		o.q[i] = outMsg{}
	}
	o.head = end
	if o.head == len(o.q) { // empty: reuse the array from its start
		o.q, o.head = o.q[:0], 0
	} else if o.head > 1024 && o.head > len(o.q)/2 {
		o.q, o.head = append(o.q[:0], o.q[o.head:]...), 0
	}
	o.stats.queuedBytes.Store(uint64(o.bytes))
	return batch
}

// close makes later pushes fail: the Cluster is closing.
func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
}

// publish queues a message for the publisher goroutine.
func (c *Cluster) publish(channel string, payload []byte) error {
	if !c.out.push(channel, payload) {
		return ErrQueueFull
	}
	return nil
}

// publishLoop sends the queue in order, in pipelines. While Redis is unreachable it probes
// it with backoff and leaves the queue alone, so that what was queued goes out once Redis is
// back (up to the queue's bound).
func (c *Cluster) publishLoop() {
	defer c.wg.Done()
	bo := backoff{min: 50 * time.Millisecond, max: 5 * time.Second}
	healthy := false
	defer func() {
		if healthy { // Close: what is queued still goes out, briefly
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			c.flush(ctx)
			cancel()
		}
	}()
	for {
		if !healthy {
			ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
			err := c.client.Ping(ctx).Err()
			cancel()
			if c.ctx.Err() != nil {
				return
			}
			if err != nil {
				c.health.setPublishing(false, err)
				select {
				case <-time.After(bo.next()):
				case <-c.ctx.Done():
					return
				}
				continue
			}
			healthy = true
			bo.reset()
			c.health.setPublishing(true, nil)
		}
		batch := c.out.take(publishBatch)
		if len(batch) == 0 {
			select {
			case <-c.out.wake:
			case <-c.ctx.Done():
				return
			}
			continue
		}
		if err := c.send(c.ctx, batch); err != nil {
			if c.ctx.Err() != nil {
				healthy = false
				return
			}
			healthy = false
			c.health.setPublishing(false, err)
		}
	}
}

// send publishes a batch in one pipeline and counts the outcome of each message.
func (c *Cluster) send(ctx context.Context, batch []outMsg) error {
	pipe := c.client.Pipeline()
	for _, m := range batch {
		pipe.Publish(ctx, m.channel, m.payload)
	}
	cmds, err := pipe.Exec(ctx)
	for _, cmd := range cmds {
		if cmd.Err() == nil {
			c.stats.published.Add(1)
		} else {
			c.stats.publishFailed.Add(1)
		}
	}
	if len(cmds) < len(batch) {
		c.stats.publishFailed.Add(uint64(len(batch) - len(cmds)))
	}
	return err
}

// flush publishes what is queued, for Close, until the queue is empty or ctx ends.
func (c *Cluster) flush(ctx context.Context) {
	for ctx.Err() == nil {
		batch := c.out.take(publishBatch)
		if len(batch) == 0 {
			return
		}
		if c.send(ctx, batch) != nil {
			return
		}
	}
}
