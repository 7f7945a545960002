package engineio

import (
	"encoding/binary"

	"github.com/gobwas/ws"
	"github.com/tomato-code/realtime/engineio/packet"
)

// frameHeaderLen returns the size of the header of an unmasked frame with n bytes of payload.
func frameHeaderLen(n int) int {
	return ws.HeaderSize(ws.Header{Length: int64(n)})
}

// appendFrameHeader appends the header of a final, unmasked server frame.
func appendFrameHeader(dst []byte, op ws.OpCode, n int) []byte {
	b0 := 0x80 | byte(op)
	switch {
	case n <= 125:
		return append(dst, b0, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, b0, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, b0, 127), uint64(n))
	}
}

// controlFrame returns a complete server control frame.
func controlFrame(op ws.OpCode, payload []byte) []byte {
	return append(appendFrameHeader(make([]byte, 0, 2+len(payload)), op, len(payload)), payload...)
}

// appendPacketFrame appends the frame that carries one Engine.IO packet: a text frame with the
// type byte before data, or for binary data a binary frame of data alone.
func appendPacketFrame(dst []byte, typ packet.Type, data []byte, isBinary bool) []byte {
	if isBinary {
		return append(appendFrameHeader(dst, ws.OpBinary, len(data)), data...)
	}
	dst = append(appendFrameHeader(dst, ws.OpText, 1+len(data)), byte(typ))
	return append(dst, data...)
}
