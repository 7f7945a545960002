package engineio

import (
	"crypto/rand"
	"encoding/base64"
)

// newSID returns 20 characters of URL-safe base64 over 15 bytes from crypto/rand: as long as
// the reference's ids and unpredictable, since a sid is all a polling request needs to act on
// a session.
func newSID() string {
	var b [15]byte
	rand.Read(b[:]) // never fails on supported platforms (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
