package engineio

import (
	"net"
	"sync"
)

// maxBatch bounds the frames of one vectored write, and so the iovec array the runtime keeps
// per connection after a large batch.
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

// flushWebSocket is the writer: it runs while the queue is not empty and writes everything
// pending with one vectored write per round, then exits, so an idle connection holds no
// goroutine for writing.
func (s *Session) flushWebSocket() {
	wb := batchPool.Get().(*writeBatch)
	defer batchPool.Put(wb)
	for {
		s.mu.Lock()
		c := s.ws
		if len(s.queue) == 0 || c == nil || s.state == stateClosed {
			s.writing = false
			finish := s.state == stateClosing && len(s.queue) == 0 && c != nil
			reason := s.closeReason
			if cap(s.queue) > 4*maxBatch {
				s.queue = nil // a burst is over: do not keep its queue
			}
			s.mu.Unlock()
			if finish {
				s.terminate(reason, nil, msgClose, false)
			}
			return
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
		s.mu.Unlock()

		// No write deadline: reading the clock twice per round costs more than the write
		// itself on some machines. A write stuck for a whole ping interval is caught by the
		// heartbeat instead (onTimer).
		wb.frames = frames
		err := c.writeBatch(wb)
		clear(frames) // drop the references to the messages' frames
		if err != nil {
			s.mu.Lock()
			s.writing = false
			s.mu.Unlock()
			s.wsFailed(c, err)
			return
		}
	}
}
