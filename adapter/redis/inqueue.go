package redis

import "sync"

// inQueueKeep is the capacity a drained inQueue keeps for the next messages; a larger buffer,
// grown by a backlog, is given back.
const inQueueKeep = 256

// inQueue holds the received messages for the handling goroutine, in order, up to max
// waiting. It grows with a backlog and gives the memory back once drained: a buffered channel
// of max entries would keep its whole ring resident (65,536 x 56 bytes by default) as soon as
// the traffic had gone once around it, which a busy node's does within minutes.
type inQueue struct {
	mu   sync.Mutex
	q    []inbound
	max  int
	wake chan struct{} // a message was added to an empty queue
}

func newInQueue(max int) *inQueue {
	return &inQueue{max: max, wake: make(chan struct{}, 1)}
}

// push queues m and reports whether there was room for it.
func (q *inQueue) push(m inbound) bool {
	q.mu.Lock()
	if len(q.q) >= q.max {
		q.mu.Unlock()
		return false
	}
	q.q = append(q.q, m)
	first := len(q.q) == 1
	q.mu.Unlock()
	if first {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// takeAll moves every queued message to the end of buf and returns it. The handler takes them
// all at once, so that the producer and the handler meet on the lock once per batch.
func (q *inQueue) takeAll(buf []inbound) []inbound {
	q.mu.Lock()
	buf = append(buf, q.q...)
	clear(q.q) // no payload stays reachable from the queue's array
	if cap(q.q) > inQueueKeep {
		q.q = nil
	} else {
		q.q = q.q[:0]
	}
	q.mu.Unlock()
	return buf
}
