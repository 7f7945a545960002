package httpsend

import "strconv"

// Post returns the bytes of a complete POST request to path on host with a JSON body and the
// internal API key header.
func Post(host, path, key string, body []byte) []byte {
	b := make([]byte, 0, 256+len(body))
	b = append(b, "POST "...)
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\nContent-Type: application/json\r\nX-Internal-Key: "...)
	b = append(b, key...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	return append(b, body...)
}

// PutDigits writes v into field in decimal, zero-padded to the field's width (the most
// significant digits are lost if v does not fit). It is how a pre-built request gets a new room
// or send time without being rebuilt.
func PutDigits(field []byte, v int64) {
	for i := len(field) - 1; i >= 0; i-- {
		field[i] = byte('0' + v%10)
		v /= 10
	}
}
