package engineio

import "sync"

// deliveryPool runs the deliveries of ReadPoller connections (inbound.deliver). A delivery runs
// the application's handlers, and a CONNECT runs the Socket.IO middleware too: that grows a
// goroutine's stack from its first 2 KiB several times, and a goroutine per delivery paid for
// those copies every time (13% of the CPU of a handshake in a pprof profile of 19,000 clients
// connecting). A poller readies many connections at once, so the pool queues them and lets
// one worker, its stack grown, deliver one after the other.
//
// A handler may block, and it must hold up its own connection only: whenever connections wait
// and every worker is inside a delivery, another worker starts. Workers exit when the queue is
// empty, so an idle server runs none.
type deliveryPool struct {
	mu    sync.Mutex
	queue []*inbound // queue[head:] wait, in order
	head  int
	free  int // workers not inside a delivery: each takes from the queue next, or exits
}

// start queues in for delivery; in is not queued or being delivered already (inbound.running).
func (p *deliveryPool) start(in *inbound) {
	p.mu.Lock()
	p.queue = append(p.queue, in)
	spawn := p.free == 0
	if spawn {
		p.free++
	}
	p.mu.Unlock()
	if spawn {
		go p.work()
	}
}

func (p *deliveryPool) work() {
	for {
		in, spawn := p.take()
		if in == nil {
			return
		}
		if spawn {
			go p.work()
		}
		in.deliver()
		p.mu.Lock()
		p.free++
		p.mu.Unlock()
	}
}

// take hands the calling worker, one of the free ones, the next connection to deliver, or nil
// when none waits (the worker then exits). spawn tells it to start another worker first:
// connections still wait and it was the last free one.
func (p *deliveryPool) take() (in *inbound, spawn bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free--
	if p.head == len(p.queue) {
		clear(p.queue)
		p.queue, p.head = p.queue[:0], 0
		if cap(p.queue) > 4096 {
			p.queue = nil // a storm is over: do not keep its queue
		}
		return nil, false
	}
	in = p.queue[p.head]
	p.queue[p.head] = nil
	p.head++
	if p.head > 64 && p.head > len(p.queue)/2 {
		// Under steady load the queue may never empty: move what waits to the front, or
		// appends would grow it without bound.
		n := copy(p.queue, p.queue[p.head:])
		clear(p.queue[n:])
		p.queue, p.head = p.queue[:n], 0
	}
	spawn = p.head < len(p.queue) && p.free == 0
	if spawn {
		p.free++
	}
	return in, spawn
}
