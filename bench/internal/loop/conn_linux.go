package loop

import (
	"crypto/rand"
	"errors"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tomato-code/realtime/bench/internal/wsframe"
)

// Connection states, in the order a connection goes through them.
const (
	stateConnecting uint8 = iota // TCP connect in progress
	stateUpgrade                 // upgrade request sent, waiting for 101
	stateOpen                    // WebSocket up, waiting for the Engine.IO open packet
	stateAuth                    // Socket.IO CONNECT sent, waiting for the reply
	stateReady                   // connected: answering pings, receiving events
	stateClosed
)

// conn is one client connection. It lives in its loop's conns slice, found by the slot number
// that its epoll registration carries.
type conn struct {
	fd      int32
	state   uint8
	writing bool  // registered for EPOLLOUT because out holds unwritten bytes
	idx     int32 // global index: user id and target
	started time.Duration
	mask    [4]byte
	pend    []byte // bytes of an incomplete HTTP head or frame, kept for the next read
	out     []byte // bytes the socket did not take yet
	frag    []byte // payload of a fragmented message being reassembled
	skip    int64  // payload bytes of an oversized frame still to discard
	fragOp  byte
}

// Bounds on what a connection buffers, so that a misbehaving server cannot grow the client's
// memory without limit.
const (
	maxHead         = 16 << 10 // an upgrade response head larger than this is refused
	maxMessage      = 1 << 20  // a fragmented message larger than this closes the connection
	maxPendingWrite = 64 << 10 // unwritten bytes (pongs the server does not read) that close it
)

// open creates the socket of connection idx, binds it to its source address and starts a
// non-blocking connect.
func (l *loop) open(idx int) {
	cfg := &l.set.cfg
	l.c.opened.Add(1)
	slot := len(l.conns)
	l.conns = append(l.conns, conn{fd: -1, idx: int32(idx), started: time.Since(l.epoch)})
	c := &l.conns[slot]
	_, _ = rand.Read(c.mask[:])

	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		l.connectFailed(c, "socket: "+err.Error())
		return
	}
	c.fd = int32(fd)
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if len(cfg.Sources) > 0 {
		// Without IP_BIND_ADDRESS_NO_PORT, bind picks the port before the destination is known,
		// which limits each source address to one connection per ephemeral port in total.
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
		src := cfg.Sources[idx%len(cfg.Sources)]
		if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: src.As4()}); err != nil {
			l.connectFailed(c, "bind "+src.String()+": "+err.Error())
			return
		}
	}
	dst := cfg.Targets[idx%len(cfg.Targets)]
	err = unix.Connect(fd, &unix.SockaddrInet4{Addr: dst.Addr().As4(), Port: int(dst.Port())})
	if err != nil && err != unix.EINPROGRESS {
		l.connectFailed(c, "connect: "+err.Error())
		return
	}
	ev := unix.EpollEvent{Events: unix.EPOLLOUT, Fd: int32(slot)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		l.connectFailed(c, "epoll_ctl: "+err.Error())
	}
}

// handle reacts to the readiness events of the connection in slot.
func (l *loop) handle(slot int, events uint32) {
	c := &l.conns[slot]
	if c.state == stateClosed {
		return
	}
	if c.state == stateConnecting {
		if events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return
		}
		if errno, err := unix.GetsockoptInt(int(c.fd), unix.SOL_SOCKET, unix.SO_ERROR); err != nil || errno != 0 {
			if err == nil {
				err = unix.Errno(errno)
			}
			l.connectFailed(c, "connect: "+err.Error())
			return
		}
		c.state = stateUpgrade
		if !l.modify(c, slot, unix.EPOLLIN|unix.EPOLLRDHUP) {
			return
		}
		var key [16]byte
		_, _ = rand.Read(key[:])
		l.scratch = wsframe.AppendUpgradeRequest(l.scratch[:0], l.set.cfg.Targets[int(c.idx)%len(l.set.cfg.Targets)].String(), key)
		l.write(c, slot, l.scratch)
		return
	}
	if events&unix.EPOLLOUT != 0 && c.writing {
		l.flush(c, slot)
		if c.state == stateClosed {
			return
		}
	}
	if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		l.read(c, slot)
	}
}

// read takes what the socket has and processes every complete frame in it.
func (l *loop) read(c *conn, slot int) {
	buf := l.buf
	carried := copy(buf, c.pend)
	n, err := unix.Read(int(c.fd), buf[carried:])
	if err == unix.EAGAIN || err == unix.EINTR {
		return
	}
	if n <= 0 {
		reason := "closed by server"
		if err != nil {
			reason = "read: " + err.Error()
		}
		l.closeConn(c, reason)
		return
	}
	l.c.bytes.Add(int64(n))
	now := time.Now()
	data := buf[:carried+n]
	used := l.process(c, slot, data, now)
	if c.state == stateClosed {
		return
	}
	// The few bytes of a frame cut by the read wait in pend; its capacity is reused, so a
	// connection allocates for this at most once in steady state.
	c.pend = append(c.pend[:0], data[used:]...)
}

// process consumes complete HTTP heads and frames from data and returns how many bytes it used.
func (l *loop) process(c *conn, slot int, data []byte, now time.Time) int {
	off := 0
	for off < len(data) && c.state != stateClosed {
		if c.skip > 0 {
			n := min(c.skip, int64(len(data)-off))
			c.skip -= n
			off += int(n)
			continue
		}
		if c.state == stateUpgrade {
			n, status, ok := wsframe.ParseUpgradeResponse(data[off:])
			if !ok {
				if len(data)-off > maxHead {
					l.connectFailed(c, "upgrade: response head too large")
				}
				return off
			}
			if status != 101 {
				l.connectFailed(c, "upgrade: status "+itoa(status))
				return off
			}
			off += n
			c.state = stateOpen
			continue
		}
		h, ok, err := wsframe.ParseHeader(data[off:])
		if err != nil {
			l.closeConn(c, err.Error())
			return off
		}
		if !ok {
			return off
		}
		if int64(h.Size)+h.Length > int64(len(l.buf)) {
			// Larger than the read buffer: none of the load tool's events is, so it is counted
			// as unstamped and skipped without a look. (Control frames are never this large.)
			off += h.Size
			c.skip = h.Length
			if h.Opcode == wsframe.OpText {
				l.c.events.Add(1)
				l.c.unstamped.Add(1)
			}
			continue
		}
		end := off + h.Size + int(h.Length)
		if end > len(data) {
			return off
		}
		l.frame(c, slot, h, data[off+h.Size:end], now)
		off = end
	}
	return off
}

// frame reacts to one complete frame.
func (l *loop) frame(c *conn, slot int, h wsframe.Header, payload []byte, now time.Time) {
	switch h.Opcode {
	case wsframe.OpText, wsframe.OpBinary:
		if !h.Fin {
			c.fragOp = h.Opcode
			c.frag = append(c.frag[:0], payload...)
			return
		}
		if h.Opcode == wsframe.OpText {
			l.packet(c, slot, payload, now)
		}
	case wsframe.OpContinuation:
		if len(c.frag)+len(payload) > maxMessage {
			l.closeConn(c, "fragmented message too large")
			return
		}
		c.frag = append(c.frag, payload...)
		if h.Fin {
			if c.fragOp == wsframe.OpText {
				l.packet(c, slot, c.frag, now)
			}
			c.frag = nil
		}
	case wsframe.OpPing:
		l.scratch = wsframe.AppendMasked(l.scratch[:0], wsframe.OpPong, payload, c.mask)
		l.write(c, slot, l.scratch)
	case wsframe.OpClose:
		l.closeConn(c, "close frame")
	}
}

// packet reacts to one Engine.IO packet.
func (l *loop) packet(c *conn, slot int, p []byte, now time.Time) {
	switch wsframe.Classify(p) {
	case wsframe.KindEvent:
		l.c.events.Add(1)
		phase, sent, ok := wsframe.Stamp(p)
		if !ok || phase >= MaxPhases {
			l.c.unstamped.Add(1)
			return
		}
		l.phases[phase].Record(now.UnixMicro() - sent)
	case wsframe.KindPing:
		l.c.pings.Add(1)
		l.scratch = wsframe.AppendMasked(l.scratch[:0], wsframe.OpText, pong, c.mask)
		l.write(c, slot, l.scratch)
	case wsframe.KindOpen:
		if c.state != stateOpen {
			return
		}
		c.state = stateAuth
		l.scratch = l.minter.connectFrame(l.scratch[:0], int(c.idx), c.mask)
		l.write(c, slot, l.scratch)
	case wsframe.KindConnect:
		if c.state != stateAuth {
			return
		}
		c.state = stateReady
		if !l.set.cfg.ImmediateACKs {
			// Leave the "quick ACK" mode in which Linux acknowledges every small segment as
			// soon as the reader drains it: over loopback the reader pays for sending that ACK
			// and for the server side's processing of it, about a third of the client's CPU
			// per delivery. Delayed ACKs are what an interactive connection gets anyway.
			_ = unix.SetsockoptInt(int(c.fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK, 0)
		}
		l.c.connected.Add(1)
		l.connect.Record(int64((time.Since(l.epoch) - c.started) / time.Microsecond))
	case wsframe.KindConnectError:
		l.connectFailed(c, "refused: "+string(p[2:min(len(p), 80)]))
	case wsframe.KindDisconnect:
		l.closeConn(c, "disconnected by server")
	case wsframe.KindClose:
		l.closeConn(c, "engine.io close")
	}
}

var pong = []byte("3")

// write sends b, keeping what the socket does not take for EPOLLOUT. b may be scratch: it is
// copied if kept.
func (l *loop) write(c *conn, slot int, b []byte) {
	if c.writing {
		if len(c.out)+len(b) > maxPendingWrite {
			l.closeConn(c, "server does not read")
			return
		}
		c.out = append(c.out, b...)
		return
	}
	n, err := unix.Write(int(c.fd), b)
	if err != nil && !errors.Is(err, unix.EAGAIN) {
		l.closeConn(c, "write: "+err.Error())
		return
	}
	n = max(n, 0)
	if n < len(b) {
		c.out = append(c.out[:0], b[n:]...)
		c.writing = true
		l.modify(c, slot, unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLOUT)
	}
}

// flush writes what write kept, and stops watching EPOLLOUT once it is all out.
func (l *loop) flush(c *conn, slot int) {
	n, err := unix.Write(int(c.fd), c.out)
	if err != nil && !errors.Is(err, unix.EAGAIN) {
		l.closeConn(c, "write: "+err.Error())
		return
	}
	n = max(n, 0)
	c.out = c.out[:copy(c.out, c.out[n:])]
	if len(c.out) == 0 {
		c.writing = false
		c.out = nil
		l.modify(c, slot, unix.EPOLLIN|unix.EPOLLRDHUP)
	}
}

func (l *loop) modify(c *conn, slot int, events uint32) bool {
	ev := unix.EpollEvent{Events: events, Fd: int32(slot)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, int(c.fd), &ev); err != nil {
		l.closeConn(c, "epoll_ctl: "+err.Error())
		return false
	}
	return true
}

// connectFailed ends a connection that never reached stateReady.
func (l *loop) connectFailed(c *conn, reason string) {
	if c.state == stateReady {
		l.closeConn(c, reason)
		return
	}
	l.c.failed.Add(1)
	l.release(c)
	l.fail(int(c.idx), reason)
}

// closeConn ends a connection; one that was ready counts as dropped, others as failed.
func (l *loop) closeConn(c *conn, reason string) {
	if c.state == stateClosed {
		return
	}
	if c.state != stateReady {
		l.connectFailed(c, reason)
		return
	}
	l.c.dropped.Add(1)
	l.release(c)
	l.fail(int(c.idx), reason)
}

func (l *loop) release(c *conn) {
	if c.fd >= 0 {
		unix.Close(int(c.fd)) // closing the only descriptor also removes it from epoll
		c.fd = -1
	}
	c.state = stateClosed
	c.pend, c.out, c.frag = nil, nil, nil
}

func itoa(v int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}
