package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// ErrMalformed is wrapped by every error about input that is not a well-formed message.
var ErrMalformed = errors.New("wire: malformed message")

// MaxDepth bounds the nesting of arrays and maps that the decoders accept, so that hostile
// input cannot exhaust the stack.
const MaxDepth = 512

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// Decode decodes one MessagePack value that must fill b exactly, as notepack.decode does
// (trailing bytes are an error). See the package documentation for the Go types it returns.
// Strings that are not valid UTF-8 are repaired as Node's Buffer.toString does; []byte values
// alias b.
func Decode(b []byte) (any, error) {
	d := decoder{b: b}
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	if d.off != len(b) {
		return nil, malformed("%d trailing bytes", len(b)-d.off)
	}
	return v, nil
}

type decoder struct {
	b     []byte
	off   int
	depth int
}

// take returns the next n bytes, or nil and false when fewer remain.
func (d *decoder) take(n int) ([]byte, bool) {
	if n < 0 || n > len(d.b)-d.off {
		return nil, false
	}
	p := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return p, true
}

func (d *decoder) uint(n int) (uint64, error) {
	p, ok := d.take(n)
	if !ok {
		return 0, malformed("truncated at offset %d", d.off)
	}
	var v uint64
	for _, c := range p {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

func (d *decoder) value() (any, error) {
	p, ok := d.take(1)
	if !ok {
		return nil, malformed("truncated at offset %d", d.off)
	}
	c := p[0]
	switch {
	case c < 0x80:
		return int64(c), nil
	case c < 0x90:
		return d.mapOf(int(c & 0x0f))
	case c < 0xa0:
		return d.array(int(c & 0x0f))
	case c < 0xc0:
		return d.shortStr(int(c & 0x1f))
	case c >= 0xe0:
		return int64(int8(c)), nil
	}
	switch c {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc4, 0xc5, 0xc6:
		n, err := d.uint(1 << (c - 0xc4))
		if err != nil {
			return nil, err
		}
		return d.bin(n)
	case 0xc7, 0xc8, 0xc9:
		n, err := d.uint(1 << (c - 0xc7))
		if err != nil {
			return nil, err
		}
		t, err := d.uint(1)
		if err != nil {
			return nil, err
		}
		return d.ext(int8(t), n, c == 0xc7)
	case 0xca:
		u, err := d.uint(4)
		return float64(math.Float32frombits(uint32(u))), err
	case 0xcb:
		u, err := d.uint(8)
		return math.Float64frombits(u), err
	case 0xcc, 0xcd, 0xce, 0xcf:
		u, err := d.uint(1 << (c - 0xcc))
		if err != nil {
			return nil, err
		}
		if u > math.MaxInt64 {
			return u, nil
		}
		return int64(u), nil
	case 0xd0, 0xd1, 0xd2, 0xd3:
		size := 1 << (c - 0xd0)
		u, err := d.uint(size)
		if err != nil {
			return nil, err
		}
		shift := 64 - 8*size // sign-extend from the encoded width
		return int64(u<<shift) >> shift, nil
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		t, err := d.uint(1)
		if err != nil {
			return nil, err
		}
		return d.fixext(int8(t), 1<<(c-0xd4))
	case 0xd9, 0xda, 0xdb:
		n, err := d.uint(1 << (c - 0xd9))
		if err != nil {
			return nil, err
		}
		return d.str(int(min(n, math.MaxInt32)))
	case 0xdc, 0xdd:
		n, err := d.uint(2 << (c - 0xdc))
		if err != nil {
			return nil, err
		}
		return d.array(int(min(n, math.MaxInt32)))
	case 0xde, 0xdf:
		n, err := d.uint(2 << (c - 0xde))
		if err != nil {
			return nil, err
		}
		return d.mapOf(int(min(n, math.MaxInt32)))
	}
	return nil, malformed("unknown type byte 0x%02x at offset %d", c, d.off-1)
}

func (d *decoder) bin(n uint64) ([]byte, error) {
	p, ok := d.take(int(min(n, math.MaxInt32)))
	if !ok {
		return nil, malformed("truncated binary at offset %d", d.off)
	}
	return p, nil
}

func (d *decoder) str(n int) (string, error) {
	p, ok := d.take(n)
	if !ok {
		return "", malformed("truncated string at offset %d", d.off)
	}
	return decodeUTF8(p), nil
}

// shortStr decodes a fixstr. The property names of the broadcast format come back as
// constants, which need no allocation, neither for the string nor for the interface holding
// it: a broadcast repeats them in every message.
func (d *decoder) shortStr(n int) (any, error) {
	p, ok := d.take(n)
	if !ok {
		return "", malformed("truncated string at offset %d", d.off)
	}
	switch string(p) {
	case "type":
		return "type", nil
	case "data":
		return "data", nil
	case "nsp":
		return "nsp", nil
	case "/":
		return "/", nil
	case "rooms":
		return "rooms", nil
	case "except":
		return "except", nil
	case "flags":
		return "flags", nil
	}
	return decodeUTF8(p), nil
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > MaxDepth {
		return malformed("nesting deeper than %d", MaxDepth)
	}
	return nil
}

func (d *decoder) array(n int) (any, error) {
	// Every element takes at least one byte: this bounds the allocation by the input size.
	if n > len(d.b)-d.off {
		return nil, malformed("array of %d elements in %d bytes", n, len(d.b)-d.off)
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	a := make([]any, n)
	for i := range a {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a[i] = v
	}
	d.depth--
	return a, nil
}

func (d *decoder) mapOf(n int) (any, error) {
	if n > (len(d.b)-d.off)/2 {
		return nil, malformed("map of %d entries in %d bytes", n, len(d.b)-d.off)
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	ob := objectBuilder{m: make(Map, 0, n)}
	for range n {
		k, err := d.value()
		if err != nil {
			return nil, err
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		key := propertyKey(k)
		// notepack assigns with value[key] = v: "__proto__" then sets the prototype and
		// never becomes an own property, so it is not part of the object.
		if key != "__proto__" {
			ob.set(key, v)
		}
	}
	d.depth--
	return ob.done(), nil
}

// fixext decodes fixext 1/2/4/8/16 of type t, with notepack's special cases.
func (d *decoder) fixext(t int8, n int) (any, error) {
	p, ok := d.take(n)
	if !ok {
		return nil, malformed("truncated extension at offset %d", d.off)
	}
	switch {
	case n == 1 && t == 0: // notepack 2's undefined
		return Undefined{}, nil
	case n == 4 && t == -1: // timestamp 32
		return Timestamp{Sec: int64(binary.BigEndian.Uint32(p))}, nil
	case n == 8 && t == 0: // notepack 2's Date: int64 milliseconds
		ms := int64(binary.BigEndian.Uint64(p))
		sec, rem := ms/1000, ms%1000
		if rem < 0 {
			sec, rem = sec-1, rem+1000
		}
		return Timestamp{Sec: sec, Nsec: uint32(rem) * 1e6}, nil
	case n == 8 && t == -1: // timestamp 64: 30-bit nanoseconds, 34-bit seconds
		hi, lo := binary.BigEndian.Uint32(p), binary.BigEndian.Uint32(p[4:])
		return Timestamp{Sec: int64(hi&3)<<32 | int64(lo), Nsec: hi >> 2}, nil
	}
	return Ext{Type: t, Data: p}, nil
}

// ext decodes ext 8/16/32 of type t and n bytes.
func (d *decoder) ext(t int8, n uint64, ext8 bool) (any, error) {
	if ext8 && t == -1 { // timestamp 96: notepack reads it only from ext 8
		if n != 12 {
			return nil, malformed("timestamp 96 of %d bytes", n)
		}
		p, ok := d.take(12)
		if !ok {
			return nil, malformed("truncated timestamp at offset %d", d.off)
		}
		ns := binary.BigEndian.Uint32(p)
		sec := int64(binary.BigEndian.Uint64(p[4:]))
		return Timestamp{Sec: sec, Nsec: ns}, nil
	}
	p, err := d.bin(n)
	if err != nil {
		return nil, err
	}
	if t == 0 { // notepack 2's ArrayBuffer
		return p, nil
	}
	return Ext{Type: t, Data: p}, nil
}

// propertyKey converts a decoded map key to the property name JavaScript makes of it.
func propertyKey(k any) string {
	switch k := k.(type) {
	case string:
		return k
	case nil:
		return "null"
	case Map:
		return "[object Object]"
	case []any:
		// String(array) joins the elements' strings with ","; null and undefined become "".
		var b []byte
		for i, e := range k {
			if i > 0 {
				b = append(b, ',')
			}
			switch e.(type) {
			case nil, Undefined:
			default:
				b = append(b, propertyKey(e)...)
			}
		}
		return string(b)
	case Ext:
		return strconv.Itoa(int(k.Type)) + "," + decodeUTF8(k.Data)
	case []byte:
		return decodeUTF8(k)
	case Timestamp:
		ms, ok := k.JSMillis()
		if !ok {
			return "Invalid Date"
		}
		return jsDateString(ms)
	}
	return string(appendScalarJSON(nil, k))
}

// decodeUTF8 converts bytes to a string as the WHATWG UTF-8 decoder (Node's Buffer.toString)
// does: each maximal invalid subsequence becomes one U+FFFD.
func decodeUTF8(p []byte) string {
	if utf8.Valid(p) {
		return string(p)
	}
	out := make([]byte, 0, len(p)+8)
	for i := 0; i < len(p); {
		c := p[i]
		var need int
		lower, upper := byte(0x80), byte(0xbf)
		switch {
		case c < 0x80:
			out = append(out, c)
			i++
			continue
		case c >= 0xc2 && c <= 0xdf:
			need = 1
		case c >= 0xe0 && c <= 0xef:
			need = 2
			if c == 0xe0 {
				lower = 0xa0
			} else if c == 0xed {
				upper = 0x9f
			}
		case c >= 0xf0 && c <= 0xf4:
			need = 3
			if c == 0xf0 {
				lower = 0x90
			} else if c == 0xf4 {
				upper = 0x8f
			}
		default:
			out = utf8.AppendRune(out, utf8.RuneError)
			i++
			continue
		}
		j := i + 1
		for seen := 0; seen < need; seen++ {
			if j >= len(p) || p[j] < lower || p[j] > upper {
				break
			}
			lower, upper = 0x80, 0xbf
			j++
		}
		if j-i == need+1 {
			out = append(out, p[i:j]...)
		} else {
			out = utf8.AppendRune(out, utf8.RuneError)
		}
		i = j
	}
	return string(out)
}
