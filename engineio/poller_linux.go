package engineio

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/tomato-code/realtime/internal/rawio"
)

// pollerGroup is the ReadPoller machinery of a Server: a few pollers, each an epoll instance
// watched by one goroutine. The pollers start with the first registered connection and stop
// with the last, so that a server without websockets runs none.
type pollerGroup struct {
	log     *slog.Logger // Config.Logger
	mu      sync.Mutex
	pollers []*poller
	next    int // round robin over pollers
	conns   int // registered connections
}

// poller is one epoll instance and its goroutine. The epoll descriptor is itself watched by
// the runtime's poller: while no connection is readable, the goroutine parks like any
// goroutine waiting for a socket, rather than holding a thread in epoll_wait.
type poller struct {
	g    *pollerGroup
	epfd int
	file *os.File // epfd, for the runtime's poller
	evfd int      // eventfd that wakes the goroutine to stop
	// wepfd is a second epoll instance, nested in epfd: the sockets whose writers wait for
	// room, each added for one wake at a time (EPOLLONESHOT, see watchWrite).
	wepfd    int
	stopping atomic.Bool

	// Connections by slot. The epoll event of a connection carries its slot and the slot's
	// generation: an event of a connection that left, read after its slot was reused, names
	// an older generation and is ignored.
	mu    sync.Mutex
	slots []pollSlot
	free  []uint32
	// failed tells that the goroutine stopped waiting for events though nobody asked it to
	// (see fail): the poller takes no connection any more.
	failed bool

	// Goroutine-local: the read buffer shared by all connections of the poller, and the
	// results of the last read callback (bound once: a closure per read would allocate).
	buf     []byte
	events  []unix.EpollEvent
	wevents []unix.EpollEvent // of wepfd
	readFn  func(fd uintptr) bool
	n       int
	rerr    error
	werr    error // what ended the waiting, when epoll_wait failed
	waitFn  func(fd uintptr) bool
}

type pollSlot struct {
	in  *inbound
	gen uint32
	// published tells that events of the slot go to in: set by attach, once everything the
	// poller reads of in is set. (The event of a socket just added would order the poller
	// after those writes too, but the race detector cannot know it: p.mu does.)
	published bool
}

const (
	pollReadBuf = 64 << 10 // per poller
	pollEvents  = 256
	// pollWriteEvents bounds the writers woken per epoll_wait of wepfd; more take more calls.
	pollWriteEvents = 64
	wakeSlot        = -1 // the Fd field of the eventfd's epoll events
	writeSlot       = -2 // the Fd field of wepfd's epoll events
)

// newInbound returns the ReadPoller state of c, whose socket a poller is to read: it reserves
// the connection a slot of a poller, and takes the socket from its net.Conn when it can (see
// rawSock), before c is shared. It returns nil when no poller can be started (no descriptor
// left for epoll): c is then read by a goroutine.
func (g *pollerGroup) newInbound(c *wsConn) *inbound {
	in := &inbound{c: c}
	for {
		p, err := g.acquire()
		if err != nil {
			return nil
		}
		in.mu.Lock()
		ok := p.insert(in)
		in.mu.Unlock()
		if ok {
			break
		}
		// p failed after acquire chose it, and has left the group: the next try finds another.
		g.leave()
	}
	if conn, ok := c.conn.(net.Conn); ok && in.sock.take(conn, c.rc) == nil {
		c.conn, c.rc = (*sockConn)(in), (*sockRC)(in)
	}
	return in
}

// attach starts the reading of a connection whose session is now known (c.sess), after the
// bytes read with the upgrade request: they come first. A connection that was detached or
// failed meanwhile (its session ended, or its poller failed) is not watched; its failure, if
// any, is delivered now.
func (g *pollerGroup) attach(in *inbound, pending []byte) {
	in.mu.Lock()
	in.attached = true
	stopped := in.stopped
	in.mu.Unlock()
	if stopped {
		in.kick()
		return
	}
	if len(pending) > 0 {
		// The socket is not watched yet: nothing else touches the parser.
		if err := in.parse(pending); err != nil {
			in.fail(err)
			return
		}
	}
	var err error
	in.mu.Lock()
	if !in.stopped {
		in.pl.publish(in)
		if err = in.pl.add(in); err == nil {
			in.watched = true
		} else {
			in.stopLocked()
		}
	}
	in.mu.Unlock()
	if err != nil {
		in.push(inItem{err: err})
		in.kick()
	}
}

// acquire counts one more connection and returns the poller it goes to, starting the pollers
// if none runs.
func (g *pollerGroup) acquire() (*poller, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.pollers) == 0 {
		n := runtime.GOMAXPROCS(0)
		for range n {
			p, err := newPoller(g)
			if err != nil {
				for _, p := range g.pollers {
					p.stop()
				}
				g.pollers = nil
				return nil, err
			}
			g.pollers = append(g.pollers, p)
		}
		for _, p := range g.pollers {
			go p.run()
		}
	}
	g.conns++
	g.next = (g.next + 1) % len(g.pollers)
	return g.pollers[g.next], nil
}

// leave counts one connection less and stops the pollers after the last.
func (g *pollerGroup) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.conns--
	if g.conns == 0 {
		for _, p := range g.pollers {
			p.stop()
		}
		g.pollers = nil
	}
}

func newPoller(g *pollerGroup) (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	wepfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		unix.Close(evfd)
		unix.Close(epfd)
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: wakeSlot}
	err = unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev)
	if err == nil {
		ev = unix.EpollEvent{Events: unix.EPOLLIN, Fd: writeSlot}
		err = unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wepfd, &ev)
	}
	if err != nil {
		unix.Close(wepfd)
		unix.Close(evfd)
		unix.Close(epfd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	p := &poller{
		g:       g,
		epfd:    epfd,
		file:    os.NewFile(uintptr(epfd), "epoll"),
		evfd:    evfd,
		wepfd:   wepfd,
		buf:     make([]byte, pollReadBuf),
		events:  make([]unix.EpollEvent, pollEvents),
		wevents: make([]unix.EpollEvent, pollWriteEvents),
	}
	p.readFn = p.readCallback
	p.waitFn = p.waitCallback
	return p, nil
}

// stop asks the goroutine to exit; it closes the descriptors itself.
func (p *poller) stop() {
	p.stopping.Store(true)
	one := [8]byte{1}
	unix.Write(p.evfd, one[:])
}

func (p *poller) run() {
	rc, err := p.file.SyscallConn()
	if err == nil {
		err = rc.Read(p.waitFn)
	}
	if p.werr != nil {
		err = p.werr
	}
	if !p.stopping.Load() {
		if err == nil {
			err = errors.New("engineio: poller stopped waiting") // not expected: Read returns when stopping or on error
		}
		p.fail(err)
	}
	unix.Close(p.evfd)
	unix.Close(p.wepfd)
	p.file.Close() // closes epfd
}

// fail handles the end of a poller that was not asked to stop: epoll_wait failed (or the
// runtime could not wait on the epoll descriptor), so its connections would never be read
// again and their clients would hang until their heartbeat timed out. The poller leaves the
// group first, so that no new connection is given to it; then every connection it holds
// fails with err, which closes its session as a read error does, and the client reconnects.
// The descriptors are closed after, by run: the connections' epoll_ctl calls still find epfd.
func (p *poller) fail(err error) {
	g := p.g
	g.mu.Lock()
	if i := slices.Index(g.pollers, p); i >= 0 {
		g.pollers = slices.Delete(g.pollers, i, i+1)
		// next may be past the end now. With no poller left, acquire starts a new set.
		g.next = 0
	}
	g.mu.Unlock()

	// A connection attach is inserting now either is in slots here or finds failed set.
	p.mu.Lock()
	p.failed = true
	var ins []*inbound
	for _, s := range p.slots {
		if s.in != nil {
			ins = append(ins, s.in)
		}
	}
	p.mu.Unlock()
	// Before the sessions close, so that their close reasons can be traced to this line.
	g.log.Error("engineio: a websocket poller failed; its connections are closed", "error", err, "connections", len(ins))
	// No lock held: fail takes inbound.mu, then poller.mu and pollerGroup.mu to release.
	err = fmt.Errorf("%w: %w", errPollerFailed, err)
	for _, in := range ins {
		in.fail(err)
	}
}

// waitCallback runs on the poller's goroutine whenever the epoll descriptor may be readable:
// it handles the ready connections until none is, then returns false to park.
func (p *poller) waitCallback(uintptr) bool {
	for {
		n, err := rawio.EpollPoll(p.epfd, p.events)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			p.werr = os.NewSyscallError("epoll_wait", err)
			return true
		}
		if p.stopping.Load() {
			return true
		}
		if n == 0 {
			return false
		}
		for i := range p.events[:n] {
			ev := &p.events[i]
			switch ev.Fd {
			case wakeSlot:
				var b [8]byte
				unix.Read(p.evfd, b[:])
			case writeSlot:
				if err := p.wakeWriters(); err != nil {
					p.werr = err
					return true
				}
			default:
				if in := p.lookup(ev, true); in != nil {
					p.read(in)
				}
			}
		}
	}
}

// lookup returns the connection an event is for, or nil when the connection left the slot
// the event names. Read events go to published connections only; a writer may wait for room
// before (the 101 response is written before the connection is attached).
func (p *poller) lookup(ev *unix.EpollEvent, read bool) *inbound {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := int(ev.Fd); i >= 0 && i < len(p.slots) && p.slots[i].gen == uint32(ev.Pad) && (p.slots[i].published || !read) {
		return p.slots[i].in
	}
	return nil
}

// wakeWriters wakes the writers whose sockets have room now, as wepfd reports them.
func (p *poller) wakeWriters() error {
	for {
		n, err := rawio.EpollPoll(p.wepfd, p.wevents)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("epoll_wait", err)
		}
		for i := range p.wevents[:n] {
			if in := p.lookup(&p.wevents[i], false); in != nil {
				in.sock.wake()
			}
		}
		if n < len(p.wevents) {
			return nil
		}
	}
}

// watchWrite asks the connection's poller to wake its socket's waiting writer once the socket
// has room (or an error): the socket joins wepfd, armed for one event. The writer holds the
// socket's wlock.
func (in *inbound) watchWrite() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.pl == nil {
		return errUnwatched
	}
	s := &in.sock
	op := unix.EPOLL_CTL_MOD
	if !in.armed {
		op = unix.EPOLL_CTL_ADD
	}
	ev := unix.EpollEvent{Events: unix.EPOLLOUT | unix.EPOLLONESHOT, Fd: int32(in.slot), Pad: int32(in.gen)}
	if !s.acquire() {
		return net.ErrClosed
	}
	err := unix.EpollCtl(in.pl.wepfd, op, int(s.fd), &ev)
	s.release()
	if err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	in.armed = true
	return nil
}

// read reads what in's socket has, once: a connection that keeps sending is read again on the
// next round, after the other ready ones.
func (p *poller) read(in *inbound) {
	p.n, p.rerr = 0, nil
	if err := in.c.rc.Read(p.readFn); err != nil {
		in.fail(net.ErrClosed)
		return
	}
	switch {
	case p.n > 0:
		if err := in.parse(p.buf[:p.n]); err != nil {
			in.fail(err)
		}
	case p.rerr == unix.EAGAIN:
		// Someone else's event, or readable no more: wait for the next.
	case p.rerr != nil:
		in.fail(p.rerr)
	default:
		in.fail(io.EOF)
	}
}

// readCallback reads once and never waits: returning true keeps the runtime from parking the
// poller's goroutine on this socket.
func (p *poller) readCallback(fd uintptr) bool {
	for {
		p.n, p.rerr = rawio.ReadFD(int(fd), p.buf)
		if p.rerr != unix.EINTR {
			if p.n < 0 {
				p.n = 0
			}
			return true
		}
	}
}

// insert gives in a slot, unless the poller failed (it reports whether it did); in.mu is held.
func (p *poller) insert(in *inbound) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed {
		return false
	}
	var i uint32
	if k := len(p.free); k > 0 {
		i = p.free[k-1]
		p.free = p.free[:k-1]
	} else {
		i = uint32(len(p.slots))
		p.slots = append(p.slots, pollSlot{})
	}
	p.slots[i].in = in
	in.pl, in.slot, in.gen = p, i, p.slots[i].gen
	return true
}

// release frees in's slot and counts the connection out of the group; in.mu is held.
func (p *poller) release(in *inbound) {
	p.mu.Lock()
	s := &p.slots[in.slot]
	s.in, s.published = nil, false
	s.gen++
	p.free = append(p.free, in.slot)
	p.mu.Unlock()
	in.pl = nil
	in.sock.wake() // a writer waiting for room would wait forever: it fails now (errUnwatched)
	p.g.leave()
}

// publish lets events of in's slot reach in.
func (p *poller) publish(in *inbound) {
	p.mu.Lock()
	p.slots[in.slot].published = true
	p.mu.Unlock()
}

// add puts in's socket in the epoll set; del takes it out. Both go through the connection's
// RawConn, which keeps the descriptor from being closed (and its number reused) meanwhile.
func (p *poller) add(in *inbound) error {
	return p.ctl(in, unix.EPOLL_CTL_ADD)
}

func (p *poller) del(in *inbound) {
	p.ctl(in, unix.EPOLL_CTL_DEL)
}

func (p *poller) ctl(in *inbound, op int) error {
	c := ctlPool.Get().(*epollCtl)
	c.epfd, c.op = p.epfd, op
	c.ev = unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(in.slot), Pad: int32(in.gen)}
	cerr := in.c.rc.Control(c.fn)
	err := c.err
	c.err = nil
	ctlPool.Put(c)
	if cerr != nil {
		return cerr
	}
	if err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// epollCtl is one epoll_ctl call through a RawConn. A closure capturing the event would
// escape with it (Control takes a func), three allocations per registration change, one at
// least per handshake: pooled, with its method value bound once, it costs none.
type epollCtl struct {
	epfd, op int
	ev       unix.EpollEvent
	err      error
	fn       func(fd uintptr)
}

var ctlPool = sync.Pool{New: func() any {
	c := new(epollCtl)
	c.fn = c.do
	return c
}}

func (c *epollCtl) do(fd uintptr) {
	c.err = unix.EpollCtl(c.epfd, c.op, int(fd), &c.ev)
}
