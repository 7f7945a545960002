package client

import (
	"context"
	"time"

	"github.com/tomato-code/realtime/engineio/packet"
)

var probe = []byte("probe")

// upgrade moves a polling session to websocket: probe a websocket with the session id, pause
// polling once the probe answered, send the upgrade packet and switch. Any failure before the
// switch leaves the session on polling, as socket.io-client does.
func (e *engine) upgrade() {
	if wt := e.switchToWebSocket(); wt != nil {
		e.readLoop(wt, nil)
	}
}

// switchToWebSocket performs the upgrade and returns the websocket transport now in use, or nil
// when the session stays on polling.
func (e *engine) switchToWebSocket() *wsTransport {
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.handshakeTimeout)
	defer cancel()
	go func() {
		select {
		case <-e.done:
			cancel()
		case <-ctx.Done():
		}
	}()

	wt, err := openWebSocket(ctx, e.cfg, e.info.SID)
	if err != nil {
		return nil
	}
	// A session that ends while the probe is under way must not leave this read waiting.
	stop := context.AfterFunc(ctx, func() { _ = wt.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := wt.send(packet.Packet{Type: packet.Ping, Data: probe}); err != nil {
		wt.close(false)
		return nil
	}
	p, err := wt.readPacket()
	if err != nil || p.Type != packet.Pong || string(p.Data) != string(probe) {
		wt.close(false)
		return nil
	}

	e.switchMu.RLock()
	pt, ok := e.tr.(*pollingTransport)
	e.switchMu.RUnlock()
	if !ok {
		wt.close(false)
		return nil
	}
	// The server answers the poll under way with a noop once it saw the probe; wait for the
	// poll loop to hand over.
	if err := pt.pause(ctx); err != nil {
		wt.close(false)
		e.resumePolling(pt)
		return nil
	}

	// The write lock waits for the sends under way on polling (and their POSTs) to finish.
	e.switchMu.Lock()
	if e.closing.Load() {
		e.switchMu.Unlock()
		wt.close(false)
		return nil
	}
	if err := wt.send(packet.Packet{Type: packet.Upgrade}); err != nil {
		e.switchMu.Unlock()
		wt.close(false)
		e.resumePolling(pt)
		return nil
	}
	e.tr = wt
	e.switchMu.Unlock()
	pt.close(false)
	return wt
}

// resumePolling restarts the poll loop after a failed upgrade, if it had already stopped.
func (e *engine) resumePolling(pt *pollingTransport) {
	if pt.resume() {
		go e.readLoop(pt, nil)
	}
}
