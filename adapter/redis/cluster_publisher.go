package redis

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tomato-code/realtime/adapter/redis/wire"
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
	// buf, when set, is the pooled buffer payload was written in, given back once the
	// message has been sent or refused.
	buf *[]byte
}

// msgBufs holds the buffers of published broadcasts for reuse: an emitting node writes one
// message per emit, and once the pipeline that carried it has returned the bytes are ours
// again (go-redis copies a command's arguments to the connection and keeps no reference to
// them after Exec; our client has no hooks).
var msgBufs sync.Pool

// maxPooledMsg is the largest buffer kept for reuse: the odd large broadcast is left to the
// garbage collector rather than kept in the pool.
const maxPooledMsg = 64 << 10

func recycle(buf *[]byte) {
	if cap(*buf) <= maxPooledMsg {
		msgBufs.Put(buf)
	}
}

// releaseBatch gives back the buffers of a batch that the pipeline has returned from, and clears
// the batch so that the publisher's reused slice holds no payload.
func releaseBatch(batch []outMsg) {
	for _, m := range batch {
		if m.buf != nil {
			recycle(m.buf)
		}
	}
	clear(batch)
}

func (o *outbox) init(max int, stats *counters) {
	o.max, o.stats, o.wake = max, stats, make(chan struct{}, 1)
}

// push queues a message; false when it does not fit (it is counted as dropped).
func (o *outbox) push(m outMsg) bool {
	size := len(m.channel) + len(m.payload)
	o.mu.Lock()
	if o.closed || o.bytes+size > o.max {
		o.mu.Unlock()
		o.stats.publishDropped.Add(1)
		return false
	}
	o.q = append(o.q, m)
	o.bytes += size
	o.stats.queuedBytes.Store(uint64(o.bytes))
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return true
}

// take moves up to n messages from the front into batch, emptied first: the publisher
// reuses one slice for every batch.
func (o *outbox) take(batch []outMsg, n int) []outMsg {
	o.mu.Lock()
	defer o.mu.Unlock()
	end := min(o.head+n, len(o.q))
	batch = append(batch[:0], o.q[o.head:end]...)
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
	if !c.out.push(outMsg{channel: channel, payload: payload}) {
		return ErrQueueFull
	}
	return nil
}

// publishBroadcast encodes b into a pooled buffer and queues it like publish: with a buffer
// from an earlier broadcast, encoding allocates nothing.
func (c *Cluster) publishBroadcast(channel string, b wire.Broadcast) error {
	buf, _ := msgBufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	msg, err := wire.AppendBroadcast((*buf)[:0], b)
	*buf = msg
	if err != nil {
		recycle(buf)
		return fmt.Errorf("redis adapter: %w", err)
	}
	if cap(msg) > 4*len(msg) && cap(msg) > 1<<10 {
		// A buffer grown by a larger broadcast would keep its memory in the queue, beyond
		// what the queue's bound counts: queue a copy of the small message instead.
		msg = bytes.Clone(msg)
		recycle(buf)
		buf = nil
	}
	if !c.out.push(outMsg{channel: channel, payload: msg, buf: buf}) {
		if buf != nil {
			recycle(buf)
		}
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
	var batch []outMsg
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
		batch = c.out.take(batch, publishBatch)
		if len(batch) == 0 {
			select {
			case <-c.out.wake:
			case <-c.ctx.Done():
				return
			}
			continue
		}
		err := c.send(c.ctx, batch)
		releaseBatch(batch)
		if err != nil {
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
	var batch []outMsg
	for ctx.Err() == nil {
		batch = c.out.take(batch, publishBatch)
		if len(batch) == 0 {
			return
		}
		err := c.send(ctx, batch)
		releaseBatch(batch)
		if err != nil {
			return
		}
	}
}
