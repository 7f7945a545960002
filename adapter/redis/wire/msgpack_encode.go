package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"sort"
	"time"
)

// Append appends the MessagePack encoding of v to dst, with notepack.io 3.0.1's choices:
// integral numbers as the smallest integer format, other numbers as float64, Map entries in
// slice order with Undefined values left out, Timestamp and time.Time as timestamp 32, 64 or 96.
//
// Besides the decoded value types it accepts int, int8-int32, uint, uint8-uint32, float32,
// []string, map[string]any (keys sorted, for determinism) and time.Time. Any other type is an
// error, and nothing is appended then.
func Append(dst []byte, v any) ([]byte, error) {
	n := len(dst)
	out, err := appendValue(dst, v, 0)
	if err != nil {
		return dst[:n], err
	}
	return out, nil
}

// appendValue appends v, which sits inside depth arrays and maps. It refuses an array or map
// that would be the (MaxDepth+1)th level of nesting, as the decoders do: a message a node
// publishes must be one that the other nodes can read.
func appendValue(dst []byte, v any, depth int) ([]byte, error) {
	switch v := v.(type) {
	case nil, Undefined:
		return append(dst, 0xc0), nil
	case bool:
		return appendBool(dst, v), nil
	case int64:
		return appendInt(dst, v), nil
	case int:
		return appendInt(dst, int64(v)), nil
	case int32:
		return appendInt(dst, int64(v)), nil
	case int16:
		return appendInt(dst, int64(v)), nil
	case int8:
		return appendInt(dst, int64(v)), nil
	case uint64:
		return appendUint(dst, v), nil
	case uint:
		return appendUint(dst, uint64(v)), nil
	case uint32:
		return appendUint(dst, uint64(v)), nil
	case uint16:
		return appendUint(dst, uint64(v)), nil
	case uint8:
		return appendUint(dst, uint64(v)), nil
	case float64:
		return appendFloat(dst, v), nil
	case float32:
		return appendFloat(dst, float64(v)), nil
	case string:
		return appendString(dst, v), nil
	case []byte:
		return appendBin(dst, v), nil
	case Timestamp:
		return appendTimestamp(dst, v), nil
	case time.Time:
		return appendTimestamp(dst, TimestampOf(v)), nil
	case Ext:
		return appendExt(dst, v), nil
	case []string:
		if depth >= MaxDepth {
			return dst, errTooDeep
		}
		dst = appendArrayHeader(dst, len(v))
		for _, s := range v {
			dst = appendString(dst, s)
		}
		return dst, nil
	case []any:
		if depth >= MaxDepth {
			return dst, errTooDeep
		}
		dst = appendArrayHeader(dst, len(v))
		var err error
		for _, e := range v {
			if dst, err = appendValue(dst, e, depth+1); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case Map:
		return appendMap(dst, v, depth)
	case map[string]any:
		m := make(Map, 0, len(v))
		for k, e := range v {
			m = append(m, Entry{k, e})
		}
		sort.Slice(m, func(i, j int) bool { return m[i].Key < m[j].Key })
		return appendMap(dst, m, depth)
	}
	return dst, fmt.Errorf("wire: cannot encode a value of type %T", v)
}

// errTooDeep refuses what the decoders would: see appendValue.
var errTooDeep = fmt.Errorf("wire: cannot encode values nested deeper than %d", MaxDepth)

func appendMap(dst []byte, m Map, depth int) ([]byte, error) {
	if depth >= MaxDepth {
		return dst, errTooDeep
	}
	n := 0
	for _, e := range m {
		if _, skip := e.Value.(Undefined); !skip {
			n++
		}
	}
	dst = appendMapHeader(dst, n)
	var err error
	for _, e := range m {
		if _, skip := e.Value.(Undefined); skip {
			continue
		}
		dst = appendString(dst, e.Key)
		if dst, err = appendValue(dst, e.Value, depth+1); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

func appendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 0xc3)
	}
	return append(dst, 0xc2)
}

func appendInt(dst []byte, v int64) []byte {
	if v >= 0 {
		return appendUint(dst, uint64(v))
	}
	switch {
	case v >= -32:
		return append(dst, byte(v))
	case v >= math.MinInt8:
		return append(dst, 0xd0, byte(v))
	case v >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(dst, 0xd1), uint16(v))
	case v >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(dst, 0xd2), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(dst, 0xd3), uint64(v))
}

func appendUint(dst []byte, v uint64) []byte {
	switch {
	case v < 0x80:
		return append(dst, byte(v))
	case v <= math.MaxUint8:
		return append(dst, 0xcc, byte(v))
	case v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, 0xcd), uint16(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, 0xce), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(dst, 0xcf), v)
}

// appendFloat writes a JavaScript number: integral values as integers (-0 as 0), others as
// float64. Integral values outside the int64/uint64 range stay float64 (notepack would write
// a wrapped-around integer there, which no reader can use).
func appendFloat(dst []byte, f float64) []byte {
	if f == math.Trunc(f) && f >= -(1<<63) && f < (1<<64) {
		if f < 0 {
			return appendInt(dst, int64(f))
		}
		return appendUint(dst, uint64(f))
	}
	bits := math.Float64bits(f)
	if f != f {
		bits = 0x7ff8000000000000 // the one NaN JavaScript writes
	}
	return binary.BigEndian.AppendUint64(append(dst, 0xcb), bits)
}

// appendString takes []byte too, so that text copied from JSON needs no string conversion.
func appendString[T string | []byte](dst []byte, s T) []byte {
	return append(appendStringHeader(dst, len(s)), s...)
}

func appendStringHeader(dst []byte, n int) []byte {
	switch {
	case n < 32:
		return append(dst, 0xa0|byte(n))
	case n <= math.MaxUint8:
		return append(dst, 0xd9, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, 0xda), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, 0xdb), uint32(n))
}

func appendBin(dst []byte, p []byte) []byte {
	n := len(p)
	switch {
	case n <= math.MaxUint8:
		dst = append(dst, 0xc4, byte(n))
	case n <= math.MaxUint16:
		dst = binary.BigEndian.AppendUint16(append(dst, 0xc5), uint16(n))
	default:
		dst = binary.BigEndian.AppendUint32(append(dst, 0xc6), uint32(n))
	}
	return append(dst, p...)
}

func appendArrayHeader(dst []byte, n int) []byte {
	switch {
	case n < 16:
		return append(dst, 0x90|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, 0xdc), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, 0xdd), uint32(n))
}

func appendMapHeader(dst []byte, n int) []byte {
	switch {
	case n < 16:
		return append(dst, 0x80|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, 0xde), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, 0xdf), uint32(n))
}

func appendTimestamp(dst []byte, ts Timestamp) []byte {
	if ts.Sec >= 0 && ts.Sec < 1<<34 && ts.Nsec < 1<<30 {
		if ts.Nsec == 0 && ts.Sec < 1<<32 {
			return binary.BigEndian.AppendUint32(append(dst, 0xd6, 0xff), uint32(ts.Sec))
		}
		return binary.BigEndian.AppendUint64(append(dst, 0xd7, 0xff), uint64(ts.Nsec)<<34|uint64(ts.Sec))
	}
	dst = binary.BigEndian.AppendUint32(append(dst, 0xc7, 12, 0xff), ts.Nsec)
	return binary.BigEndian.AppendUint64(dst, uint64(ts.Sec))
}

func appendExt(dst []byte, e Ext) []byte {
	n := len(e.Data)
	switch n {
	case 1, 2, 4, 8, 16:
		dst = append(dst, 0xd4+byte(bits.TrailingZeros(uint(n)))) // fixext 1, 2, 4, 8, 16
	default:
		switch {
		case n <= math.MaxUint8:
			dst = append(dst, 0xc7, byte(n))
		case n <= math.MaxUint16:
			dst = binary.BigEndian.AppendUint16(append(dst, 0xc8), uint16(n))
		default:
			dst = binary.BigEndian.AppendUint32(append(dst, 0xc9), uint32(n))
		}
	}
	return append(append(dst, byte(e.Type)), e.Data...)
}
