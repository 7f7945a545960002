package wsframe

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseHeader(t *testing.T) {
	long := append([]byte{0x81, 127}, 0, 0, 0, 0, 0, 1, 0, 0)
	tests := []struct {
		name string
		in   []byte
		ok   bool
		err  error
		want Header
	}{
		{"empty", nil, false, nil, Header{}},
		{"one byte", []byte{0x81}, false, nil, Header{}},
		{"small text", []byte{0x81, 5, 'h', 'e'}, true, nil, Header{Fin: true, Opcode: OpText, Length: 5, Size: 2}},
		{"16-bit length", []byte{0x82, 126, 0x01, 0x00}, true, nil, Header{Fin: true, Opcode: OpBinary, Length: 256, Size: 4}},
		{"16-bit length cut", []byte{0x82, 126, 0x01}, false, nil, Header{}},
		{"64-bit length", long, true, nil, Header{Fin: true, Opcode: OpText, Length: 65536, Size: 10}},
		{"64-bit length cut", long[:9], false, nil, Header{}},
		{"continuation not final", []byte{0x00, 3}, true, nil, Header{Opcode: OpContinuation, Length: 3, Size: 2}},
		{"masked by server", []byte{0x81, 0x85}, false, ErrMaskedByServer, Header{}},
		{"reserved bit", []byte{0xC1, 1}, false, ErrReserved, Header{}},
		{"reserved opcode", []byte{0x83, 1}, false, ErrReserved, Header{}},
		{"fragmented ping", []byte{0x09, 0}, false, ErrControl, Header{}},
		{"long ping", []byte{0x89, 126, 0, 200}, false, ErrControl, Header{}},
		{"huge length", []byte{0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, false, ErrLength, Header{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ok, err := ParseHeader(tt.in)
			if !errors.Is(err, tt.err) || ok != tt.ok {
				t.Fatalf("ParseHeader(%x) = ok %v, err %v; want ok %v, err %v", tt.in, ok, err, tt.ok, tt.err)
			}
			if ok && h != tt.want {
				t.Fatalf("ParseHeader(%x) = %+v, want %+v", tt.in, h, tt.want)
			}
		})
	}
}

// unmask decodes a client frame as a server would.
func unmask(t *testing.T, f []byte) (op byte, payload []byte) {
	t.Helper()
	if f[1]&0x80 == 0 {
		t.Fatal("client frame not masked")
	}
	n := int(f[1] & 0x7F)
	i := 2
	switch n {
	case 126:
		n = int(f[2])<<8 | int(f[3])
		i = 4
	case 127:
		n = 0
		for _, b := range f[2:10] {
			n = n<<8 | int(b)
		}
		i = 10
	}
	key := f[i : i+4]
	p := append([]byte(nil), f[i+4:]...)
	if len(p) != n {
		t.Fatalf("payload length %d, header says %d", len(p), n)
	}
	for j := range p {
		p[j] ^= key[j&3]
	}
	return f[0] & 0x0F, p
}

func TestAppendMasked(t *testing.T) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for _, n := range []int{0, 1, 125, 126, 65535, 65536} {
		payload := bytes.Repeat([]byte{'a'}, n)
		f := AppendMasked([]byte("prefix"), OpText, payload, key)
		if !bytes.HasPrefix(f, []byte("prefix")) {
			t.Fatal("dst prefix lost")
		}
		if f[6] != 0x81 {
			t.Fatalf("n=%d: first byte %#x, want FIN|text", n, f[6])
		}
		op, got := unmask(t, f[6:])
		if op != OpText || !bytes.Equal(got, payload) {
			t.Fatalf("n=%d: round trip gave op %d and %d bytes", n, op, len(got))
		}
	}
}

// AppendHeader writes headers that ParseHeader reads back, in each of the three length forms.
func TestAppendHeaderRoundTrip(t *testing.T) {
	for _, n := range []int{0, 125, 126, 65535, 65536} {
		b := AppendHeader(nil, OpText, n)
		h, ok, err := ParseHeader(b)
		if !ok || err != nil || !h.Fin || h.Opcode != OpText || h.Length != int64(n) || h.Size != len(b) {
			t.Errorf("%d bytes: header %x parsed as %+v, %v, %v", n, b, h, ok, err)
		}
	}
}
