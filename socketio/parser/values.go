package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
)

// RawValue is a JSON value that may hold binary placeholders; Attachments are what its
// placeholders' "num" refer to. It is how received arguments are passed on with their binary
// parts: the encoder appends the attachments a RawValue references to the outgoing packet and
// renumbers the placeholders to match, so a value that arrived as
// {"_placeholder":true,"num":0} goes out byte for byte the same when it is the first binary
// value of the packet.
type RawValue struct {
	JSON        json.RawMessage
	Attachments [][]byte
}

// TrustedJSON is JSON text that the encoder writes as it is, without the syntax check a
// json.RawMessage gets. It is for callers that checked the text already, such as a service
// relaying a payload its request parser validated, so that the text is not scanned twice.
// Text that is not exactly one valid JSON value makes a packet clients cannot decode; only an
// empty (non-nil) value is refused, with ErrInvalidRawJSON. A nil TrustedJSON is null. It is
// never searched for binary placeholders: use RawValue to send attachments.
type TrustedJSON []byte

// maxValueDepth bounds the nesting of Go maps and slices the encoder walks, so that a cyclic
// value fails instead of overflowing the stack.
const maxValueDepth = 1000

// Errors of the value encoder.
var (
	ErrUnsupportedValue = errors.New("socket.io: value cannot be encoded as JSON")
	ErrInvalidRawJSON   = errors.New("socket.io: raw JSON argument is not valid JSON")
)

// AppendEvent appends the payload of an EVENT packet, [name, values...], to dst, and appends the
// binary values it takes out of values to atts. See AppendValue for how values are encoded.
func AppendEvent(dst []byte, atts [][]byte, name string, values ...any) ([]byte, [][]byte, error) {
	dst = append(dst, '[')
	dst = AppendString(dst, name)
	for _, v := range values {
		var err error
		dst = append(dst, ',')
		if dst, atts, err = appendValue(dst, atts, v, 0); err != nil {
			return dst, atts, err
		}
	}
	return append(dst, ']'), atts, nil
}

// AppendArray appends values as a JSON array (the payload of an ACK packet) to dst, and the
// binary values it takes out of them to atts.
func AppendArray(dst []byte, atts [][]byte, values ...any) ([]byte, [][]byte, error) {
	dst = append(dst, '[')
	for i, v := range values {
		var err error
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, atts, err = appendValue(dst, atts, v, 0); err != nil {
			return dst, atts, err
		}
	}
	return append(dst, ']'), atts, nil
}

// AppendValue appends the JSON encoding of v to dst. Binary values ([]byte) become placeholders
// and are appended to atts; they are found at the top level and inside map[string]any, []any,
// map[string][]byte and [][]byte (elsewhere encoding/json rules apply: []byte inside a struct
// is base64 text). json.RawMessage is written as it is (it must be valid JSON); TrustedJSON
// is written as it is without that check; a RawValue brings its attachments along (the zero RawValue is null). Strings are escaped as JavaScript's JSON.stringify does (no
// HTML escaping). Map keys are sorted, as encoding/json sorts them. Other values go through
// encoding/json.
func AppendValue(dst []byte, atts [][]byte, v any) ([]byte, [][]byte, error) {
	return appendValue(dst, atts, v, 0)
}

func appendValue(dst []byte, atts [][]byte, v any, depth int) ([]byte, [][]byte, error) {
	if depth > maxValueDepth {
		return dst, atts, fmt.Errorf("%w: nested too deeply", ErrUnsupportedValue)
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), atts, nil
	case []byte:
		if x == nil {
			return append(dst, "null"...), atts, nil
		}
		dst = AppendPlaceholder(dst, len(atts))
		return dst, append(atts, x), nil
	case json.RawMessage:
		if x == nil {
			return append(dst, "null"...), atts, nil
		}
		if !Valid(x) {
			return dst, atts, ErrInvalidRawJSON
		}
		return append(dst, x...), atts, nil
	case TrustedJSON:
		if x == nil {
			return append(dst, "null"...), atts, nil
		}
		if len(x) == 0 {
			return dst, atts, ErrInvalidRawJSON
		}
		return append(dst, x...), atts, nil
	case RawValue:
		return appendRaw(dst, atts, x)
	case *RawValue:
		if x == nil {
			return append(dst, "null"...), atts, nil
		}
		return appendRaw(dst, atts, *x)
	case string:
		return AppendString(dst, x), atts, nil
	case bool:
		return strconv.AppendBool(dst, x), atts, nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), atts, nil
	case int64:
		return strconv.AppendInt(dst, x, 10), atts, nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), atts, nil
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10), atts, nil
	case uint64:
		return strconv.AppendUint(dst, x, 10), atts, nil
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10), atts, nil
	case float64:
		return appendFloat(dst, atts, x, 64)
	case float32:
		return appendFloat(dst, atts, float64(x), 32)
	case []any:
		if x == nil {
			return append(dst, "null"...), atts, nil
		}
		dst = append(dst, '[')
		for i, e := range x {
			var err error
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, atts, err = appendValue(dst, atts, e, depth+1); err != nil {
				return dst, atts, err
			}
		}
		return append(dst, ']'), atts, nil
	case [][]byte:
		if x == nil {
			return append(dst, "null"...), atts, nil
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst, atts, _ = appendValue(dst, atts, e, depth+1)
		}
		return append(dst, ']'), atts, nil
	case map[string]any:
		return appendMap(dst, atts, x, depth)
	case map[string][]byte:
		if x == nil {
			return append(dst, "null"...), atts, nil
		}
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = e
		}
		return appendMap(dst, atts, m, depth)
	}
	return appendJSON(dst, atts, v)
}

func appendMap(dst []byte, atts [][]byte, m map[string]any, depth int) ([]byte, [][]byte, error) {
	if m == nil {
		return append(dst, "null"...), atts, nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		var err error
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, k)
		dst = append(dst, ':')
		if dst, atts, err = appendValue(dst, atts, m[k], depth+1); err != nil {
			return dst, atts, err
		}
	}
	return append(dst, '}'), atts, nil
}

// appendFloat writes numbers as encoding/json does, which matches JavaScript's formatting:
// exponent form only below 1e-6 and from 1e21, and no leading zero in the exponent.
func appendFloat(dst []byte, atts [][]byte, f float64, bits int) ([]byte, [][]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, atts, fmt.Errorf("%w: %v", ErrUnsupportedValue, f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// strconv writes 1e-07; JavaScript and encoding/json write 1e-7.
		if n := len(dst); n-start >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, atts, nil
}

// appendRaw writes a RawValue, moving the attachments its placeholders name to atts and
// renumbering the placeholders in the order they appear.
func appendRaw(dst []byte, atts [][]byte, r RawValue) ([]byte, [][]byte, error) {
	if r.JSON == nil && len(r.Attachments) == 0 {
		// The zero RawValue, as Args.Value gives for a missing argument: null, the way a nil
		// json.RawMessage is written.
		return append(dst, "null"...), atts, nil
	}
	if len(r.Attachments) == 0 {
		if !Valid(r.JSON) {
			return dst, atts, ErrInvalidRawJSON
		}
		return append(dst, r.JSON...), atts, nil
	}
	var buf [4]Placeholder
	phs, err := AppendPlaceholders(buf[:0], r.JSON)
	if err != nil {
		return dst, atts, ErrInvalidRawJSON
	}
	last := 0
	for _, ph := range phs {
		if ph.Num < 0 || ph.Num >= len(r.Attachments) {
			return dst, atts, ErrBadPlaceholder
		}
		dst = append(dst, r.JSON[last:ph.Start]...)
		dst = AppendPlaceholder(dst, len(atts))
		atts = append(atts, r.Attachments[ph.Num])
		last = ph.End
	}
	return append(dst, r.JSON[last:]...), atts, nil
}

// AppendString appends s as a JSON string literal, escaped as JavaScript's JSON.stringify does:
// quotes, backslashes and control characters only. Invalid UTF-8 becomes U+FFFD.
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonEncoder is encoding/json without HTML escaping, writing into a reusable buffer.
type jsonEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var jsonEncoders = sync.Pool{New: func() any {
	e := new(jsonEncoder)
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

func appendJSON(dst []byte, atts [][]byte, v any) ([]byte, [][]byte, error) {
	e := jsonEncoders.Get().(*jsonEncoder)
	defer jsonEncoders.Put(e)
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return dst, atts, fmt.Errorf("%w: %w", ErrUnsupportedValue, err)
	}
	out := e.buf.Bytes()
	dst = append(dst, out[:len(out)-1]...) // without Encode's trailing newline
	if e.buf.Cap() > 64<<10 {
		e.buf = bytes.Buffer{} // do not keep a huge buffer in the pool; enc writes to &e.buf still
	}
	return dst, atts, nil
}
