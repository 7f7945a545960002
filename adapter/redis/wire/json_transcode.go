package wire

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// appendSocketIOData appends the MessagePack that Append writes for the value FromSocketIO
// returns, at the depth of a broadcast's data (inside [uid, {data}]), reading the JSON once and
// building no value: publishing a broadcast is the hot path of an emitting node.
//
// It is exact where it answers, and answers for what packets hold in practice. It returns
// false for everything else: an error (the values path words it), a document that is not an
// array, invalid UTF-8 (repaired as Node does) and nesting that reaches MaxDepth. The caller
// then goes through the values, which decide the bytes or the error. An object with a repeated
// or array-index key, whose JavaScript property order is not its text order, goes through the
// values alone. dst may be written beyond its length even when it returns false.
func appendSocketIOData(dst, data []byte, atts [][]byte) ([]byte, bool) {
	t := transcoder{s: data, atts: atts, dst: dst}
	if c, _ := t.next(); c != '[' || !t.value(2) {
		return dst, false
	}
	if _, more := t.next(); more {
		return dst, false
	}
	return t.dst, true
}

// maxOpenKeys bounds the keys of the objects being written that are remembered to find a
// repeated key; an object that needs more goes through the values.
const maxOpenKeys = 64

type transcoder struct {
	s    []byte
	pos  int
	atts [][]byte
	dst  []byte
	// keys are where the keys of the open objects are in dst, innermost last: an array, so
	// that finding a repeated key allocates nothing.
	keys  [maxOpenKeys]span
	nkeys int
}

type span struct{ off, n int }

// next skips white space and returns the byte there; false at the end of the text.
func (t *transcoder) next() (byte, bool) {
	for ; t.pos < len(t.s); t.pos++ {
		switch c := t.s[t.pos]; c {
		case ' ', '\t', '\n', '\r':
		default:
			return c, true
		}
	}
	return 0, false
}

// separator reads what follows an element of a container, ',' (more is true) or end.
func (t *transcoder) separator(end byte) (more, ok bool) {
	c, ok := t.next()
	if !ok || (c != ',' && c != end) {
		return false, false
	}
	t.pos++
	return c == ',', true
}

// value writes the value at t.pos. depth is the one appendValue would encode it at; from
// MaxDepth on, where appendValue refuses arrays and maps, the values path decides.
func (t *transcoder) value(depth int) bool {
	if depth >= MaxDepth {
		return false
	}
	c, ok := t.next()
	if !ok {
		return false
	}
	switch c {
	case '{':
		return t.object(depth)
	case '[':
		return t.array(depth)
	case '"':
		_, ok := t.str()
		return ok
	case 't':
		return t.literal("true", 0xc3)
	case 'f':
		return t.literal("false", 0xc2)
	case 'n':
		return t.literal("null", 0xc0)
	}
	return t.number()
}

func (t *transcoder) literal(word string, code byte) bool {
	if len(t.s)-t.pos < len(word) || string(t.s[t.pos:t.pos+len(word)]) != word {
		return false
	}
	t.pos += len(word)
	t.dst = append(t.dst, code)
	return true
}

// setHeader writes hdr over the reserved bytes at dst[at], moving what follows when the sizes
// differ: a container's count is known only at its end, and an escaped string's length only
// once it is unescaped.
func (t *transcoder) setHeader(at, reserved int, hdr []byte) {
	if d := len(hdr) - reserved; d != 0 {
		end := len(t.dst)
		if d > 0 {
			t.dst = append(t.dst, hdr[:d]...) // room only: overwritten by the move
		}
		copy(t.dst[at+len(hdr):], t.dst[at+reserved:end])
		t.dst = t.dst[:end+d]
	}
	copy(t.dst[at:], hdr)
}

func (t *transcoder) array(depth int) bool {
	at := len(t.dst)
	t.dst = append(t.dst, 0x90)
	t.pos++ // '['
	if c, _ := t.next(); c == ']' {
		t.pos++
		return true
	}
	for n := 1; ; n++ {
		if !t.value(depth + 1) {
			return false
		}
		more, ok := t.separator(']')
		if !ok {
			return false
		}
		if !more {
			var hdr [5]byte
			t.setHeader(at, 1, appendArrayHeader(hdr[:0], n))
			return true
		}
	}
}

// object writes an object with its properties in text order, which is JavaScript's order
// unless a key repeats or is an array index; then the object goes through the values. A
// placeholder becomes its attachment once the object has been read, as in FromSocketIO.
func (t *transcoder) object(depth int) bool {
	start, at, base := t.pos, len(t.dst), t.nkeys
	t.dst = append(t.dst, 0x80)
	t.pos++ // '{'
	if c, _ := t.next(); c == '}' {
		t.pos++
		return true
	}
	placeholder, num := false, -1
	for n := 1; ; n++ {
		if c, _ := t.next(); c != '"' {
			return false
		}
		off, ok := t.str()
		if !ok {
			return false
		}
		k := span{off, len(t.dst) - off}
		if t.nkeys == len(t.keys) || indexLike(t.dst[off:]) || t.repeated(base, t.dst[off:]) {
			t.nkeys = base
			return t.objectByValue(start, at, depth)
		}
		t.keys[t.nkeys] = k
		t.nkeys++
		if c, _ := t.next(); c != ':' {
			return false
		}
		t.pos++
		v := len(t.dst)
		if !t.value(depth + 1) {
			return false
		}
		switch string(t.dst[k.off : k.off+k.n]) {
		case "_placeholder":
			placeholder = t.dst[v] == 0xc3 // true, and nothing else, starts with 0xc3
		case "num":
			num = t.index(v)
		}
		more, ok := t.separator('}')
		if !ok {
			return false
		}
		if more {
			continue
		}
		t.nkeys = base
		if placeholder {
			if num < 0 || num >= len(t.atts) {
				return false // illegal attachments
			}
			t.dst = appendBin(t.dst[:at], t.atts[num])
			return true
		}
		var hdr [5]byte
		t.setHeader(at, 1, appendMapHeader(hdr[:0], n))
		return true
	}
}

// repeated reports whether key is already a key of the object whose keys start at
// t.keys[base].
func (t *transcoder) repeated(base int, key []byte) bool {
	for _, k := range t.keys[base:t.nkeys] {
		if bytes.Equal(t.dst[k.off:k.off+k.n], key) {
			return true
		}
	}
	return false
}

// indexLike reports whether a key may be an array index, which JavaScript orders first: all
// digits, at most ten (isArrayIndex decides the few that are not, through the values).
func indexLike(key []byte) bool {
	if len(key) == 0 || len(key) > 10 {
		return false
	}
	for _, c := range key {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// objectByValue converts the object at s[start] as FromSocketIO does and writes it at dst[at],
// over what was written of it.
func (t *transcoder) objectByValue(start, at, depth int) bool {
	// The parser's depth counts the containers around the object; the data array, at
	// encoding depth 2, is the first.
	p := jsonParser{s: t.s, pos: start, depth: depth - 2, atts: t.atts, placeholders: true}
	v, err := p.value()
	if err != nil {
		return false
	}
	out, err := appendValue(t.dst[:at], v, depth)
	if err != nil {
		return false
	}
	t.dst, t.pos = out, p.pos
	return true
}

// index reads the number written at dst[v] as asIndex reads a placeholder's num: a whole
// number from 0 to MaxInt32, or -1. MessagePack integers below 2^63 are the int64 values.
func (t *transcoder) index(v int) int {
	b := t.dst[v:]
	switch {
	case b[0] < 0x80:
		return int(b[0])
	case b[0] == 0xcc:
		return int(b[1])
	case b[0] == 0xcd:
		return int(binary.BigEndian.Uint16(b[1:]))
	case b[0] == 0xce:
		if n := binary.BigEndian.Uint32(b[1:]); n <= math.MaxInt32 {
			return int(n)
		}
	}
	return -1
}

// str writes the JSON string at t.pos as a MessagePack string and returns where its bytes
// start in dst.
func (t *transcoder) str() (int, bool) {
	t.pos++ // '"'
	start := t.pos
	escaped, ascii := false, true
	for {
		if t.pos >= len(t.s) {
			return 0, false
		}
		c := t.s[t.pos]
		if c == '"' {
			break
		}
		switch {
		case c == '\\':
			escaped = true
			t.pos += 2
		case c < 0x20:
			return 0, false
		case c >= utf8.RuneSelf:
			ascii = false
			t.pos++
		default:
			t.pos++
		}
	}
	raw := t.s[start:t.pos]
	t.pos++
	if !ascii && !utf8.Valid(raw) {
		return 0, false
	}
	if escaped {
		return t.unescape(raw)
	}
	t.dst = appendString(t.dst, raw)
	return len(t.dst) - len(raw), true
}

// unescape writes the string raw stands for as encoding/json decodes it (FromSocketIO lets
// encoding/json unquote escaped strings): a surrogate pair becomes its character, a lone
// surrogate U+FFFD.
func (t *transcoder) unescape(raw []byte) (int, bool) {
	at := len(t.dst)
	t.dst = appendStringHeader(t.dst, len(raw)) // no escape is shorter than what it stands for
	reserved := len(t.dst) - at
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			t.dst = append(t.dst, c)
			i++
			continue
		}
		if i+1 == len(raw) {
			return 0, false
		}
		switch e := raw[i+1]; e {
		case '"', '\\', '/':
			t.dst = append(t.dst, e)
		case 'b':
			t.dst = append(t.dst, '\b')
		case 'f':
			t.dst = append(t.dst, '\f')
		case 'n':
			t.dst = append(t.dst, '\n')
		case 'r':
			t.dst = append(t.dst, '\r')
		case 't':
			t.dst = append(t.dst, '\t')
		case 'u':
			r := hex4(raw[i:])
			if r < 0 {
				return 0, false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if pair := utf16.DecodeRune(r, hex4(raw[i:])); pair != utf8.RuneError {
					r = pair
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			t.dst = utf8.AppendRune(t.dst, r)
			continue
		default:
			return 0, false
		}
		i += 2
	}
	n := len(t.dst) - at - reserved
	var hdr [5]byte
	h := appendStringHeader(hdr[:0], n)
	t.setHeader(at, reserved, h)
	return at + len(h), true
}

// hex4 reads the escape \uXXXX at the start of b, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// number writes a JSON number as FromSocketIO and Append together do: an integer literal
// that fits 64 bits as that integer, anything else through float64, whole values as
// integers.
func (t *transcoder) number() bool {
	start := t.pos
	neg := t.s[t.pos] == '-'
	if neg {
		t.pos++
	}
	first := t.pos
	var u uint64
	exact := true
	for ; t.pos < len(t.s) && isDigit(t.s[t.pos]); t.pos++ {
		d := uint64(t.s[t.pos] - '0')
		if u > (math.MaxUint64-d)/10 {
			exact = false
		}
		u = u*10 + d
	}
	if n := t.pos - first; n == 0 || (n > 1 && t.s[first] == '0') {
		return false
	}
	integer := true
	if t.pos < len(t.s) && t.s[t.pos] == '.' {
		t.pos++
		integer = false
		if !t.digits() {
			return false
		}
	}
	if t.pos < len(t.s) && (t.s[t.pos] == 'e' || t.s[t.pos] == 'E') {
		t.pos++
		integer = false
		if t.pos < len(t.s) && (t.s[t.pos] == '+' || t.s[t.pos] == '-') {
			t.pos++
		}
		if !t.digits() {
			return false
		}
	}
	switch {
	case integer && exact && !neg:
		t.dst = appendUint(t.dst, u)
	case integer && exact && u <= 1<<63:
		t.dst = appendInt(t.dst, int64(-u)) // -u wraps to the two's complement of -2^63 too
	default:
		f, err := strconv.ParseFloat(string(t.s[start:t.pos]), 64)
		if err != nil && !isRangeError(err) {
			return false
		}
		t.dst = appendFloat(t.dst, f)
	}
	return true
}

func (t *transcoder) digits() bool {
	first := t.pos
	for t.pos < len(t.s) && isDigit(t.s[t.pos]) {
		t.pos++
	}
	return t.pos > first
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
