package loop

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tomato-code/realtime/bench/internal/stats"
)

// Set is a group of client connections driven by event loops. Its methods are safe for
// concurrent use.
type Set struct {
	cfg       Config
	loops     []*loop
	requested atomic.Int64 // connections passed to Open
	wg        sync.WaitGroup
	once      sync.Once
}

// New starts the event loops of a set with no connections yet.
func New(cfg Config) (*Set, error) {
	if len(cfg.Targets) == 0 {
		return nil, errors.New("loop: no target")
	}
	for _, t := range cfg.Targets {
		if !t.Addr().Is4() {
			return nil, fmt.Errorf("loop: target %v is not IPv4", t)
		}
	}
	for _, a := range cfg.Sources {
		if !a.Is4() {
			return nil, fmt.Errorf("loop: source %v is not IPv4", a)
		}
	}
	if cfg.UserPrefix == "" {
		cfg.UserPrefix = "u"
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.Loops <= 0 {
		cfg.Loops = runtime.GOMAXPROCS(0)
	}
	s := &Set{cfg: cfg}
	for range cfg.Loops {
		l, err := newLoop(s)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.loops = append(s.loops, l)
	}
	for _, l := range s.loops {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			l.run()
		}()
	}
	return s, nil
}

// Open starts the connections with global indices from to to-1 and returns at once; they
// connect in the background. Connection i runs on loop i%Loops.
func (s *Set) Open(from, to int) {
	if from >= to {
		return
	}
	// Counted here, not when the loops get to them: pacing reads InFlight right after Open.
	s.requested.Add(int64(to - from))
	for _, l := range s.loops {
		l.mu.Lock()
	}
	for i := from; i < to; i++ {
		l := s.loops[i%len(s.loops)]
		l.pending = append(l.pending, int32(i))
	}
	for _, l := range s.loops {
		l.mu.Unlock()
		l.wake()
	}
}

// InFlight returns how many connections Open started that have neither connected nor failed
// yet.
func (s *Set) InFlight() int64 {
	n := s.requested.Load()
	for _, l := range s.loops {
		n -= l.c.connected.Load() + l.c.failed.Load()
	}
	return n
}

// Stats returns the counters of all loops.
func (s *Set) Stats() Stats {
	var st Stats
	for _, l := range s.loops {
		st.Merge(l.stats())
	}
	return st
}

// Close closes every connection, stops the loops and waits for them.
func (s *Set) Close() error {
	s.once.Do(func() {
		for _, l := range s.loops {
			l.stopping.Store(true)
			l.wake()
		}
		s.wg.Wait()
	})
	return nil
}

// counters are a loop's statistics, written by the loop and read by Stats at any time.
type counters struct {
	opened, connected, failed, dropped atomic.Int64
	pings, events, unstamped, bytes    atomic.Int64
}

// loop is one event loop: an epoll instance and the connections registered with it. Only the
// loop's goroutine touches conns.
type loop struct {
	set    *Set
	epfd   int
	epfile *os.File // epfd, registered with the runtime's poller
	evfd   int      // eventfd that wakes the loop for Open and Close
	conns  []conn

	mu      sync.Mutex
	pending []int32 // global indices to open, under mu
	down    []int   // indices of failed and dropped connections, under mu
	errs    map[string]int64

	stopping atomic.Bool
	c        counters
	connect  stats.Recorder
	phases   [MaxPhases]stats.Recorder

	epoch   time.Time // monotonic base of connect latencies
	buf     []byte    // the shared read buffer
	scratch []byte    // frames being built for a write
	minter  *tokenMinter
}

const readBufferSize = 256 << 10

func newLoop(s *Set) (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("loop: epoll_create1: %w", err)
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("loop: epoll: %w", err)
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("loop: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: wakeSlot}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		unix.Close(evfd)
		unix.Close(epfd)
		return nil, fmt.Errorf("loop: epoll_ctl: %w", err)
	}
	return &loop{
		set:    s,
		epfd:   epfd,
		epfile: os.NewFile(uintptr(epfd), "epoll"),
		evfd:   evfd,
		errs:   make(map[string]int64),
		epoch:  time.Now(),
		buf:    make([]byte, readBufferSize),
		minter: newTokenMinter(s.cfg),
	}, nil
}

// wakeSlot marks the eventfd in epoll events; connections use their slot (>= 0).
const wakeSlot = -1

func (l *loop) wake() {
	var one = [8]byte{1}
	_, _ = unix.Write(l.evfd, one[:])
}

func (l *loop) run() {
	defer func() {
		for i := range l.conns {
			if l.conns[i].fd >= 0 {
				unix.Close(int(l.conns[i].fd))
				l.conns[i].fd = -1
			}
		}
		unix.Close(l.evfd)
		l.epfile.Close() // closes epfd
	}()
	rc, err := l.epfile.SyscallConn()
	if err != nil {
		l.fail(-1, "epoll: "+err.Error())
		return
	}
	events := make([]unix.EpollEvent, 512)
	// The epoll descriptor is itself watched by the Go runtime's poller: when nothing is ready,
	// the loop's goroutine parks like any goroutine waiting for a socket, instead of blocking its
	// thread in epoll_wait, which costs the runtime a thread hand-off on every wake-up (several
	// microseconds per event at low rates).
	err = rc.Read(func(uintptr) bool {
		for {
			n, err := unix.EpollWait(l.epfd, events, 0)
			if err != nil {
				if err == unix.EINTR {
					continue
				}
				l.fail(-1, "epoll_wait: "+err.Error())
				return true
			}
			if n == 0 {
				return false // park until the epoll descriptor is readable
			}
			for i := range events[:n] {
				ev := &events[i]
				if ev.Fd == wakeSlot {
					var b [8]byte
					_, _ = unix.Read(l.evfd, b[:])
					if l.stopping.Load() {
						return true
					}
					l.openPending()
					continue
				}
				l.handle(int(ev.Fd), ev.Events)
			}
		}
	})
	if err != nil {
		l.fail(-1, "epoll: "+err.Error())
	}
}

func (l *loop) openPending() {
	l.mu.Lock()
	idx := l.pending
	l.pending = nil
	l.mu.Unlock()
	for _, i := range idx {
		l.open(int(i))
	}
}

// fail records that the connection with global index idx (-1: none) failed or dropped.
func (l *loop) fail(idx int, reason string) {
	l.mu.Lock()
	if idx >= 0 && len(l.down) < maxDown {
		l.down = append(l.down, idx)
	}
	if len(l.errs) < 100 || l.errs[reason] > 0 {
		l.errs[reason]++
	}
	l.mu.Unlock()
}

func (l *loop) stats() Stats {
	st := Stats{
		Opened:         l.c.opened.Load(),
		Connected:      l.c.connected.Load() - l.c.dropped.Load(),
		Failed:         l.c.failed.Load(),
		Dropped:        l.c.dropped.Load(),
		Pings:          l.c.pings.Load(),
		Events:         l.c.events.Load(),
		Unstamped:      l.c.unstamped.Load(),
		Bytes:          l.c.bytes.Load(),
		ConnectLatency: l.connect.Snapshot(),
		Phases:         make([]stats.Histogram, MaxPhases),
	}
	for i := range l.phases {
		st.Phases[i] = l.phases[i].Snapshot()
	}
	l.mu.Lock()
	st.Down = append([]int(nil), l.down...)
	if len(l.errs) > 0 {
		st.Errors = make(map[string]int64, len(l.errs))
		for k, v := range l.errs {
			st.Errors[k] = v
		}
	}
	l.mu.Unlock()
	return st
}

// Delivered returns how many stamped events of phase the set has received.
func (s *Set) Delivered(phase int) int64 {
	if phase < 0 || phase >= MaxPhases {
		return 0
	}
	var n int64
	for _, l := range s.loops {
		n += l.phases[phase].Count()
	}
	return n
}
