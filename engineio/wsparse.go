package engineio

import (
	"encoding/binary"
	"errors"

	"github.com/gobwas/ws"
)

// This file holds what both websocket read paths share: decoding a client frame header and
// reassembling fragmented messages. Neither does I/O.

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
