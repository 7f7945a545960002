package wire

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// FromSocketIO converts Socket.IO packet data (JSON text whose binary values are
// {"_placeholder":true,"num":i} objects, plus the attachments they point to) to the value Node
// would hold after socket.io-parser reconstructed it: placeholders become the []byte of their
// attachment (aliased, not copied). A placeholder whose num is not a valid attachment index is
// an error, as in socket.io-parser ("illegal attachments").
//
// Numbers follow JavaScript: a whole number (12, 12.0, 1e3) becomes int64, or uint64 above
// MaxInt64, and is written by Append as a MessagePack integer; other numbers become float64.
// Integer literals keep their exact value even beyond 2^53. Objects become Map with
// JavaScript's property order.
func FromSocketIO(data []byte, attachments [][]byte) (any, error) {
	p := jsonParser{s: data, atts: attachments, placeholders: true}
	return p.document()
}

// FromJSON converts JSON text to a value as JSON.parse does (see FromSocketIO for numbers and
// objects); placeholder objects stay objects.
func FromJSON(data []byte) (any, error) {
	p := jsonParser{s: data}
	return p.document()
}

type jsonParser struct {
	s            []byte
	pos          int
	depth        int
	atts         [][]byte
	placeholders bool
}

func (p *jsonParser) document() (any, error) {
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.s) {
		return nil, malformed("JSON: unexpected %q at offset %d", p.s[p.pos], p.pos)
	}
	return v, nil
}

func (p *jsonParser) space() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) fail(what string) error {
	if p.pos >= len(p.s) {
		return malformed("JSON: unexpected end, %s", what)
	}
	return malformed("JSON: unexpected %q at offset %d, %s", p.s[p.pos], p.pos, what)
}

func (p *jsonParser) literal(word string, v any) (any, error) {
	if len(p.s)-p.pos < len(word) || string(p.s[p.pos:p.pos+len(word)]) != word {
		return nil, p.fail("expected " + word)
	}
	p.pos += len(word)
	return v, nil
}

func (p *jsonParser) value() (any, error) {
	p.space()
	if p.pos >= len(p.s) {
		return nil, p.fail("expected a value")
	}
	switch c := p.s[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == 't':
		return p.literal("true", true)
	case c == 'f':
		return p.literal("false", false)
	case c == 'n':
		return p.literal("null", nil)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, p.fail("expected a value")
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return malformed("JSON: nesting deeper than %d", MaxDepth)
	}
	return nil
}

func (p *jsonParser) array() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++ // '['
	a := []any{}
	p.space()
	if p.pos < len(p.s) && p.s[p.pos] == ']' {
		p.pos++
		p.depth--
		return a, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.space()
		if p.pos >= len(p.s) {
			return nil, p.fail("expected ',' or ']'")
		}
		switch p.s[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			p.depth--
			return a, nil
		default:
			return nil, p.fail("expected ',' or ']'")
		}
	}
}

func (p *jsonParser) object() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++ // '{'
	var ob objectBuilder
	p.space()
	if p.pos < len(p.s) && p.s[p.pos] == '}' {
		p.pos++
	} else {
		for {
			p.space()
			if p.pos >= len(p.s) || p.s[p.pos] != '"' {
				return nil, p.fail("expected a property name")
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.space()
			if p.pos >= len(p.s) || p.s[p.pos] != ':' {
				return nil, p.fail("expected ':'")
			}
			p.pos++
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			ob.set(k, v)
			p.space()
			if p.pos >= len(p.s) {
				return nil, p.fail("expected ',' or '}'")
			}
			if p.s[p.pos] == '}' {
				p.pos++
				break
			}
			if p.s[p.pos] != ',' {
				return nil, p.fail("expected ',' or '}'")
			}
			p.pos++
		}
	}
	p.depth--
	m := ob.done()
	if p.placeholders {
		return p.placeholder(m)
	}
	return m, nil
}

// placeholder replaces a {"_placeholder":true,"num":i} object by attachment i, with
// socket.io-parser's test (the object's other properties do not matter).
func (p *jsonParser) placeholder(m Map) (any, error) {
	if flag, _ := m.Get("_placeholder"); flag != true {
		return m, nil
	}
	num, _ := m.Get("num")
	i, ok := asIndex(num)
	if !ok || i >= len(p.atts) {
		return nil, malformed("illegal attachments: placeholder %v of %d attachments", num, len(p.atts))
	}
	return p.atts[i], nil
}

func asIndex(v any) (int, bool) {
	switch v := v.(type) {
	case int64:
		return int(v), v >= 0 && v <= math.MaxInt32
	}
	return 0, false
}

func (p *jsonParser) str() (string, error) {
	start := p.pos
	p.pos++ // '"'
	escaped := false
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '"':
			p.pos++
			raw := p.s[start:p.pos]
			if !escaped && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), nil
			}
			// Escapes (and invalid UTF-8, which becomes U+FFFD) are rare: let the standard
			// library unquote them, surrogate pairs included.
			if !utf8.Valid(raw) {
				raw = []byte(decodeUTF8(raw)) // as Node's Buffer.toString does before JSON.parse
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", malformed("JSON: bad string at offset %d: %v", start, err)
			}
			return s, nil
		case c == '\\':
			escaped = true
			p.pos += 2
		case c < 0x20:
			return "", p.fail("control character in string")
		default:
			p.pos++
		}
	}
	p.pos = len(p.s)
	return "", p.fail("unterminated string")
}

func (p *jsonParser) number() (any, error) {
	start := p.pos
	if p.s[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	intStart := p.pos
	if n := digits(); n == 0 || (n > 1 && p.s[intStart] == '0') {
		p.pos = intStart
		return nil, p.fail("bad number")
	}
	integer := true
	if p.pos < len(p.s) && p.s[p.pos] == '.' {
		p.pos++
		integer = false
		if digits() == 0 {
			return nil, p.fail("bad number fraction")
		}
	}
	if p.pos < len(p.s) && (p.s[p.pos] == 'e' || p.s[p.pos] == 'E') {
		p.pos++
		integer = false
		if p.pos < len(p.s) && (p.s[p.pos] == '+' || p.s[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.fail("bad number exponent")
		}
	}
	text := string(p.s[start:p.pos])
	if integer {
		if v, err := strconv.ParseInt(text, 10, 64); err == nil {
			return v, nil
		}
		if v, err := strconv.ParseUint(text, 10, 64); err == nil {
			return v, nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !isRangeError(err) {
		return nil, malformed("JSON: bad number %q", text)
	}
	return numberValue(f), nil
}

func isRangeError(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// numberValue normalises a JavaScript number: whole numbers in the 64-bit integer range become
// int64 (or uint64 above MaxInt64), as notepack would encode them.
func numberValue(f float64) any {
	if f == math.Trunc(f) && f >= -(1<<63) && f < (1<<64) {
		if f >= 1<<63 {
			return uint64(f)
		}
		return int64(f)
	}
	return f
}
