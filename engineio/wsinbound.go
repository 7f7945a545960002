package engineio

import (
	"sync"

	"github.com/gobwas/ws"
	"github.com/tomato-code/realtime/engineio/packet"
)

// inbound is the ReadPoller side of one websocket connection. A poller goroutine reads what
// arrives into its own buffer and parses it here (parse); the frames it yields are queued,
// and a delivery worker (delivery.go) hands them to the session in order (deliver), so that
// a slow handler holds up its own connection only. An idle connection holds no goroutine and
// no buffer: the parser keeps the bytes of an incomplete frame only, and the queue is empty.
type inbound struct {
	c *wsConn // reads and epoll registrations go through c.rc: the descriptor cannot be closed under them

	// Touched by the poller goroutine only (and, before the connection is registered, by the
	// goroutine that attaches it).
	parser frameParser

	// Registration: set by newInbound, read by the poller under its lock.
	pl   *poller
	slot uint32
	gen  uint32

	// sock is the socket once taken from its net.Conn (then c.conn and c.rc are in, as
	// sockConn and sockRC).
	sock rawSock

	// mu guards the queue and the registration's state; every epoll change of the socket is
	// made under it, so that they happen in the order the state says.
	mu      sync.Mutex
	items   []inItem
	bytes   int  // payload bytes in items
	running bool // a goroutine delivers items
	watched bool // the socket is in the poller's epoll set
	// paused tells that the socket was taken out of the poller because items hold too many
	// bytes: the delivering goroutine puts it back once it has taken them.
	paused bool
	// stopped tells that the socket is no longer read (it failed, or was detached) and is
	// never put back in the poller.
	stopped bool
	// done tells that nothing more is delivered: the session let go of the connection.
	done bool
	// attached tells that the session is known (wsConn.sess): items may be delivered.
	attached bool
	// armed tells that the socket is in its poller's write set (added once, re-armed for each
	// wait: EPOLLONESHOT). Guarded by sock.wlock, held by the writer that waits.
	armed bool
}

// inItem is one control frame or complete data message, or the end of the connection.
type inItem struct {
	op   ws.OpCode
	data []byte // owned
	err  error  // non-nil: the connection ended with it (io.EOF when the client closed it)
}

// pauseBytes is how many payload bytes may wait for delivery before the connection is no
// longer read: the handler's pace then slows the client down, through TCP, as it does with
// the goroutine read path.
const pauseBytes = 256 << 10

// parse consumes data, which the caller's buffer holds and which parse may modify in place
// (unmasking), and queues the frames it completes; one goroutine then delivers all of them.
// An error is a protocol violation: the caller stops reading and queues the error.
func (in *inbound) parse(data []byte) error {
	err := in.parser.feed(data, in.c.sess.srv.cfg.MaxPayload, in.frame)
	in.kick()
	return err
}

// frame queues a control frame or complete data message; owned tells that msg is a slice of
// its own rather than a view of the read buffer.
func (in *inbound) frame(op ws.OpCode, msg []byte, owned bool) {
	if op == ws.OpText && len(msg) == 1 && msg[0] == byte(packet.Pong) && in.pong() {
		return
	}
	if !owned {
		msg = append(make([]byte, 0, len(msg)), msg...)
	}
	in.push(inItem{op: op, data: msg})
}

// pong handles an Engine.IO pong on the poller goroutine when nothing of the connection is
// waiting for delivery, so that heartbeats of idle connections start no goroutine. It reports
// whether it did.
func (in *inbound) pong() bool {
	in.mu.Lock()
	inline := !in.running && len(in.items) == 0 && !in.done && !in.c.probing
	in.mu.Unlock()
	if !inline {
		return false
	}
	// receive takes the session's lock and re-arms the heartbeat timer: it never blocks on
	// the network nor calls the handler for a pong.
	in.c.sess.receive(packet.Packet{Type: packet.Pong})
	return true
}

// push queues an item; kick then gets it delivered.
func (in *inbound) push(it inItem) {
	in.mu.Lock()
	if in.done {
		in.mu.Unlock()
		return
	}
	if in.items == nil {
		in.items = getItems()
	}
	in.items = append(in.items, it)
	in.bytes += len(it.data)
	if in.bytes > pauseBytes && !in.paused {
		in.paused = true
		if in.watched {
			in.watched = false
			in.pl.del(in)
		}
	}
	in.mu.Unlock()
}

// kick starts a goroutine to deliver the queued items unless one is running.
func (in *inbound) kick() {
	in.mu.Lock()
	start := !in.running && len(in.items) > 0 && !in.done && in.attached
	if start {
		in.running = true
	}
	in.mu.Unlock()
	if start {
		in.c.sess.srv.delivery.start(in)
	}
}

// itemPool recycles the queues of connections between bursts: an idle connection keeps none,
// and a busy one does not grow a new one each time. A queue that outgrew its array is left to
// the collector.
var itemPool = sync.Pool{New: func() any { return new(itemArray) }}

type itemArray [32]inItem

func getItems() []inItem { return itemPool.Get().(*itemArray)[:0] }

func putItems(items []inItem) {
	if cap(items) != len(itemArray{}) {
		return
	}
	a := (*itemArray)(items[:cap(items)])
	clear(a[:])
	itemPool.Put(a)
}

// deliver hands the queued items to the session, in order, until the queue is empty or the
// session stops reading the connection.
func (in *inbound) deliver() {
	var batch []inItem
	defer func() { putItems(batch) }()
	for {
		in.mu.Lock()
		if len(in.items) == 0 || in.done {
			in.running = false
			putItems(in.items) // an idle connection keeps no queue
			in.items = nil
			in.mu.Unlock()
			return
		}
		batch, in.items = in.items, batch[:0]
		in.bytes = 0
		if in.paused {
			in.paused = false
			if !in.stopped && in.pl != nil && in.pl.add(in) == nil {
				in.watched = true
			}
		}
		in.mu.Unlock()

		s, c := in.c.sess, in.c
		for i := range batch {
			it := &batch[i]
			ok := false
			if it.err != nil {
				s.wsFailed(c, it.err)
			} else {
				ok = s.onFrame(c, it.op, it.data, true)
			}
			if !ok {
				in.detach()
				in.mu.Lock()
				in.running = false
				in.mu.Unlock()
				return
			}
		}
		clear(batch)
	}
}

// fail ends reading after a read error or a protocol violation: the session learns of it
// after the frames queued before.
func (in *inbound) fail(err error) {
	in.mu.Lock()
	in.stopLocked()
	in.mu.Unlock()
	in.push(inItem{err: err})
	in.kick()
}

// detach ends reading and delivery: the session has let go of the connection, which is about
// to be closed.
func (in *inbound) detach() {
	in.mu.Lock()
	in.stopLocked()
	in.done = true
	clear(in.items)
	in.items, in.bytes = nil, 0
	in.mu.Unlock()
}

func (in *inbound) stopLocked() {
	if in.stopped {
		return
	}
	in.stopped = true
	if in.watched {
		in.watched = false
		in.pl.del(in)
	}
	if in.pl != nil {
		in.pl.release(in)
	}
}
