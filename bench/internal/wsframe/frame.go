// Package wsframe is the load tool's wire code: WebSocket frame headers (RFC 6455), the client
// side of the opening handshake, and a scan of Engine.IO/Socket.IO text packets that finds what
// the load tool needs without decoding JSON.
//
// Everything here is a pure function over byte slices: no I/O and no allocation, so that the
// receive path of tens of thousands of connections costs only the scan.
package wsframe

import (
	"encoding/binary"
	"errors"
)

// Opcodes of RFC 6455 §5.2.
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xA
)

// MaxHeaderSize is the longest frame header: 2 bytes, an 8-byte length and a 4-byte mask.
const MaxHeaderSize = 14

// Errors of ParseHeader.
var (
	ErrReserved       = errors.New("wsframe: reserved bits or opcode set")
	ErrControl        = errors.New("wsframe: fragmented or oversized control frame")
	ErrLength         = errors.New("wsframe: invalid payload length")
	ErrMaskedByServer = errors.New("wsframe: server frame is masked")
)

// Header is a parsed frame header.
type Header struct {
	Fin    bool
	Opcode byte
	// Length is the payload length.
	Length int64
	// Size is the length of the header itself: the payload starts Size bytes into the frame.
	Size int
}

// ParseHeader parses the header of a server-to-client frame at the start of b. It returns ok
// false, and no error, when b is too short to hold the whole header.
func ParseHeader(b []byte) (h Header, ok bool, err error) {
	if len(b) < 2 {
		return h, false, nil
	}
	b0, b1 := b[0], b[1]
	h.Fin = b0&0x80 != 0
	h.Opcode = b0 & 0x0F
	if b0&0x70 != 0 {
		return h, false, ErrReserved
	}
	switch h.Opcode {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
	default:
		return h, false, ErrReserved
	}
	if b1&0x80 != 0 {
		// RFC 6455 §5.1: a client must close the connection on a masked server frame.
		return h, false, ErrMaskedByServer
	}
	n := int64(b1 & 0x7F)
	h.Size = 2
	switch n {
	case 126:
		if len(b) < 4 {
			return h, false, nil
		}
		n = int64(binary.BigEndian.Uint16(b[2:4]))
		h.Size = 4
	case 127:
		if len(b) < 10 {
			return h, false, nil
		}
		u := binary.BigEndian.Uint64(b[2:10])
		if u>>63 != 0 {
			return h, false, ErrLength
		}
		n = int64(u)
		h.Size = 10
	}
	if h.Opcode >= OpClose && (!h.Fin || n > 125) {
		return h, false, ErrControl
	}
	h.Length = n
	return h, true, nil
}

// AppendMasked appends a final client-to-server frame carrying payload, masked with key as
// RFC 6455 §5.3 requires of clients.
func AppendMasked(dst []byte, opcode byte, payload []byte, key [4]byte) []byte {
	dst = appendHeader(dst, opcode, len(payload), 0x80)
	dst = append(dst, key[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	for i := range payload {
		dst[start+i] ^= key[i&3]
	}
	return dst
}

// AppendHeader appends the header of a final unmasked frame of n payload bytes, as a server
// sends it: the fake servers that measure the load tool, or that it measures against.
func AppendHeader(dst []byte, opcode byte, n int) []byte {
	return appendHeader(dst, opcode, n, 0)
}

// appendHeader appends a final frame's header without the masking key; mask is 0x80 for a
// masked frame, 0 otherwise.
func appendHeader(dst []byte, opcode byte, n int, mask byte) []byte {
	dst = append(dst, 0x80|opcode)
	switch {
	case n < 126:
		return append(dst, mask|byte(n))
	case n <= 0xFFFF:
		return append(dst, mask|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, mask|127)
		return binary.BigEndian.AppendUint64(dst, uint64(n))
	}
}
