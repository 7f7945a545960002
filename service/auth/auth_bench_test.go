package auth

import (
	"encoding/json"
	"testing"
	"time"
)

// BenchmarkVerifyAuth is the per-handshake cost of the service's middleware: the auth object
// of a CONNECT packet in, an Identity out (HS256, the claims the service reads).
func BenchmarkVerifyAuth(b *testing.B) {
	v, err := NewVerifier(Config{Secret: secret})
	if err != nil {
		b.Fatal(err)
	}
	token, err := MintHS256(secret, MintOptions{UserID: "u0001234", RestaurantID: "r1", TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	auth := json.RawMessage(`{"token":"` + token + `"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.VerifyAuth(auth); err != nil {
			b.Fatal(err)
		}
	}
}
