package packet

import (
	"bytes"
	"encoding/base64"
)

// Decode decodes the payload of one websocket frame. binary tells whether it came in a binary
// frame: then the whole frame is the data of a binary message. Otherwise the first byte is the
// packet type and the rest its data. The returned Data aliases b.
func Decode(b []byte, binary bool) (Packet, error) {
	if binary {
		return Packet{Type: Message, Data: b, Binary: true}, nil
	}
	if len(b) == 0 {
		return Packet{}, ErrEmpty
	}
	t := Type(b[0])
	if !t.Valid() {
		return Packet{}, ErrUnknownType
	}
	return Packet{Type: t, Data: b[1:]}, nil
}

// DecodePayload decodes a polling body and calls fn for each packet in order. It stops at the
// first invalid packet, before calling fn for it, or at the first error fn returns, and returns
// that error. An empty body or an empty record is invalid, as it is for the reference parser.
//
// Text packets alias body. Binary packets are decoded from base64 into a fresh slice each.
// Nothing is delivered from an invalid body after its first bad record, but the records
// before it have been delivered: callers that must be all-or-nothing decode twice or buffer.
func DecodePayload(body []byte, fn func(Packet) error) error {
	if len(body) == 0 {
		return ErrEmpty
	}
	for {
		rec, rest, more := bytes.Cut(body, []byte{Separator})
		p, err := decodeRecord(rec)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		if !more {
			return nil
		}
		body = rest
	}
}

func decodeRecord(rec []byte) (Packet, error) {
	if len(rec) > 0 && rec[0] == 'b' {
		enc := rec[1:]
		data := make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
		n, err := base64.StdEncoding.Decode(data, enc)
		if err != nil {
			return Packet{}, ErrBadBase64
		}
		return Packet{Type: Message, Data: data[:n], Binary: true}, nil
	}
	return Decode(rec, false)
}
