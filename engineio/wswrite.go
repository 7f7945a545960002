package engineio

import (
	"net"
	"runtime"
	"sync"
)

// maxBatch bounds the frames of one vectored write, and so the iovec array of a batch.
const maxBatch = 128

// writeBatch holds the frames of one vectored write. It is pooled, and what the write
// consumes is one of its fields, so that a write round allocates nothing. It also holds the
// state of the system's vectored write (sysBatch, see wswrite_*.go): the connection itself
// keeps nothing between writes.
type writeBatch struct {
	frames net.Buffers // backing array, kept
	vec    net.Buffers // what WriteTo consumes
	sys    sysBatch
}

var batchPool = sync.Pool{New: func() any { return newWriteBatch() }}

// A session with something to write is in one of three places, never two (s.writing is true
// meanwhile): the ready queue of the server's writer pool, a pool worker's hands, or a writer
// goroutine of its own. Connections with raw access to their socket go through the pool: a
// worker writes each ready session's pending frames with one non-blocking writev and moves
// on; a session that comes back with more frames goes to the end of the queue, so that during
// a burst of broadcasts each write carries several frames. A socket that cannot take a whole
// batch (a slow client) gets a goroutine of its own that waits until it can, and writes on
// until the queue is empty. Connections without raw access always get their own goroutine.

// takeLocked moves up to maxBatch frames from the queue to wb. When there is nothing to
// write, it ends the writing instead and returns nil, with the reason to finish a graceful
// close with, if one is due.
func (s *Session) takeLocked(wb *writeBatch) (c *wsConn, finish bool, reason string) {
	c = s.ws
	if len(s.queue) == 0 || c == nil || s.state == stateClosed {
		s.writing = false
		finish = s.state == stateClosing && len(s.queue) == 0 && c != nil
		if cap(s.queue) > 4*maxBatch {
			s.queue = nil // a burst is over: do not keep its queue
		}
		return nil, finish, s.closeReason.String()
	}
	frames := wb.frames[:0]
	k := min(len(s.queue), maxBatch)
	n := 0
	for _, m := range s.queue[:k] {
		frames = append(frames, m.wsFrame())
		n += m.size()
	}
	rest := copy(s.queue, s.queue[k:])
	clear(s.queue[rest:])
	s.queue = s.queue[:rest]
	s.queued -= n
	s.writeRounds++
	wb.frames = frames
	return c, false, ""
}

// take is takeLocked under s.mu. When it ends the writing it also finishes a graceful close
// that is due, outside the lock, since terminate takes s.mu itself.
func (s *Session) take(wb *writeBatch) *wsConn {
	s.mu.Lock()
	c, finish, reason := s.takeLocked(wb)
	s.mu.Unlock()
	if finish {
		s.terminate(reason, nil, msgClose, false)
	}
	return c
}

// writeBuffers writes wb.frames with net.Buffers, a vectored write where the system has one:
// the way for connections without raw access to their socket.
func (c *wsConn) writeBuffers(wb *writeBatch) error {
	wb.vec = wb.frames
	_, err := wb.vec.WriteTo(c.conn)
	return err
}

// writeFailed ends the writing after err.
func (s *Session) writeFailed(c *wsConn, err error) {
	s.mu.Lock()
	s.writing = false
	s.mu.Unlock()
	s.wsFailed(c, err)
}

// flushWebSocket is a writer goroutine of the session's own: it writes everything pending,
// one vectored write per round, waiting for the socket as needed, then exits, so an idle
// connection holds no goroutine for writing.
func (s *Session) flushWebSocket() {
	wb := batchPool.Get().(*writeBatch)
	s.flushWith(wb)
}

// flushWith is flushWebSocket with a batch in hand; it puts it back in the pool.
func (s *Session) flushWith(wb *writeBatch) {
	defer batchPool.Put(wb)
	for {
		c := s.take(wb)
		if c == nil {
			return
		}
		// No write deadline: reading the clock twice per round costs more than the write
		// itself on some machines. A write stuck for a whole ping interval is caught by the
		// heartbeat instead (onTimer).
		err := c.writeBatch(wb)
		clear(wb.frames) // drop the references to the messages' frames
		if err != nil {
			s.writeFailed(c, err)
			return
		}
	}
}

// writeRound is one turn of a session in a pool worker: one non-blocking write of what is
// pending. It returns false when it handed wb over to a goroutine of the session's own.
func (s *Session) writeRound(wb *writeBatch) bool {
	c := s.take(wb)
	if c == nil {
		return true
	}
	c.wmu.Lock()
	done, err := c.tryWriteBatch(wb)
	if err != nil {
		c.wmu.Unlock()
		clear(wb.frames)
		s.writeFailed(c, err)
		return true
	}
	if !done {
		// The socket is full with part of the batch written: the rest must go out before
		// anything else, so wmu stays locked until the goroutine has written it.
		go s.finishBatch(c, wb)
		return false
	}
	c.wmu.Unlock()
	clear(wb.frames)
	s.mu.Lock()
	if len(s.queue) > 0 && s.state != stateClosed {
		s.mu.Unlock()
		s.srv.writers.push(s) // more came meanwhile: after the others
		return true
	}
	_, finish, reason := s.takeLocked(wb) // nothing to take: ends the writing
	s.mu.Unlock()
	if finish {
		s.terminate(reason, nil, msgClose, false)
	}
	return true
}

// finishBatch writes the rest of a batch that a pool worker could not, waiting for the
// socket, then goes on as the session's own writer.
func (s *Session) finishBatch(c *wsConn, wb *writeBatch) {
	err := c.writeRest(wb)
	c.wmu.Unlock()
	clear(wb.frames)
	if err != nil {
		batchPool.Put(wb)
		s.writeFailed(c, err)
		return
	}
	s.flushWith(wb)
}

// writerPool runs the workers that write the sessions of its ready queue. Workers are
// started as sessions become ready, up to one per CPU, and exit when the queue is empty: an
// idle server runs none.
type writerPool struct {
	mu      sync.Mutex
	ready   []*Session // ready[head:] wait, in order
	head    int
	running int
	max     int // workers at most: GOMAXPROCS when the first worker started
}

// push adds s, which has frames to write, at the end of the queue.
func (p *writerPool) push(s *Session) {
	p.mu.Lock()
	if p.head > 0 && p.head == len(p.ready) {
		p.ready, p.head = p.ready[:0], 0
	}
	p.ready = append(p.ready, s)
	if p.max == 0 {
		p.max = runtime.GOMAXPROCS(0)
	}
	start := p.running < p.max
	if start {
		p.running++
	}
	p.mu.Unlock()
	if start {
		go p.work()
	}
}

// workerTake is how many sessions a worker takes from the queue at once.
const workerTake = 32

func (p *writerPool) work() {
	wb := batchPool.Get().(*writeBatch)
	var local [workerTake]*Session
	for {
		p.mu.Lock()
		n := copy(local[:], p.ready[p.head:])
		p.head += n
		if p.head == len(p.ready) {
			clear(p.ready[:p.head])
			p.ready, p.head = p.ready[:0], 0
			if cap(p.ready) > 4096 {
				p.ready = nil // a burst is over: do not keep its queue
			}
		} else if p.head > len(p.ready)/2 {
			// The queue never empties: move what waits to the front.
			k := copy(p.ready, p.ready[p.head:])
			clear(p.ready[k:])
			p.ready, p.head = p.ready[:k], 0
		}
		if n == 0 {
			p.running--
			p.mu.Unlock()
			batchPool.Put(wb)
			return
		}
		p.mu.Unlock()
		for i, s := range local[:n] {
			if !s.writeRound(wb) {
				wb = batchPool.Get().(*writeBatch)
			}
			local[i] = nil
		}
		// A round of writes to thousands of sessions takes milliseconds of system calls that
		// each stay under the scheduler's hand-off threshold, so without a yield this
		// goroutine would keep the P for a whole time slice (10 ms) while the goroutines that
		// produce frames (an API handler answering a broadcast, a reader) wait. Letting them
		// run between takes keeps that latency low, and frames queued meanwhile go out with
		// the next write to the same session: fewer system calls per delivery in a burst.
		runtime.Gosched()
	}
}
