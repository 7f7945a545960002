package packet

import "encoding/base64"

// AppendPacket appends the text encoding of p to dst: the type character and the data, as a
// websocket text frame carries it. A binary message is appended as a polling record ("b" and
// base64) because text cannot hold raw bytes; over websocket send binary data in a binary frame
// instead.
func AppendPacket(dst []byte, p Packet) []byte {
	if p.Binary {
		dst = append(dst, 'b')
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	dst = append(dst, byte(p.Type))
	return append(dst, p.Data...)
}

// AppendPayload appends the polling encoding of ps to dst: the packets' text encodings joined
// by Separator, binary messages as "b" and base64.
func AppendPayload(dst []byte, ps []Packet) []byte {
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, Separator)
		}
		dst = AppendPacket(dst, p)
	}
	return dst
}

// EncodedLen returns the number of bytes AppendPacket appends for p.
func EncodedLen(p Packet) int {
	if p.Binary {
		return 1 + base64.StdEncoding.EncodedLen(len(p.Data))
	}
	return 1 + len(p.Data)
}
