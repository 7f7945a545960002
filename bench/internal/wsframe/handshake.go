package wsframe

import (
	"bytes"
	"encoding/base64"
)

// AppendUpgradeRequest appends the HTTP request that opens a WebSocket-only Engine.IO session
// (no polling first) at host, with key the 16 random bytes of Sec-WebSocket-Key.
func AppendUpgradeRequest(dst []byte, host string, key [16]byte) []byte {
	dst = append(dst, "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "...)
	dst = base64.StdEncoding.AppendEncode(dst, key[:])
	return append(dst, "\r\n\r\n"...)
}

var headerEnd = []byte("\r\n\r\n")

// ParseUpgradeResponse looks for a complete HTTP response head at the start of b. It returns ok
// false while the head is incomplete; otherwise n, the length of the head (frames follow it),
// and the status code (0 when the status line is malformed).
func ParseUpgradeResponse(b []byte) (n int, status int, ok bool) {
	i := bytes.Index(b, headerEnd)
	if i < 0 {
		return 0, 0, false
	}
	n = i + len(headerEnd)
	// "HTTP/1.1 101 Switching Protocols"
	if len(b) < 12 || !bytes.HasPrefix(b, []byte("HTTP/1.")) || b[8] != ' ' {
		return n, 0, true
	}
	for _, c := range b[9:12] {
		if c < '0' || c > '9' {
			return n, 0, true
		}
		status = status*10 + int(c-'0')
	}
	return n, status, true
}
