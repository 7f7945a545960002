package engineio

import (
	"testing"
	"unsafe"
)

// Every open session holds a Session with its handshake: the struct is laid out to fit the
// runtime's 224-byte size class (216 bytes: 8 to spare), and a field added in the wrong place
// moves every session to the 240-byte class (it happened once: a bool after a string). It was
// 288 bytes while it held a HandshakeInfo by value.
func TestSessionFitsItsSizeClass(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layout is measured for 64-bit platforms")
	}
	if n := unsafe.Sizeof(Session{}); n > 224 {
		t.Errorf("Session is %d bytes, more than the 224-byte size class", n)
	}
}
