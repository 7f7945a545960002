package engineio

import (
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

	frag fragments

	// owned tells that the payload last returned is a fresh slice rather than a view of the
	// pooled buffer: the caller may keep it without copying.
	owned bool
}

const readBufSize = 4096

var readBufPool = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

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
		op, msg, done, owned, err := fr.frag.add(op, fin, payload, fr.max)
		if err != nil {
			return 0, nil, err
		}
		if done {
			fr.owned = fr.owned || owned
			return op, msg, nil
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
	h, ok, err := parseClientHeader((*fr.buf)[fr.r:fr.w], fr.max)
	if err != nil {
		return
	}
	if !ok {
		if err = fr.need(h.size); err != nil {
			return
		}
		if h, _, err = parseClientHeader((*fr.buf)[fr.r:fr.w], fr.max); err != nil {
			return
		}
	}
	fr.r += h.size
	n := h.length
	if n <= len(*fr.buf) {
		if err = fr.need(n); err != nil {
			return
		}
		payload = (*fr.buf)[fr.r : fr.r+n]
		fr.r += n
	} else {
		payload = make([]byte, n)
		fr.owned = true
		c := copy(payload, (*fr.buf)[fr.r:fr.w])
		fr.r += c
		if _, err = io.ReadFull(fr.conn, payload[c:]); err != nil {
			return
		}
	}
	ws.Cipher(payload, h.mask, 0)
	return h.op, h.fin, payload, nil
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
