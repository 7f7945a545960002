package engineio

import (
	"encoding/binary"
	"errors"

	"github.com/gobwas/ws"
)

// This file decodes what clients send over websocket: frame headers and fragmented messages,
// which both read paths share, and the incremental parser of the ReadPoller path. None of it
// does I/O.

// Errors that close a websocket, with the close code they are reported with.
var (
	errFrameTooLarge = errors.New("engineio: websocket message larger than MaxPayload")
	errProtocol      = errors.New("engineio: websocket protocol error")
	errInvalidUTF8   = errors.New("engineio: invalid UTF-8 in a websocket text message")
)

// maxClientHeader is the longest client frame header: 2 bytes, 8 of extended length, 4 of mask.
const maxClientHeader = 14

// clientHeader is the decoded header of a frame sent by a client.
type clientHeader struct {
	op     ws.OpCode
	fin    bool
	mask   [4]byte
	length int // payload bytes, at most the max passed to parseClientHeader
	size   int // header bytes
}

// parseClientHeader decodes the frame header at the start of b. ok is false while b is too
// short to hold it. It checks what every client frame must satisfy, as soon as the bytes that
// show a violation are there: no reserved bit (no extension is ever negotiated), a mask (RFC
// 6455 §5.1), control frames final and at most 125 bytes long, a payload of at most max bytes.
func parseClientHeader(b []byte, max int64) (h clientHeader, ok bool, err error) {
	if len(b) < 2 {
		return h, false, nil
	}
	if b[0]&0x70 != 0 || b[1]&0x80 == 0 {
		return h, false, errProtocol
	}
	h.fin, h.op = b[0]&0x80 != 0, ws.OpCode(b[0]&0x0f)
	h.size = 6
	switch b[1] & 0x7f {
	case 126:
		h.size += 2
	case 127:
		h.size += 8
	}
	if len(b) < h.size {
		return h, false, nil
	}
	var n uint64
	switch l := b[1] & 0x7f; l {
	case 126:
		n = uint64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		n = binary.BigEndian.Uint64(b[2:])
	default:
		n = uint64(l)
	}
	if h.op.IsControl() && (!h.fin || n > 125) {
		return h, false, errProtocol
	}
	if n > uint64(max) {
		return h, false, errFrameTooLarge
	}
	h.length = int(n)
	copy(h.mask[:], b[h.size-4:h.size])
	return h, true, nil
}

// fragments reassembles a data message sent in several frames (RFC 6455 §5.4). Its buffer
// exists only while a fragmented message is under way.
type fragments struct {
	buf    []byte
	op     ws.OpCode
	active bool
}

// add takes the unmasked payload of one frame and returns the control frame or complete data
// message it yields, if any: done is false while a fragmented message goes on. owned tells
// that msg is a fresh slice rather than payload itself.
func (f *fragments) add(op ws.OpCode, fin bool, payload []byte, max int64) (msgOp ws.OpCode, msg []byte, done, owned bool, err error) {
	switch {
	case op.IsControl():
		return op, payload, true, false, nil
	case op == ws.OpContinuation:
		if !f.active {
			return 0, nil, false, false, errProtocol
		}
		if int64(len(f.buf)+len(payload)) > max {
			return 0, nil, false, false, errFrameTooLarge
		}
		f.buf = append(f.buf, payload...)
		if !fin {
			return 0, nil, false, false, nil
		}
		m := f.buf
		f.buf, f.active = nil, false
		return f.op, m, true, true, nil
	case op == ws.OpText || op == ws.OpBinary:
		if f.active {
			return 0, nil, false, false, errProtocol
		}
		if fin {
			return op, payload, true, false, nil
		}
		f.active, f.op = true, op
		f.buf = append([]byte(nil), payload...)
		return 0, nil, false, false, nil
	default:
		return 0, nil, false, false, errProtocol // reserved opcode
	}
}

// frameParser is the incremental parser of the ReadPoller path: it is fed whatever a read
// returned and keeps, between reads, only the bytes of an incomplete frame and the message
// being reassembled from fragments.
type frameParser struct {
	// No copy of the payload limit: it is the Server's, passed to feed, and a connection's
	// inbound state fits a smaller size class without it.
	partial []byte // an incomplete frame, header included; nil when none
	frag    fragments
}

// emitFunc receives a control frame or complete data message. owned tells that msg is a slice
// of its own; otherwise it is a view of the buffer fed, valid until feed returns.
type emitFunc func(op ws.OpCode, msg []byte, owned bool)

// feed consumes data, which it may modify in place (unmasking), and passes every frame it
// completes to emit, in order. An error is a protocol violation: nothing more may be fed.
func (p *frameParser) feed(data []byte, limit int64, emit emitFunc) error {
	for len(data) > 0 {
		if p.partial != nil {
			rest, err := p.completePartial(data, limit, emit)
			if err != nil {
				return err
			}
			data = rest
			continue
		}
		h, ok, err := parseClientHeader(data, limit)
		if err != nil {
			return err
		}
		if !ok || len(data) < h.size+h.length {
			// Keep the start of the frame, with room for the whole of it once its size is
			// known: later bytes are appended without a copy of what came before.
			size := maxClientHeader
			if ok {
				size = h.size + h.length
			}
			p.partial = append(make([]byte, 0, min(size, 2*len(data)+maxClientHeader)), data...)
			return nil
		}
		payload := data[h.size : h.size+h.length]
		ws.Cipher(payload, h.mask, 0)
		data = data[h.size+h.length:]
		if err := p.frame(h.op, h.fin, payload, false, limit, emit); err != nil {
			return err
		}
	}
	return nil
}

// completePartial appends the bytes of data that belong to the incomplete frame and handles
// the frame once it is whole. It returns what remains of data.
func (p *frameParser) completePartial(data []byte, limit int64, emit emitFunc) ([]byte, error) {
	for {
		h, ok, err := parseClientHeader(p.partial, limit)
		if err != nil {
			return nil, err
		}
		if !ok {
			if len(data) == 0 {
				return data, nil
			}
			// Add header bytes only: the frame may be shorter than the longest header.
			need := 2
			if len(p.partial) >= 2 {
				need = h.size
			}
			k := min(need-len(p.partial), len(data))
			p.partial = append(p.partial, data[:k]...)
			data = data[k:]
			continue
		}
		size := h.size + h.length
		k := min(size-len(p.partial), len(data))
		if cap(p.partial) < len(p.partial)+k {
			// Grow by doubling, capped at the frame's size: a client that announces a large
			// frame and sends it slowly gets memory as its bytes arrive, not upfront.
			grown := make([]byte, len(p.partial), min(size, max(2*cap(p.partial), len(p.partial)+k)))
			copy(grown, p.partial)
			p.partial = grown
		}
		p.partial = append(p.partial, data[:k]...)
		data = data[k:]
		if len(p.partial) < size {
			return data, nil
		}
		payload := p.partial[h.size:size]
		p.partial = nil
		ws.Cipher(payload, h.mask, 0)
		return data, p.frame(h.op, h.fin, payload, true, limit, emit)
	}
}

// frame handles one unmasked frame: owned tells that payload is a slice of its own rather
// than a view of the buffer fed.
func (p *frameParser) frame(op ws.OpCode, fin bool, payload []byte, owned bool, limit int64, emit emitFunc) error {
	op, msg, done, fresh, err := p.frag.add(op, fin, payload, limit)
	if err != nil || !done {
		return err
	}
	emit(op, msg, owned || fresh)
	return nil
}
