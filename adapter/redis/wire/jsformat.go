package wire

import (
	"math"
	"strconv"
	"time"
)

// appendJSNumber appends a finite float64 the way JavaScript's Number.prototype.toString (and
// so JSON.stringify) writes it: the shortest round-tripping digits, plain notation for decimal
// exponents from -7 to 20, exponent notation ("1e+21", "1.5e-7") beyond.
func appendJSNumber(dst []byte, f float64) []byte {
	if f == 0 {
		return append(dst, '0') // also -0
	}
	if f < 0 {
		dst = append(dst, '-')
		f = -f
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // d[.ddd]e±XX
	mant, exp := e, 0
	for i, c := range e {
		if c == 'e' {
			mant = e[:i]
			exp, _ = strconv.Atoi(string(e[i+1:]))
			break
		}
	}
	var digits [24]byte
	k := 0
	for _, c := range mant {
		if c != '.' {
			digits[k] = c
			k++
		}
	}
	d := digits[:k]
	n := exp + 1 // position of the decimal point relative to the digits
	switch {
	case k <= n && n <= 21:
		dst = append(dst, d...)
		for range n - k {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = append(dst, d[:n]...)
		dst = append(dst, '.')
		dst = append(dst, d[n:]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		for range -n {
			dst = append(dst, '0')
		}
		dst = append(dst, d...)
	default:
		dst = append(dst, d[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, d[1:]...)
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, int64(n-1), 10)
	}
	return dst
}

// appendISOString appends a JavaScript Date's toISOString for the time value ms: UTC, always
// three fraction digits, years outside 0-9999 as a signed six-digit year.
func appendISOString(dst []byte, ms int64) []byte {
	t := time.UnixMilli(ms).UTC()
	y := t.Year()
	switch {
	case y < 0:
		dst = append(dst, '-')
		dst = appendPadded(dst, -y, 6)
	case y > 9999:
		dst = append(dst, '+')
		dst = appendPadded(dst, y, 6)
	default:
		dst = appendPadded(dst, y, 4)
	}
	dst = append(dst, '-')
	dst = appendPadded(dst, int(t.Month()), 2)
	dst = append(dst, '-')
	dst = appendPadded(dst, t.Day(), 2)
	dst = append(dst, 'T')
	dst = appendPadded(dst, t.Hour(), 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, t.Minute(), 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, t.Second(), 2)
	dst = append(dst, '.')
	dst = appendPadded(dst, t.Nanosecond()/1e6, 3)
	return append(dst, 'Z')
}

// jsDateString is Date.prototype.toString in a UTC process, used only for the rare map key
// that is a date.
func jsDateString(ms int64) string {
	t := time.UnixMilli(ms).UTC()
	b := []byte(t.Format("Mon Jan 02 "))
	y := t.Year()
	if y < 0 {
		b = append(b, '-')
		y = -y
	}
	b = appendPadded(b, y, 4)
	b = append(b, t.Format(" 15:04:05")...)
	b = append(b, " GMT+0000 (Coordinated Universal Time)"...)
	return string(b)
}

func appendPadded(dst []byte, v, width int) []byte {
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// appendScalarJSON appends the JSON text of a number, bool or nil, as JSON.stringify writes
// it (NaN and the infinities become null).
func appendScalarJSON(dst []byte, v any) []byte {
	switch v := v.(type) {
	case bool:
		return strconv.AppendBool(dst, v)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case uint64:
		return strconv.AppendUint(dst, v, 10)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return append(dst, "null"...)
		}
		return appendJSNumber(dst, v)
	case Undefined:
		return append(dst, "undefined"...)
	}
	return append(dst, "null"...)
}
