package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tomato-code/realtime/engineio/packet"
)

// openInfo is the JSON of the Engine.IO open packet.
type openInfo struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int64    `json:"maxPayload"`
}

func parseOpen(p packet.Packet) (openInfo, error) {
	var info openInfo
	if p.Type != packet.Open || p.Binary {
		return info, fmt.Errorf("expected an open packet, got %s", p.Type)
	}
	if err := json.Unmarshal(p.Data, &info); err != nil {
		return info, fmt.Errorf("open packet: %w", err)
	}
	if info.SID == "" || info.PingInterval <= 0 || info.PingTimeout <= 0 {
		return info, errors.New("open packet lacks sid, pingInterval or pingTimeout")
	}
	return info, nil
}

// transport is one Engine.IO transport of a connection. run reads packets and passes them to
// the engine until the transport ends; send may be called from any goroutine.
type transport interface {
	name() string
	// send writes the packets in order. The packets' data is not retained after it returns.
	send(pkts ...packet.Packet) error
	// run reads until the transport ends and returns why. Packets passed to receive alias
	// buffers that are reused after receive returns.
	run(receive func(packet.Packet) error) error
	// close ends the transport; run returns soon after. graceful asks to tell the server first.
	close(graceful bool)
}

// engineHandler receives what an engine reads. Calls come from one goroutine at a time, in order.
type engineHandler interface {
	onMessage(data []byte, binary bool)
	onClose(reason DisconnectReason, err error)
}

// engine is one Engine.IO client session: its transport (which changes once on upgrade), the
// heartbeat and the close.
type engine struct {
	cfg     *dialConfig
	info    openInfo
	handler engineHandler

	// switchMu is held for reading around sends and for writing while the transport changes,
	// so that no packet is sent on polling after the upgrade packet went out on websocket.
	switchMu sync.RWMutex
	tr       transport

	pingTimer *time.Timer
	pingWait  time.Duration

	closeOnce sync.Once
	closing   atomic.Bool
	done      chan struct{}
	reason    DisconnectReason
	err       error

	pings    atomic.Uint64
	received atomic.Uint64
	sent     atomic.Uint64
}

// dial performs the handshake on the configured transport and starts the read loop.
func dial(ctx context.Context, cfg *dialConfig) (*Conn, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.handshakeTimeout)
		defer cancel()
	}
	e := &engine{cfg: cfg, done: make(chan struct{})}
	c := newConn(e)
	e.handler = c
	var (
		tr   transport
		open packet.Packet
		err  error
	)
	var first []packet.Packet
	if cfg.transport == TransportPolling {
		var pt *pollingTransport
		pt, first, err = openPolling(ctx, cfg)
		tr = pt
	} else {
		var wt *wsTransport
		wt, err = openWebSocket(ctx, cfg, "")
		if err == nil {
			open, err = wt.readPacket()
			if err == nil {
				first = []packet.Packet{open}
			} else {
				wt.close(false)
			}
		}
		tr = wt
	}
	if err != nil {
		return nil, err
	}
	info, err := parseOpen(first[0])
	if err != nil {
		tr.close(false)
		return nil, fmt.Errorf("socket.io client: handshake: %w", err)
	}
	e.info = info
	e.tr = tr
	if pt, ok := tr.(*pollingTransport); ok {
		pt.setSession(info)
	}
	e.pingWait = time.Duration(info.PingInterval+info.PingTimeout) * time.Millisecond
	// The callback must not read e.pingTimer: it may fire before the assignment is visible.
	e.pingTimer = time.AfterFunc(e.pingWait, func() { e.shutdown(ReasonPingTimeout, nil, false) })
	// Packets that came in the handshake response after the open packet (polling) are
	// handled on the read goroutine, before anything it reads.
	rest := first[1:]
	go e.readLoop(tr, rest)
	if cfg.transport == TransportPolling && cfg.upgrade && contains(info.Upgrades, TransportWebSocket) {
		go e.upgrade()
	}
	return c, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// readLoop runs a transport's read loop and closes the engine when it ends, unless the
// transport was replaced by an upgrade (then the new transport's loop has taken over).
func (e *engine) readLoop(tr transport, pending []packet.Packet) {
	for _, p := range pending {
		if err := e.receive(p); err != nil {
			e.close(reasonOf(err), err)
			return
		}
	}
	err := tr.run(e.receive)
	if errors.Is(err, errPaused) {
		return
	}
	e.close(reasonOf(err), err)
}

// errors that end a read loop, mapped to close reasons by reasonOf.
var (
	errPaused       = errors.New("transport paused for upgrade")
	errServerClosed = errors.New("server closed the connection")
)

type parseError struct{ err error }

func (e *parseError) Error() string { return e.err.Error() }
func (e *parseError) Unwrap() error { return e.err }

func reasonOf(err error) DisconnectReason {
	var pe *parseError
	switch {
	case errors.Is(err, errServerClosed):
		return ReasonTransportClose
	case errors.As(err, &pe):
		return ReasonParseError
	}
	return ReasonTransportError
}

// receive handles one packet read from the current transport, on its read goroutine.
func (e *engine) receive(p packet.Packet) error {
	switch p.Type {
	case packet.Message:
		e.received.Add(1)
		e.handler.onMessage(p.Data, p.Binary)
	case packet.Ping:
		// Engine.IO 4: the server pings, the client answers. engine.io-client re-arms its
		// timeout on pings only, and so do we.
		e.pings.Add(1)
		e.pingTimer.Reset(e.pingWait)
		if err := e.send(packet.Packet{Type: packet.Pong}); err != nil && !errors.Is(err, ErrClosed) {
			return err
		}
	case packet.Close:
		return errServerClosed
	case packet.Noop, packet.Pong, packet.Open, packet.Upgrade:
		// Noop releases a poll during an upgrade; the others have no meaning here.
	default:
		return &parseError{packet.ErrUnknownType}
	}
	return nil
}

// send writes packets on the current transport.
func (e *engine) send(pkts ...packet.Packet) error {
	if e.closing.Load() {
		return ErrClosed
	}
	e.switchMu.RLock()
	tr := e.tr
	err := tr.send(pkts...)
	e.switchMu.RUnlock()
	if err != nil {
		if errors.Is(err, ErrWriteQueueFull) {
			return err
		}
		if e.closing.Load() {
			return ErrClosed
		}
		e.close(ReasonTransportError, err)
		return &CloseError{Reason: ReasonTransportError, Err: err}
	}
	return nil
}

// sendMessage sends one Socket.IO packet and its binary attachments as Engine.IO messages.
func (e *engine) sendMessage(text []byte, attachments [][]byte) error {
	if len(attachments) == 0 {
		err := e.send(packet.Packet{Type: packet.Message, Data: text})
		if err == nil {
			e.sent.Add(1)
		}
		return err
	}
	pkts := make([]packet.Packet, 0, 1+len(attachments))
	pkts = append(pkts, packet.Packet{Type: packet.Message, Data: text})
	for _, a := range attachments {
		pkts = append(pkts, packet.Packet{Type: packet.Message, Data: a, Binary: true})
	}
	err := e.send(pkts...)
	if err == nil {
		e.sent.Add(uint64(len(pkts)))
	}
	return err
}

// transportName returns the current transport's name.
func (e *engine) transportName() string {
	e.switchMu.RLock()
	defer e.switchMu.RUnlock()
	return e.tr.name()
}

// close ends the session once; later calls do nothing. A client-initiated close tells the
// server (close packet over polling, close frame over websocket).
func (e *engine) close(reason DisconnectReason, err error) {
	e.shutdown(reason, err, true)
}

// shutdown is close; stopTimer is false when the ping timer itself is closing the session.
func (e *engine) shutdown(reason DisconnectReason, err error, stopTimer bool) {
	e.closeOnce.Do(func() {
		e.closing.Store(true)
		if stopTimer {
			e.pingTimer.Stop()
		}
		e.switchMu.RLock()
		tr := e.tr
		e.switchMu.RUnlock()
		tr.close(reason == ReasonClientDisconnect)
		e.reason, e.err = reason, err
		e.handler.onClose(reason, err)
		close(e.done)
	})
}

// sessionURL returns the Engine.IO URL for transport name, with the session id when sid is set.
func (c *dialConfig) sessionURL(name, sid string) string {
	u := *c.base
	q := u.Query()
	q.Set("EIO", "4")
	q.Set("transport", name)
	if sid != "" {
		q.Set("sid", sid)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
