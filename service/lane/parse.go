package lane

import "bytes"

// verdict is what the parser makes of the bytes of a request so far.
type verdict int

const (
	// needMore: no complete head yet, and nothing wrong with what is there.
	needMore verdict = iota
	// accepted: a complete head in the lane's subset.
	accepted
	// refused: not in the subset (or too long): net/http is to read it.
	refused
)

// head is what the parser reads of a request head. Its byte slices point into the bytes
// parsed: they are valid until the connection's buffer moves.
type head struct {
	method []byte
	target []byte
	// query is the index in target of the '?' that starts the query; len(target) without one.
	query         int
	host          []byte
	hosts         int
	contentLength int64
	hasLength     bool
	close         bool
	// fields are the values of the headers of Config.Headers, in the order they came.
	fields []field
	// next is where the next call to parse goes on with the same bytes, grown: everything
	// before it is complete lines already read into the fields above. Zero starts afresh.
	// scanned is how far the line after next is known to hold no LF.
	next, scanned int
}

// restart makes the next parse start from the first byte: the bytes it read moved.
func (h *head) restart() { h.next, h.scanned = 0, 0 }

// field is one value of a header the handler reads: name is its index in Config.Headers.
type field struct {
	name  int
	value []byte
}

// maxLengthDigits keeps a Content-Length within int64; a longer one (leading zeros) goes to
// net/http, which is free to read it.
const maxLengthDigits = 18

// parse reads the head at the start of b into h. On accepted it returns the head's length,
// final CRLF included. The subset: `METHOD SP origin-form SP HTTP/1.1 CRLF`, header lines
// `token ":" OWS value OWS CRLF` with field-value bytes only, then CRLF; Host exactly once
// (not empty, hostname bytes only), Content-Length at most once (digits only), no
// Transfer-Encoding, Expect or Upgrade, the whole head within maxHead bytes. A line that
// breaks a rule refuses the request as soon as it is complete: net/http then answers it at
// once, as it would have, instead of the lane waiting for a head that never ends.
//
// On needMore h keeps how far parse read, and the next call goes on from there, so that a
// head arriving a few bytes at a time costs one scan of each byte rather than a scan of the
// whole head at every arrival (a slow client could otherwise make a 64 KiB head cost seconds
// of CPU). The next call must pass the same bytes, grown at the end; a caller whose bytes
// moved calls h.restart first.
func parse(b []byte, h *head, names []string, maxHead int) (int, verdict) {
	pos, from := h.next, h.scanned
	if from < pos || from > len(b) {
		// Not a resumption (or not of these bytes): start afresh.
		pos, from = 0, 0
	}
	if pos == 0 {
		*h = head{fields: h.fields[:0]}
	}
	h.restart() // kept only on needMore
	limit := min(len(b), maxHead)
	for first := pos == 0; ; first = false {
		i := bytes.IndexByte(b[from:limit], '\n')
		if i < 0 {
			if len(b) >= maxHead {
				return 0, refused
			}
			h.next, h.scanned = pos, limit
			return 0, needMore
		}
		end := from + i
		line := b[pos:end]
		pos, from = end+1, end+1
		if len(line) == 0 || line[len(line)-1] != '\r' {
			return 0, refused // a bare LF
		}
		line = line[:len(line)-1]
		var ok bool
		switch {
		case first:
			ok = h.requestLine(line)
		case len(line) == 0:
			if h.hosts != 1 {
				return 0, refused
			}
			return pos, accepted
		default:
			ok = h.field(line, names)
		}
		if !ok {
			return 0, refused
		}
	}
}

// requestLine reads `METHOD SP target SP HTTP/1.1`, the target in origin form with a path of
// bytes that need no escaping (so that the path on the line is the path net/http unescapes
// it to, with no RawPath) and an optional query of URI bytes.
func (h *head) requestLine(line []byte) bool {
	const proto = " HTTP/1.1"
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 || len(line)-sp-1 <= len(proto) || string(line[len(line)-len(proto):]) != proto {
		return false
	}
	method, target := line[:sp], line[sp+1:len(line)-len(proto)]
	for _, c := range method {
		if !isToken[c] {
			return false
		}
	}
	if target[0] != '/' {
		return false
	}
	h.query = bytes.IndexByte(target, '?')
	if h.query < 0 {
		h.query = len(target)
	}
	for _, c := range target[:h.query] {
		if !isPath[c] {
			return false
		}
	}
	for _, c := range target[min(h.query+1, len(target)):] {
		if !isQuery[c] {
			return false
		}
	}
	h.method, h.target = method, target
	return true
}

// field reads one header line.
func (h *head) field(line []byte, names []string) bool {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return false
	}
	name, value := line[:colon], trimOWS(line[colon+1:])
	for _, c := range name {
		if !isToken[c] {
			return false
		}
	}
	for _, c := range value {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	switch {
	case equalFold(name, "Host"):
		h.hosts++
		h.host = value
		if len(value) == 0 {
			return false
		}
		for _, c := range value {
			if !isHost[c] {
				return false
			}
		}
	case equalFold(name, "Content-Length"):
		if h.hasLength || len(value) == 0 || len(value) > maxLengthDigits {
			return false
		}
		h.hasLength = true
		for _, c := range value {
			if c < '0' || c > '9' {
				return false
			}
			h.contentLength = h.contentLength*10 + int64(c-'0')
		}
	case equalFold(name, "Transfer-Encoding"), equalFold(name, "Expect"), equalFold(name, "Upgrade"):
		return false
	case equalFold(name, "Connection"):
		h.close = h.close || hasClose(value)
	default:
		for i, n := range names {
			if equalFold(name, n) {
				h.fields = append(h.fields, field{name: i, value: value})
				break
			}
		}
	}
	return true
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// hasClose reports a "close" among the comma-separated tokens of a Connection value, as
// net/http reads it.
func hasClose(v []byte) bool {
	for len(v) > 0 {
		tok := v
		if i := bytes.IndexByte(v, ','); i >= 0 {
			tok, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		if equalFold(trimOWS(tok), "close") {
			return true
		}
	}
	return false
}

// equalFold compares ASCII case-insensitively; name is any header name, b bytes of a line.
func equalFold(b []byte, name string) bool {
	if len(b) != len(name) {
		return false
	}
	for i := range len(b) {
		if lower(b[i]) != lower(name[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Byte classes of the subset, built once.
var isToken, isPath, isQuery, isHost [256]bool

func init() {
	set := func(t *[256]bool, chars string) {
		for i := range len(chars) {
			t[chars[i]] = true
		}
	}
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	set(&isToken, alnum+"!#$%&'*+-.^_`|~")
	// The bytes net/url leaves as they are in a path: with only these, URL.Path is the
	// target's path byte for byte and URL.RawPath stays empty.
	set(&isPath, alnum+"-._~$&+,/:;=@")
	set(&isQuery, alnum+"-._~!$&'()*+,;=:@/?%")
	set(&isHost, alnum+"-._:[]")
}
