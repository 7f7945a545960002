package engineio

import (
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/gobwas/ws"
)

// The server completes websocket handshakes itself (RFC 6455 §4.2) rather than through
// gobwas/ws's UpgradeHTTP, which writes and flushes the 101 response on its own: a session
// opened over websocket then sends its open packet in the same write as the 101, one system
// call (and, over loopback, one run of the receiver's TCP path) less per handshake. Requests
// it refuses get the answers UpgradeHTTP gives, byte for byte.

// wsGUID is the RFC 6455 constant appended to the client's key before hashing.
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// wsKeyLen is the length of a valid Sec-WebSocket-Key: 16 bytes in base64.
const wsKeyLen = 24

// acceptLen is the length of Sec-WebSocket-Accept: a SHA-1 digest in base64.
const acceptLen = 28

const (
	response101  = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
	response101N = len(response101) + acceptLen + 4 // with the accept value and "\r\n\r\n"
)

// checkUpgrade checks a websocket handshake request as UpgradeHTTP does, in its order, and
// returns the Sec-WebSocket-Accept value. It is stricter on one point, as RFC 6455 §4.2.1
// asks: the key must be valid base64 of 16 bytes, not any 24 characters. Each header is read
// from its first value, as there.
func checkUpgrade(r *http.Request) (accept [acceptLen]byte, err error) {
	switch {
	case r.Method != http.MethodGet:
		return accept, ws.ErrHandshakeBadMethod
	case !r.ProtoAtLeast(1, 1):
		return accept, ws.ErrHandshakeBadProtocol
	case r.Host == "":
		return accept, ws.ErrHandshakeBadHost
	case !strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
		return accept, ws.ErrHandshakeBadUpgrade
	case !hasToken(r.Header.Get("Connection"), "upgrade"):
		return accept, ws.ErrHandshakeBadConnection
	}
	key := r.Header.Get("Sec-Websocket-Key")
	if !validKey(key) {
		return accept, ws.ErrHandshakeBadSecKey
	}
	if v := r.Header.Get("Sec-Websocket-Version"); v != "13" {
		if v != "" {
			return accept, ws.ErrHandshakeUpgradeRequired // RFC 6455 §4.4: 426 and our version
		}
		return accept, ws.ErrHandshakeBadSecVersion
	}
	var in [wsKeyLen + len(wsGUID)]byte
	copy(in[copy(in[:], key):], wsGUID)
	sum := sha1.Sum(in[:])
	base64.StdEncoding.Encode(accept[:], sum[:])
	return accept, nil
}

// validKey reports whether key is the base64 encoding of 16 bytes.
func validKey(key string) bool {
	if len(key) != wsKeyLen {
		return false
	}
	var b [18]byte
	n, err := base64.StdEncoding.Decode(b[:], []byte(key))
	return err == nil && n == 16
}

// hasToken reports whether the comma-separated list v holds tok, ignoring case and the
// whitespace around elements.
func hasToken(v, tok string) bool {
	for v != "" {
		var el string
		el, v, _ = strings.Cut(v, ",")
		if strings.EqualFold(strings.Trim(el, " \t"), tok) {
			return true
		}
	}
	return false
}

// rejectionResponse is what UpgradeHTTP writes for a refused handshake: err's status, a text
// body with err's reason, and for a version other than 13 the version we speak.
func rejectionResponse(err error) []byte {
	code, reason := http.StatusInternalServerError, err.Error()
	var extra string
	if rej, ok := err.(*ws.ConnectionRejectedError); ok {
		code = rej.StatusCode()
	}
	if err == ws.ErrHandshakeUpgradeRequired {
		extra = "Sec-WebSocket-Version: 13\r\n"
	}
	b := make([]byte, 0, 128+len(reason))
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(code)...)
	b = append(b, "\r\nContent-Type: text/plain; charset=utf-8\r\n"...)
	b = append(b, extra...)
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(reason)), 10)
	b = append(b, "\r\n\r\n"...)
	return append(b, reason...)
}

// handshakeBufs holds the buffers of the 101 responses while they are written: a handshake
// allocates none.
var handshakeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// append101 appends the 101 response with accept.
func append101(b []byte, accept *[acceptLen]byte) []byte {
	b = append(b, response101...)
	b = append(b, accept[:]...)
	return append(b, "\r\n\r\n"...)
}
