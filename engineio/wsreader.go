package engineio

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"

	"github.com/gobwas/ws"
)

// frameReader reads the frames of one websocket connection. It is the narrow seam between the
// websocket transport and the way bytes arrive: today a goroutine per connection parked in
// waitReadable, later possibly an event loop that calls in when the socket is readable.
//
// An idle connection holds no read buffer: the reader waits for readability without one (see
// rawread_unix.go), then borrows a pooled buffer for as long as bytes are pending. Frames that
// do not fit the buffer are read into a slice of their exact size, bounded by max.
type frameReader struct {
	conn net.Conn
	raw  rawReader // nil when conn offers no raw access: it then reads into a held buffer
	max  int64     // the largest message accepted

	buf  *[]byte // borrowed from readBufPool while bytes are pending; nil when idle
	r, w int     // unread bytes are (*buf)[r:w]

	frag   []byte // the message being reassembled from fragments
	fragOp ws.OpCode
	inFrag bool

	// owned tells that the payload last returned is a fresh slice rather than a view of the
	// pooled buffer: the caller may keep it without copying.
	owned bool
}

const readBufSize = 4096

var readBufPool = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// Errors that close a websocket, with the close code they are reported with.
var (
	errFrameTooLarge = errors.New("engineio: websocket message larger than MaxPayload")
	errProtocol      = errors.New("engineio: websocket protocol error")
	errInvalidUTF8   = errors.New("engineio: invalid UTF-8 in a websocket text message")
)

func newFrameReader(conn net.Conn, pending []byte, max int64) *frameReader {
	fr := &frameReader{conn: conn, max: max, raw: newRawReader(conn)}
	if len(pending) > 0 {
		// Bytes the HTTP server read past the upgrade request belong to the first frames.
		if len(pending) <= readBufSize {
			fr.buf = readBufPool.Get().(*[]byte)
			fr.w = copy(*fr.buf, pending)
		} else {
			b := append([]byte(nil), pending...)
			fr.buf, fr.w = &b, len(b)
		}
	}
	return fr
}

// next returns the next control frame or complete data message. The payload is unmasked and
// stays valid until the following call.
func (fr *frameReader) next() (ws.OpCode, []byte, error) {
	for {
		op, fin, payload, err := fr.frame()
		if err != nil {
			return 0, nil, err
		}
		switch {
		case op.IsControl():
			return op, payload, nil
		case op == ws.OpContinuation:
			if !fr.inFrag {
				return 0, nil, errProtocol
			}
			if int64(len(fr.frag)+len(payload)) > fr.max {
				return 0, nil, errFrameTooLarge
			}
			fr.frag = append(fr.frag, payload...)
			if fin {
				m := fr.frag
				fr.frag, fr.inFrag = nil, false
				fr.owned = true
				return fr.fragOp, m, nil
			}
		case op == ws.OpText || op == ws.OpBinary:
			if fr.inFrag {
				return 0, nil, errProtocol
			}
			if fin {
				return op, payload, nil
			}
			fr.inFrag, fr.fragOp = true, op
			fr.frag = append([]byte(nil), payload...)
		default:
			return 0, nil, errProtocol // reserved opcode
		}
	}
}

// frame reads one frame.
func (fr *frameReader) frame() (op ws.OpCode, fin bool, payload []byte, err error) {
	fr.owned = false
	if fr.r == fr.w {
		fr.release() // give the buffer back before waiting for the next frame
	}
	if err = fr.need(2); err != nil {
		return
	}
	b := (*fr.buf)[fr.r:fr.w]
	if b[0]&0x70 != 0 { // RSV bits: no extension is ever negotiated
		return 0, false, nil, errProtocol
	}
	fin, op = b[0]&0x80 != 0, ws.OpCode(b[0]&0x0f)
	if b[1]&0x80 == 0 { // client frames must be masked (RFC 6455 §5.1)
		return 0, false, nil, errProtocol
	}
	hlen := 6
	switch b[1] & 0x7f {
	case 126:
		hlen += 2
	case 127:
		hlen += 8
	}
	if err = fr.need(hlen); err != nil {
		return
	}
	b = (*fr.buf)[fr.r:fr.w]
	var n uint64
	switch l := b[1] & 0x7f; l {
	case 126:
		n = uint64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		n = binary.BigEndian.Uint64(b[2:])
	default:
		n = uint64(l)
	}
	var mask [4]byte
	copy(mask[:], b[hlen-4:hlen])
	if op.IsControl() && (!fin || n > 125) {
		return 0, false, nil, errProtocol
	}
	if n > uint64(fr.max) {
		return 0, false, nil, errFrameTooLarge
	}
	fr.r += hlen
	if n <= uint64(len(*fr.buf)) {
		if err = fr.need(int(n)); err != nil {
			return
		}
		payload = (*fr.buf)[fr.r : fr.r+int(n)]
		fr.r += int(n)
	} else {
		payload = make([]byte, n)
		fr.owned = true
		c := copy(payload, (*fr.buf)[fr.r:fr.w])
		fr.r += c
		if _, err = io.ReadFull(fr.conn, payload[c:]); err != nil {
			return
		}
	}
	ws.Cipher(payload, mask, 0)
	return op, fin, payload, nil
}

// need makes sure n unread bytes (n <= the buffer size) are buffered.
func (fr *frameReader) need(n int) error {
	for fr.w-fr.r < n {
		if fr.buf == nil {
			if err := fr.waitReadable(); err != nil {
				return err
			}
			continue
		}
		buf := *fr.buf
		if len(buf)-fr.r < n {
			fr.w = copy(buf, buf[fr.r:fr.w])
			fr.r = 0
		}
		m, err := fr.conn.Read(buf[fr.w:])
		fr.w += m
		if m == 0 && err != nil {
			return err
		}
	}
	return nil
}

// waitReadable blocks until bytes arrive and leaves them in a borrowed buffer.
func (fr *frameReader) waitReadable() error {
	if fr.raw != nil {
		bp, n, err := fr.raw.read()
		if err != nil {
			return err
		}
		fr.buf, fr.r, fr.w = bp, 0, n
		return nil
	}
	bp := readBufPool.Get().(*[]byte)
	n, err := fr.conn.Read(*bp)
	if n == 0 {
		readBufPool.Put(bp)
		if err == nil {
			err = io.ErrNoProgress
		}
		return err
	}
	fr.buf, fr.r, fr.w = bp, 0, n
	return nil
}

// release returns the buffer to the pool; the reader must have consumed everything in it.
func (fr *frameReader) release() {
	if fr.buf != nil {
		if cap(*fr.buf) == readBufSize {
			readBufPool.Put(fr.buf)
		}
		fr.buf, fr.r, fr.w = nil, 0, 0
	}
}
