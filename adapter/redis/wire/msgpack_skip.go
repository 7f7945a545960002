package wire

import "math"

// skip passes over one value. It accepts and refuses exactly the input value accepts and
// refuses, with the same errors (lengths checked against the remaining bytes, MaxDepth, the
// timestamp-96 size), but builds nothing: no strings, slices, maps or UTF-8 repair. It lets a
// node look at the options of a broadcast, which follow its packet, without paying for the
// packet.
func (d *decoder) skip() error {
	p, ok := d.take(1)
	if !ok {
		return malformed("truncated at offset %d", d.off)
	}
	c := p[0]
	switch {
	case c < 0x80 || c >= 0xe0:
		return nil
	case c < 0x90:
		return d.skipMap(int(c & 0x0f))
	case c < 0xa0:
		return d.skipArray(int(c & 0x0f))
	case c < 0xc0:
		return d.skipBytes(int(c&0x1f), "string")
	}
	switch c {
	case 0xc0, 0xc2, 0xc3:
		return nil
	case 0xc4, 0xc5, 0xc6:
		n, err := d.uint(1 << (c - 0xc4))
		if err != nil {
			return err
		}
		return d.skipBytes(int(min(n, math.MaxInt32)), "binary")
	case 0xc7, 0xc8, 0xc9:
		n, err := d.uint(1 << (c - 0xc7))
		if err != nil {
			return err
		}
		t, err := d.uint(1)
		if err != nil {
			return err
		}
		if c == 0xc7 && int8(t) == -1 { // timestamp 96, as ext refuses it
			if n != 12 {
				return malformed("timestamp 96 of %d bytes", n)
			}
			return d.skipBytes(12, "timestamp")
		}
		return d.skipBytes(int(min(n, math.MaxInt32)), "binary")
	case 0xca:
		_, err := d.uint(4)
		return err
	case 0xcb:
		_, err := d.uint(8)
		return err
	case 0xcc, 0xcd, 0xce, 0xcf:
		_, err := d.uint(1 << (c - 0xcc))
		return err
	case 0xd0, 0xd1, 0xd2, 0xd3:
		_, err := d.uint(1 << (c - 0xd0))
		return err
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		if _, err := d.uint(1); err != nil {
			return err
		}
		return d.skipBytes(1<<(c-0xd4), "extension")
	case 0xd9, 0xda, 0xdb:
		n, err := d.uint(1 << (c - 0xd9))
		if err != nil {
			return err
		}
		return d.skipBytes(int(min(n, math.MaxInt32)), "string")
	case 0xdc, 0xdd:
		n, err := d.uint(2 << (c - 0xdc))
		if err != nil {
			return err
		}
		return d.skipArray(int(min(n, math.MaxInt32)))
	case 0xde, 0xdf:
		n, err := d.uint(2 << (c - 0xde))
		if err != nil {
			return err
		}
		return d.skipMap(int(min(n, math.MaxInt32)))
	}
	return malformed("unknown type byte 0x%02x at offset %d", c, d.off-1)
}

// skipBytes passes over the n bytes of a string, binary or extension; what names the kind in
// the error, as the decoder's messages do.
func (d *decoder) skipBytes(n int, what string) error {
	if _, ok := d.take(n); !ok {
		return malformed("truncated %s at offset %d", what, d.off)
	}
	return nil
}

func (d *decoder) skipArray(n int) error {
	if n > len(d.b)-d.off {
		return malformed("array of %d elements in %d bytes", n, len(d.b)-d.off)
	}
	if err := d.enter(); err != nil {
		return err
	}
	for range n {
		if err := d.skip(); err != nil {
			return err
		}
	}
	d.depth--
	return nil
}

func (d *decoder) skipMap(n int) error {
	if n > (len(d.b)-d.off)/2 {
		return malformed("map of %d entries in %d bytes", n, len(d.b)-d.off)
	}
	if err := d.enter(); err != nil {
		return err
	}
	for range 2 * n {
		if err := d.skip(); err != nil {
			return err
		}
	}
	d.depth--
	return nil
}

// arrayHeader reads the header of an array, with the checks of array, and enters it; ok is
// false when the next value is not an array (nothing is consumed then).
func (d *decoder) arrayHeader() (n int, ok bool, err error) {
	if d.off >= len(d.b) {
		return 0, false, nil
	}
	c := d.b[d.off]
	switch {
	case c >= 0x90 && c < 0xa0:
		d.off++
		n = int(c & 0x0f)
	case c == 0xdc || c == 0xdd:
		d.off++
		u, err := d.uint(2 << (c - 0xdc))
		if err != nil {
			return 0, true, err
		}
		n = int(min(u, math.MaxInt32))
	default:
		return 0, false, nil
	}
	if n > len(d.b)-d.off {
		return 0, true, malformed("array of %d elements in %d bytes", n, len(d.b)-d.off)
	}
	return n, true, d.enter()
}

// nextIsMap reports whether the next value is a map, from its type byte.
func (d *decoder) nextIsMap() bool {
	if d.off >= len(d.b) {
		return false
	}
	c := d.b[d.off]
	return c >= 0x80 && c < 0x90 || c == 0xde || c == 0xdf
}
