package engineio

import (
	"testing"
	"unsafe"
)

// Every open session holds a Session with its HandshakeInfo: the struct is laid out to fit
// the runtime's 288-byte size class, and a field added in the wrong place moves every session
// to the 320-byte class (it happened once: a bool after a string).
func TestSessionFitsItsSizeClass(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layout is measured for 64-bit platforms")
	}
	if n := unsafe.Sizeof(Session{}); n > 288 {
		t.Errorf("Session is %d bytes, more than the 288-byte size class", n)
	}
}
