package parser

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// A JSON scanner that validates RFC 8259 text without building values: payloads stay raw bytes
// and the codec only needs their shape (is it an array, what is its first element, where are the
// binary placeholders). UTF-8 validity is checked separately, once per packet.

// maxDepth bounds the nesting of arrays and objects, as encoding/json does, so that hostile input
// cannot grow the stack without bound.
const maxDepth = 10000

type kind byte

const (
	kindNone kind = iota
	kindObject
	kindArray
	kindString
	kindNumber
	kindTrue
	kindFalse
	kindNull
)

// Placeholder is a binary placeholder object found in a payload: an object whose "_placeholder"
// member is true. Start and End delimit the object in the payload. Num is its "num" member when
// that is a non-negative integer, else -1. Canonical reports whether the object is written exactly
// {"_placeholder":true,"num":<Num>}, as encoders write it.
type Placeholder struct {
	Start, End int
	Num        int
	Canonical  bool
}

type scanner struct {
	b     []byte
	i     int
	depth int
	// phs collects placeholders when it is not nil. A pointer, not the slice itself: escape
	// analysis does not tell a struct's fields apart, so appending to a slice field would move
	// every scanned text (b) to the heap, even for callers that track nothing.
	phs *[]Placeholder
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (s *scanner) skipSpace() {
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
}

// value scans one value after optional white space and leaves s.i just past it.
func (s *scanner) value() (kind, error) {
	s.skipSpace()
	if s.i >= len(s.b) {
		return kindNone, ErrBadJSON
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return kindObject, s.object()
	case c == '[':
		return kindArray, s.array()
	case c == '"':
		return kindString, s.str()
	case c == 't':
		return kindTrue, s.literal("true")
	case c == 'f':
		return kindFalse, s.literal("false")
	case c == 'n':
		return kindNull, s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return kindNumber, s.number()
	}
	return kindNone, ErrBadJSON
}

func (s *scanner) literal(lit string) error {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return ErrBadJSON
	}
	s.i += len(lit)
	return nil
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

func (s *scanner) number() error {
	if s.b[s.i] == '-' {
		s.i++
	}
	if s.i >= len(s.b) {
		return ErrBadJSON
	}
	if s.b[s.i] == '0' {
		s.i++
	} else if s.digits() == 0 {
		return ErrBadJSON
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return ErrBadJSON
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return ErrBadJSON
		}
	}
	return nil
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// str scans a string starting at its opening quote.
func (s *scanner) str() error {
	s.i++
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return nil
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return ErrBadJSON
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) || !isHex(s.b[s.i+2]) || !isHex(s.b[s.i+3]) || !isHex(s.b[s.i+4]) || !isHex(s.b[s.i+5]) {
					return ErrBadJSON
				}
				s.i += 6
			default:
				return ErrBadJSON
			}
		case c < 0x20:
			return ErrBadJSON
		default:
			s.i++
		}
	}
	return ErrBadJSON
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > maxDepth {
		return ErrBadJSON
	}
	s.i++
	return nil
}

func (s *scanner) array() error {
	if err := s.enter(); err != nil {
		return err
	}
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		s.depth--
		return nil
	}
	for {
		if _, err := s.value(); err != nil {
			return err
		}
		s.skipSpace()
		if s.i >= len(s.b) {
			return ErrBadJSON
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return nil
		default:
			return ErrBadJSON
		}
	}
}

// Which member of an object a key names, for placeholder detection.
const (
	keyOther = iota
	keyPlaceholder
	keyNum
)

func keyOf(raw []byte) int {
	switch {
	case KeyIs(raw, "_placeholder"):
		return keyPlaceholder
	case KeyIs(raw, "num"):
		return keyNum
	}
	return keyOther
}

// KeyIs reports whether raw, an object key with its quotes and escapes as written (as
// MemberReader.Next gives it), spells name once unescaped, as encoding/json would read it.
func KeyIs(raw []byte, name string) bool {
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return len(raw) >= 2 && string(raw[1:len(raw)-1]) == name
	}
	// A key with escapes or invalid UTF-8 is rare, so it is decoded the slow way; an escape
	// spells at most one byte of name in six, so a longer key cannot spell it.
	if len(raw) > 6*len(name)+2 {
		return false
	}
	s, _ := Unquote(raw)
	return s == name
}

// Unquote returns the text of raw, a valid JSON string with its quotes as a MemberReader gives
// it, as encoding/json decodes it: escapes resolved, invalid UTF-8 replaced. ok is false when
// the slow path (escapes or invalid UTF-8) finds raw undecodable.
func Unquote(raw []byte) (string, bool) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1]), true
	}
	// Declared here, not as a named result: its address goes to encoding/json, which would
	// put it on the heap on the fast path too. raw is copied, so that the caller's text (often
	// on its stack) does not escape either.
	var s string
	return s, json.Unmarshal(bytes.Clone(raw), &s) == nil
}

func (s *scanner) object() error {
	start := s.i
	if err := s.enter(); err != nil {
		return err
	}
	mark := 0
	if s.phs != nil {
		mark = len(*s.phs)
	}
	isPlaceholder := false
	var num []byte // the raw "num" member when it is a number
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.depth--
		return nil
	}
	for {
		s.skipSpace()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return ErrBadJSON
		}
		keyStart := s.i
		if err := s.str(); err != nil {
			return err
		}
		key := keyOther
		if s.phs != nil {
			key = keyOf(s.b[keyStart:s.i])
		}
		s.skipSpace()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return ErrBadJSON
		}
		s.i++
		s.skipSpace()
		valStart := s.i
		k, err := s.value()
		if err != nil {
			return err
		}
		// Later duplicates win, as in JavaScript.
		switch key {
		case keyPlaceholder:
			isPlaceholder = k == kindTrue
		case keyNum:
			num = nil
			if k == kindNumber {
				num = s.b[valStart:s.i]
			}
		}
		s.skipSpace()
		if s.i >= len(s.b) {
			return ErrBadJSON
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			if isPlaceholder {
				// A placeholder replaces its whole object: whatever was found inside it is
				// not a placeholder of its own.
				*s.phs = append((*s.phs)[:mark], makePlaceholder(s.b[start:s.i], start, num))
			}
			return nil
		default:
			return ErrBadJSON
		}
	}
}

func makePlaceholder(obj []byte, start int, num []byte) Placeholder {
	p := Placeholder{Start: start, End: start + len(obj), Num: -1}
	if num == nil {
		return p
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil || f < 0 || f > 1<<31 || f != math.Trunc(f) {
		return p
	}
	p.Num = int(f)
	var canon [40]byte
	p.Canonical = bytes.Equal(obj, AppendPlaceholder(canon[:0], p.Num))
	return p
}

// whole scans b as exactly one JSON value with optional surrounding white space.
func (s *scanner) whole() (kind, error) {
	k, err := s.value()
	if err != nil {
		return kindNone, err
	}
	s.skipSpace()
	if s.i != len(s.b) {
		return kindNone, ErrBadJSON
	}
	return k, nil
}

// AppendPlaceholder appends the placeholder object for attachment num, written as the reference
// encoder writes it (_placeholder first).
func AppendPlaceholder(dst []byte, num int) []byte {
	dst = append(dst, `{"_placeholder":true,"num":`...)
	dst = strconv.AppendInt(dst, int64(num), 10)
	return append(dst, '}')
}

// AppendPlaceholders validates data as one JSON value and appends to dst the outermost
// placeholder objects it holds, in document order. An invalid payload gives ErrBadJSON.
func AppendPlaceholders(dst []Placeholder, data []byte) ([]Placeholder, error) {
	s := scanner{b: data, phs: &dst}
	_, err := s.whole()
	return dst, err
}

// Elements validates array as a JSON array and appends each of its elements to dst, as
// sub-slices of array without surrounding white space. Anything but an array gives ErrBadJSON.
func Elements(dst []json.RawMessage, array []byte) ([]json.RawMessage, error) {
	s := scanner{b: array}
	s.skipSpace()
	if s.i >= len(s.b) || s.b[s.i] != '[' {
		return dst, ErrBadJSON
	}
	s.i++
	s.depth++
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
	} else {
		for {
			s.skipSpace()
			start := s.i
			if _, err := s.value(); err != nil {
				return dst, err
			}
			dst = append(dst, json.RawMessage(s.b[start:s.i]))
			s.skipSpace()
			if s.i >= len(s.b) {
				return dst, ErrBadJSON
			}
			if s.b[s.i] == ']' {
				s.i++
				break
			}
			if s.b[s.i] != ',' {
				return dst, ErrBadJSON
			}
			s.i++
		}
	}
	s.skipSpace()
	if s.i != len(s.b) {
		return dst, ErrBadJSON
	}
	return dst, nil
}

// Valid reports whether data is one valid JSON value (white space around it allowed). It does
// not check UTF-8.
func Valid(data []byte) bool {
	s := scanner{b: data}
	_, err := s.whole()
	return err == nil
}

// firstElement returns the kind and bytes of the first element of a JSON array, or kindNone for
// an empty array or anything that does not start like an array. It reads no further than that
// element.
func firstElement(array []byte) (kind, []byte) {
	s := scanner{b: array}
	s.skipSpace()
	if s.i >= len(s.b) || s.b[s.i] != '[' {
		return kindNone, nil
	}
	s.i++
	s.skipSpace()
	if s.i >= len(s.b) || s.b[s.i] == ']' {
		return kindNone, nil
	}
	start := s.i
	k, err := s.value()
	if err != nil {
		return kindNone, nil
	}
	return k, s.b[start:s.i]
}

// MemberReader reads the members of a JSON object one at a time, in place: what it returns are
// sub-slices of the object, and it stores nothing, so an object on the caller's stack stays
// there.
// It lets a caller read a few known members without encoding/json's reflection and maps.
type MemberReader struct {
	s     scanner
	state byte // 0: before '{', 1: after a member, 2: done
}

// ReadMembers returns a reader of object's members.
func ReadMembers(object []byte) MemberReader {
	return MemberReader{s: scanner{b: object}}
}

// Next returns the next member's raw key (with its quotes, escapes as written) and raw value.
// After the last member it checks that nothing but white space follows the object and returns
// nil, nil, nil. Anything that is not a valid object gives ErrBadJSON.
func (r *MemberReader) Next() (key, value []byte, err error) {
	s := &r.s
	switch r.state {
	case 0:
		s.skipSpace()
		if s.i >= len(s.b) || s.b[s.i] != '{' {
			return nil, nil, ErrBadJSON
		}
		s.i++
		s.depth++
		s.skipSpace()
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			return r.end()
		}
	case 1:
		s.skipSpace()
		if s.i >= len(s.b) {
			return nil, nil, ErrBadJSON
		}
		if s.b[s.i] == '}' {
			s.i++
			return r.end()
		}
		if s.b[s.i] != ',' {
			return nil, nil, ErrBadJSON
		}
		s.i++
	case 2:
		return nil, nil, nil
	}
	s.skipSpace()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, nil, ErrBadJSON
	}
	keyStart := s.i
	if err := s.str(); err != nil {
		return nil, nil, err
	}
	key = s.b[keyStart:s.i]
	s.skipSpace()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return nil, nil, ErrBadJSON
	}
	s.i++
	s.skipSpace()
	start := s.i
	if _, err := s.value(); err != nil {
		return nil, nil, err
	}
	r.state = 1
	return key, s.b[start:s.i], nil
}

func (r *MemberReader) end() ([]byte, []byte, error) {
	r.s.skipSpace()
	if r.s.i != len(r.s.b) {
		return nil, nil, ErrBadJSON
	}
	r.state = 2
	return nil, nil, nil
}
