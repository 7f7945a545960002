package client

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/tomato-code/realtime/engineio/packet"
)

// wsTransport is the websocket transport: one Engine.IO packet per frame, text packets in text
// frames, binary messages as raw bytes in binary frames. One goroutine reads (run); writers
// share a mutex and write each call's frames with one system call.
type wsTransport struct {
	conn         net.Conn
	r            *bufio.Reader
	writeTimeout time.Duration
	maxMessage   int64

	hdr  [ws.MaxHeaderSize]byte // read header scratch
	rbuf []byte                 // payload of the message being read; reused

	wmu    sync.Mutex
	wbuf   []byte // frames being written; reused
	closed bool
}

// openWebSocket dials the websocket endpoint; sid is set when upgrading a polling session.
func openWebSocket(ctx context.Context, cfg *dialConfig, sid string) (*wsTransport, error) {
	u := cfg.sessionURL(TransportWebSocket, sid)
	u = "ws" + strings.TrimPrefix(u, "http") // http -> ws, https -> wss
	var refused *HandshakeError
	d := ws.Dialer{
		Header: ws.HandshakeHeaderHTTP(cfg.header),
		NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nd := net.Dialer{LocalAddr: cfg.localAddr}
			return nd.DialContext(ctx, network, addr)
		},
		OnStatusError: func(status int, _ []byte, resp io.Reader) {
			refused = readRefusal(status, resp)
		},
	}
	conn, br, _, err := d.Dial(ctx, u)
	if err != nil {
		if refused != nil {
			return nil, refused
		}
		return nil, fmt.Errorf("socket.io client: websocket: %w", err)
	}
	t := &wsTransport{
		conn:         conn,
		writeTimeout: cfg.writeTimeout,
		maxMessage:   cfg.maxMessageBytes,
	}
	if br != nil && br.Buffered() > 0 {
		// The server wrote frames right after the upgrade response; read them first.
		t.r = bufio.NewReaderSize(io.MultiReader(br, conn), cfg.readBufferSize)
	} else {
		if br != nil {
			ws.PutReader(br)
		}
		t.r = bufio.NewReaderSize(conn, cfg.readBufferSize)
	}
	// The open packet (or the probe reply) must arrive within the handshake deadline.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetReadDeadline(dl)
	}
	return t, nil
}

// readRefusal reads the HTTP response that refused the upgrade. resp holds the whole response;
// it is read by its Content-Length so as not to wait for the server to close the connection.
func readRefusal(status int, resp io.Reader) *HandshakeError {
	r, err := http.ReadResponse(bufio.NewReader(resp), nil)
	if err != nil {
		return &HandshakeError{Status: status}
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
	return handshakeError(status, body)
}

func (t *wsTransport) name() string { return TransportWebSocket }

// readPacket reads the next Engine.IO packet, answering control frames on the way. The
// packet's data aliases t.rbuf until the next call.
func (t *wsTransport) readPacket() (packet.Packet, error) {
	t.rbuf = t.rbuf[:0]
	var (
		op      ws.OpCode
		started bool
	)
	for {
		h, err := ws.ReadHeaderBuffer(t.r, t.hdr[:])
		if err != nil {
			return packet.Packet{}, err
		}
		if h.Rsv != 0 {
			return packet.Packet{}, &parseError{errors.New("websocket: reserved bits set (no extension was negotiated)")}
		}
		if h.OpCode.IsControl() {
			if h.Length > 125 || !h.Fin {
				return packet.Packet{}, &parseError{errors.New("websocket: bad control frame")}
			}
			var payload [125]byte
			p := payload[:h.Length]
			if _, err := io.ReadFull(t.r, p); err != nil {
				return packet.Packet{}, err
			}
			if h.Masked {
				ws.Cipher(p, h.Mask, 0)
			}
			switch h.OpCode {
			case ws.OpPing:
				if err := t.writeFrame(ws.OpPong, p); err != nil {
					return packet.Packet{}, err
				}
			case ws.OpClose:
				_ = t.writeFrame(ws.OpClose, p[:min(len(p), 2)])
				return packet.Packet{}, errServerClosed
			}
			continue
		}
		switch {
		case h.OpCode == ws.OpContinuation && !started:
			return packet.Packet{}, &parseError{errors.New("websocket: continuation frame without a message")}
		case h.OpCode != ws.OpContinuation && started:
			return packet.Packet{}, &parseError{errors.New("websocket: new message inside a fragmented one")}
		case h.OpCode == ws.OpText || h.OpCode == ws.OpBinary:
			op, started = h.OpCode, true
		case h.OpCode != ws.OpContinuation:
			return packet.Packet{}, &parseError{fmt.Errorf("websocket: unknown opcode %d", h.OpCode)}
		}
		if h.Length > t.maxMessage-int64(len(t.rbuf)) {
			return packet.Packet{}, fmt.Errorf("websocket: message larger than %d bytes", t.maxMessage)
		}
		n := len(t.rbuf)
		t.rbuf = grow(t.rbuf, int(h.Length))
		if _, err := io.ReadFull(t.r, t.rbuf[n:]); err != nil {
			return packet.Packet{}, err
		}
		if h.Masked {
			ws.Cipher(t.rbuf[n:], h.Mask, 0)
		}
		if h.Fin {
			p, err := packet.Decode(t.rbuf, op == ws.OpBinary)
			if err != nil {
				return packet.Packet{}, &parseError{err}
			}
			return p, nil
		}
	}
}

// grow extends b by n bytes, reallocating when its capacity is short.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, max(2*cap(b), len(b)+n, 512))
	copy(nb, b)
	return nb
}

func (t *wsTransport) run(receive func(packet.Packet) error) error {
	// The engine's ping timer watches the heartbeat; the socket itself needs no deadline.
	_ = t.conn.SetReadDeadline(time.Time{})
	for {
		p, err := t.readPacket()
		if err != nil {
			return err
		}
		if err := receive(p); err != nil {
			return err
		}
		// Do not let one large message pin a large buffer for the rest of the connection.
		if cap(t.rbuf) > 64<<10 {
			t.rbuf = nil
		}
	}
}

func (t *wsTransport) send(pkts ...packet.Packet) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.closed {
		return ErrClosed
	}
	b := t.wbuf[:0]
	for _, p := range pkts {
		if p.Binary {
			b = appendClientFrame(b, ws.OpBinary, nil, p.Data)
		} else {
			b = appendClientFrame(b, ws.OpText, []byte{byte(p.Type)}, p.Data)
		}
	}
	err := t.write(b)
	if cap(b) <= 64<<10 {
		t.wbuf = b[:0]
	}
	return err
}

// writeFrame writes one control frame.
func (t *wsTransport) writeFrame(op ws.OpCode, payload []byte) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.closed {
		return ErrClosed
	}
	var buf [ws.MaxHeaderSize + 125]byte
	return t.write(appendClientFrame(buf[:0], op, nil, payload))
}

// write writes b with the write deadline; the caller holds wmu.
func (t *wsTransport) write(b []byte) error {
	_ = t.conn.SetWriteDeadline(time.Now().Add(t.writeTimeout))
	_, err := t.conn.Write(b)
	return err
}

// appendClientFrame appends a final, masked frame whose payload is prefix followed by data, as
// a client must send it (RFC 6455 §5.3).
func appendClientFrame(dst []byte, op ws.OpCode, prefix, data []byte) []byte {
	n := len(prefix) + len(data)
	b0 := 0x80 | byte(op)
	switch {
	case n <= 125:
		dst = append(dst, b0, 0x80|byte(n))
	case n <= 0xffff:
		dst = binary.BigEndian.AppendUint16(append(dst, b0, 0x80|126), uint16(n))
	default:
		dst = binary.BigEndian.AppendUint64(append(dst, b0, 0x80|127), uint64(n))
	}
	mask := ws.NewMask()
	dst = append(dst, mask[:]...)
	start := len(dst)
	dst = append(append(dst, prefix...), data...)
	ws.Cipher(dst[start:], mask, 0)
	return dst
}

func (t *wsTransport) close(graceful bool) {
	t.wmu.Lock()
	if t.closed {
		t.wmu.Unlock()
		return
	}
	if graceful {
		var buf [ws.MaxHeaderSize + 2]byte
		body := binary.BigEndian.AppendUint16(nil, uint16(ws.StatusNormalClosure))
		_ = t.conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = t.conn.Write(appendClientFrame(buf[:0], ws.OpClose, nil, body))
	}
	t.closed = true
	t.wmu.Unlock()
	_ = t.conn.Close()
}
