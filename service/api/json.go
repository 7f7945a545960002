package api

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/tomato-code/realtime/socketio/parser"
)

// Bodies are read with the small scanner below rather than with encoding/json: every body has
// the same shape (an object of a dozen known members), and decoding it into a map of raw
// messages through reflection cost more than the rest of an emit's handling. The scanner
// accepts exactly what encoding/json accepts (FuzzParseObject compares the two), checks the
// syntax of every value, payload included, and keeps the values as slices of the body:
// nothing is copied, and the payload is passed on as it arrived.

// maxDepth is the deepest nesting accepted, encoding/json's limit.
const maxDepth = 10000

// Members the API reads, by index into object.vals. Other members are checked and skipped.
const (
	mEvent = iota
	mRoom
	mRooms
	mExcept
	mNamespace
	mPayload
	mVolatile
	mAck
	mTimeoutMs
	mEmits
	mJoin
	mLeave
	mClose
	numMembers
)

// memberNames are the members' JSON names, by index.
var memberNames = [numMembers]string{
	mEvent: "event", mRoom: "room", mRooms: "rooms", mExcept: "except", mNamespace: "namespace",
	mPayload: "payload", mVolatile: "volatile", mAck: "ack", mTimeoutMs: "timeoutMs",
	mEmits: "emits", mJoin: "join", mLeave: "leave", mClose: "close",
}

// memberIndex returns the index of a member name, or -1 for a member the API does not read.
func memberIndex(name string) int {
	switch name {
	case "event":
		return mEvent
	case "room":
		return mRoom
	case "rooms":
		return mRooms
	case "except":
		return mExcept
	case "namespace":
		return mNamespace
	case "payload":
		return mPayload
	case "volatile":
		return mVolatile
	case "ack":
		return mAck
	case "timeoutMs":
		return mTimeoutMs
	case "emits":
		return mEmits
	case "join":
		return mJoin
	case "leave":
		return mLeave
	case "close":
		return mClose
	}
	return -1
}

// scanner checks JSON syntax over data from i on.
type scanner struct {
	data  []byte
	i     int
	depth int
}

func (s *scanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next returns the byte at i, or 0 at the end (never valid where a byte is expected).
func (s *scanner) next() byte {
	if s.i < len(s.data) {
		return s.data[s.i]
	}
	return 0
}

// value skips one value, which starts at i (no space before it).
func (s *scanner) value() bool {
	switch s.next() {
	case '{':
		return s.object(nil)
	case '[':
		return s.array()
	case '"':
		_, ok := s.str()
		return ok
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		return s.number()
	}
}

func (s *scanner) literal(word string) bool {
	if len(s.data)-s.i < len(word) || string(s.data[s.i:s.i+len(word)]) != word {
		return false
	}
	s.i += len(word)
	return true
}

// str skips a string literal; plain reports one whose text is its value (no escapes, ASCII
// only), which the caller may then use without decoding.
func (s *scanner) str() (plain, ok bool) {
	plain = true
	s.i++ // the opening quote
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '"':
			s.i++
			return plain, true
		case c < 0x20:
			return false, false
		case c == '\\':
			plain = false
			s.i++
			switch s.next() {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if len(s.data)-s.i < 5 {
					return false, false
				}
				for _, h := range s.data[s.i+1 : s.i+5] {
					if !isHex(h) {
						return false, false
					}
				}
				s.i += 5
			default:
				return false, false
			}
		case c >= utf8.RuneSelf:
			plain = false
			s.i++
		default:
			s.i++
		}
	}
	return false, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.data) && isDigit(s.data[s.i]) {
		s.i++
	}
	return s.i > start
}

// number skips -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	if s.next() == '-' {
		s.i++
	}
	switch c := s.next(); {
	case c == '0':
		s.i++
	case '1' <= c && c <= '9':
		s.digits()
	default:
		return false
	}
	if s.next() == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if c := s.next(); c == 'e' || c == 'E' {
		s.i++
		if c := s.next(); c == '+' || c == '-' {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// object skips an object, which starts at i; with o, it records the members the API reads.
func (s *scanner) object(o *object) bool {
	if s.depth++; s.depth > maxDepth {
		return false
	}
	s.i++
	s.space()
	if s.next() == '}' {
		s.i++
		s.depth--
		return true
	}
	for {
		if s.next() != '"' {
			return false
		}
		start := s.i
		plain, ok := s.str()
		if !ok {
			return false
		}
		key := s.data[start:s.i]
		s.space()
		if s.next() != ':' {
			return false
		}
		s.i++
		s.space()
		vstart := s.i
		if !s.value() {
			return false
		}
		if o != nil {
			o.set(key, plain, s.data[vstart:s.i])
		}
		s.space()
		switch s.next() {
		case ',':
			s.i++
			s.space()
		case '}':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// array skips an array, which starts at i.
func (s *scanner) array() bool {
	if s.depth++; s.depth > maxDepth {
		return false
	}
	s.i++
	s.space()
	if s.next() == ']' {
		s.i++
		s.depth--
		return true
	}
	for {
		if !s.value() {
			return false
		}
		s.space()
		switch s.next() {
		case ',':
			s.i++
			s.space()
		case ']':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// begin starts a scanner on data at its first value, after any space.
func begin(data []byte) scanner {
	s := scanner{data: data}
	s.space()
	return s
}

// end reports that only space is left after the value just scanned.
func (s *scanner) end() bool {
	s.space()
	return s.i == len(s.data)
}

// parseArray returns the elements of a JSON array; ok is false for anything else. The
// Socket.IO parser's Elements does exactly this, with the same depth limit.
func parseArray(data []byte) (elems []json.RawMessage, ok bool) {
	elems, err := parser.Elements(nil, data)
	return elems, err == nil
}

// stringValue decodes a JSON string value; ok is false for any other value.
func stringValue(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	s := scanner{data: raw}
	plain, ok := s.str()
	if !ok || s.i != len(raw) {
		return "", false
	}
	if plain {
		return string(raw[1 : len(raw)-1]), true
	}
	// Escapes and non-ASCII text take encoding/json's path, so that they decode exactly as
	// before (an invalid surrogate becomes U+FFFD, for one).
	var out string
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", false
	}
	return out, true
}

// intValue decodes a JSON number that is an integer (no fraction, no exponent) fitting int64.
func intValue(raw []byte) (int64, bool) {
	if len(raw) == 0 || raw[0] != '-' && !isDigit(raw[0]) {
		return 0, false
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	return n, err == nil
}
