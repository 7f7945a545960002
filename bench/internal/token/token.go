// Package token mints the HS256 JSON Web Tokens the load tool's connections authenticate with.
//
// It writes the token by hand rather than through a JWT library because the load tool mints one
// token per connection, tens of thousands per run, and needs nothing but HS256 with three claims.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"hash"
	"time"
)

// header is the encoded {"alg":"HS256","typ":"JWT"}: the same for every token.
var header = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// Claims are the claims the service contract reads.
type Claims struct {
	// UserID is the _id claim: the socket joins user:{UserID}.
	UserID string `json:"_id"`
	// RestaurantID, when set, is the restaurantId claim: the socket also joins
	// restaurant:{RestaurantID}.
	RestaurantID string `json:"restaurantId,omitempty"`
	// Expires is the exp claim in seconds since the Unix epoch; zero omits it.
	Expires int64 `json:"exp,omitempty"`
}

// Minter signs tokens with one secret. It is not safe for concurrent use: give each goroutine
// its own.
type Minter struct {
	mac hash.Hash
	buf []byte
}

// NewMinter returns a Minter for the HS256 secret.
func NewMinter(secret []byte) *Minter {
	return &Minter{mac: hmac.New(sha256.New, secret)}
}

// Mint returns a signed token carrying c.
func (m *Minter) Mint(c Claims) string {
	payload, _ := json.Marshal(c) // a struct of strings and an integer always marshals
	b := append(m.buf[:0], header...)
	b = append(b, '.')
	b = base64.RawURLEncoding.AppendEncode(b, payload)
	m.mac.Reset()
	m.mac.Write(b)
	var sum [sha256.Size]byte
	sig := m.mac.Sum(sum[:0])
	b = append(b, '.')
	b = base64.RawURLEncoding.AppendEncode(b, sig)
	m.buf = b
	return string(b)
}

// ExpiresIn returns the exp claim value for a token valid for d from now.
func ExpiresIn(d time.Duration) int64 {
	return time.Now().Add(d).Unix()
}
