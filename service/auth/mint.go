package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MintOptions describe a token to mint for development and scripts (the `realtime token`
// command and dev mode's example token).
type MintOptions struct {
	// UserID becomes the `_id` claim. Required.
	UserID string
	// RestaurantID becomes the `restaurantId` claim when not empty.
	RestaurantID string
	// TTL sets `exp` that far after Now; zero mints a token without `exp`.
	TTL time.Duration
	// Now is the issue time; zero means time.Now().
	Now time.Time
}

// MintHS256 signs a token with an HS256 secret.
func MintHS256(secret []byte, opts MintOptions) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("auth: an HS256 secret is required to mint a token")
	}
	return mint(jwt.SigningMethodHS256, secret, opts)
}

// MintWithKey signs a token with an RSA (RS256) or ECDSA P-256 (ES256) private key.
func MintWithKey(key crypto.Signer, opts MintOptions) (string, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return mint(jwt.SigningMethodRS256, k, opts)
	case *ecdsa.PrivateKey:
		return mint(jwt.SigningMethodES256, k, opts)
	default:
		return "", fmt.Errorf("auth: cannot mint with a %T key", key)
	}
}

func mint(method jwt.SigningMethod, key any, opts MintOptions) (string, error) {
	if opts.UserID == "" {
		return "", errors.New("auth: a user id is required to mint a token")
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	claims := jwt.MapClaims{"_id": opts.UserID, "iat": now.Unix()}
	if opts.RestaurantID != "" {
		claims["restaurantId"] = opts.RestaurantID
	}
	if opts.TTL > 0 {
		claims["exp"] = now.Add(opts.TTL).Unix()
	}
	return jwt.NewWithClaims(method, claims).SignedString(key)
}
