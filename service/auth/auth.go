// Package auth checks the JWT that a Socket.IO client sends in its handshake (`auth: {token}`)
// and turns it into an Identity: the user id and, for restaurant owners, the restaurant id.
//
// Only the configured algorithm is accepted: HS256 with a shared secret, or RS256/ES256 with a
// public key. `exp` and `nbf` are enforced with a small clock-skew allowance. Every refusal is
// one of two errors whose texts are part of the service contract: ErrNoToken ("Authentication
// error") and ErrInvalidToken ("Invalid token"); the reason behind an invalid token is kept for
// logs through errors.Unwrap and never shown to the client.
package auth

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tomato-code/realtime/socketio/parser"
)

// Error is a refusal whose text is sent to the client as the connect_error message.
type Error string

func (e Error) Error() string { return string(e) }

// The two refusals of the service contract.
const (
	// ErrNoToken: the handshake carried no token.
	ErrNoToken Error = "Authentication error"
	// ErrInvalidToken: the token is there but unusable (bad signature, wrong algorithm,
	// expired, not yet valid, no user id, malformed). errors.Is matches it on every such error.
	ErrInvalidToken Error = "Invalid token"
)

// invalidToken carries why a token was refused, for logs; its text is always "Invalid token".
type invalidToken struct{ cause error }

func (e *invalidToken) Error() string        { return string(ErrInvalidToken) }
func (e *invalidToken) Unwrap() error        { return e.cause }
func (e *invalidToken) Is(target error) bool { return target == ErrInvalidToken }

func invalid(format string, args ...any) error {
	return &invalidToken{cause: fmt.Errorf(format, args...)}
}

// Reason returns why err refused a token, for logs: the underlying cause of an invalid token,
// or err's text.
func Reason(err error) string {
	var it *invalidToken
	if errors.As(err, &it) && it.cause != nil {
		return it.cause.Error()
	}
	return err.Error()
}

// Identity is who a valid token speaks for.
type Identity struct {
	// UserID comes from the `_id` claim, or `sub` when `_id` is absent. Never empty.
	UserID string
	// RestaurantID comes from the optional `restaurantId` claim; empty when absent.
	RestaurantID string
	// ExpiresAt is the token's `exp`, zero when the token has none.
	ExpiresAt time.Time
}

// DefaultLeeway is the clock skew allowed on exp and nbf when Config.Leeway is zero.
const DefaultLeeway = 30 * time.Second

// MaxTokenBytes bounds the token text: longer tokens are refused before any parsing.
const MaxTokenBytes = 8 << 10

// Config selects how tokens are checked. Exactly one of Secret and PublicKey must be set.
type Config struct {
	// Secret is the HS256 key.
	Secret []byte
	// PublicKey is an *rsa.PublicKey (RS256) or an *ecdsa.PublicKey on P-256 (ES256); see
	// ParsePublicKey.
	PublicKey crypto.PublicKey
	// Leeway is the clock skew allowed on exp and nbf. Default DefaultLeeway; negative means none.
	Leeway time.Duration
	// Now is the clock, for tests. Default time.Now.
	Now func() time.Time
}

// Verifier checks tokens. It is safe for concurrent use.
type Verifier struct {
	alg    string
	key    any
	parser *jwt.Parser
	// The HS256 path (hs256.go) checks claims itself, with the parser's leeway and clock.
	leeway time.Duration
	now    func() time.Time
	macs   sync.Pool // of *macState
}

// NewVerifier builds a Verifier for cfg.
func NewVerifier(cfg Config) (*Verifier, error) {
	v := &Verifier{}
	switch {
	case len(cfg.Secret) > 0 && cfg.PublicKey != nil:
		return nil, errors.New("auth: set either a secret or a public key, not both")
	case len(cfg.Secret) > 0:
		v.alg, v.key = jwt.SigningMethodHS256.Alg(), cfg.Secret
	case cfg.PublicKey != nil:
		alg, err := algorithmFor(cfg.PublicKey)
		if err != nil {
			return nil, err
		}
		v.alg, v.key = alg, cfg.PublicKey
	default:
		return nil, errors.New("auth: a secret or a public key is required")
	}
	leeway := cfg.Leeway
	if leeway == 0 {
		leeway = DefaultLeeway
	} else if leeway < 0 {
		leeway = 0
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{v.alg}),
		jwt.WithLeeway(leeway),
		jwt.WithJSONNumber(),
	}
	v.leeway, v.now = leeway, time.Now
	if cfg.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(cfg.Now))
		v.now = cfg.Now
	}
	v.parser = jwt.NewParser(opts...)
	if v.alg == jwt.SigningMethodHS256.Alg() {
		key := bytes.Clone(cfg.Secret)
		v.macs.New = func() any { return &macState{h: hmac.New(sha256.New, key)} }
	}
	return v, nil
}

// Algorithm is the one JWT algorithm this Verifier accepts: HS256, RS256 or ES256.
func (v *Verifier) Algorithm() string { return v.alg }

// Verify checks a token and returns its Identity. An empty token is ErrNoToken; anything else
// that is wrong is an error matching ErrInvalidToken.
func (v *Verifier) Verify(token string) (Identity, error) {
	return v.verifyBytes([]byte(token))
}

// verifyBytes is Verify for a token that is still bytes, such as one read in place from a
// CONNECT packet's auth object.
func (v *Verifier) verifyBytes(token []byte) (Identity, error) {
	if err := checkSize(len(token)); err != nil {
		return Identity{}, err
	}
	if v.alg == jwt.SigningMethodHS256.Alg() {
		return v.verifyHS256(token)
	}
	return v.verifyWithLibrary(string(token))
}

// checkSize refuses, before any parsing, an empty token (ErrNoToken) and one longer than
// MaxTokenBytes.
func checkSize(n int) error {
	if n == 0 {
		return ErrNoToken
	}
	if n > MaxTokenBytes {
		return invalid("token is %d bytes, more than %d", n, MaxTokenBytes)
	}
	return nil
}

// verifyWithLibrary checks a token of an acceptable size with golang-jwt's parser: the path of
// the public-key algorithms, and the reference that the HS256 path is tested against.
func (v *Verifier) verifyWithLibrary(token string) (Identity, error) {
	claims := jwt.MapClaims{}
	_, err := v.parser.ParseWithClaims(token, claims, v.keyFor)
	if err != nil {
		return Identity{}, &invalidToken{cause: err}
	}
	return identityFrom(claims)
}

// keyFor hands the key to the parser only for the configured algorithm. The parser already
// refuses other algorithms (WithValidMethods); checking again here keeps an HS256 token from
// ever being verified with public-key bytes as its secret should that option be lost.
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	if t.Method == nil || t.Method.Alg() != v.alg {
		return nil, fmt.Errorf("algorithm %v is not %s", t.Header["alg"], v.alg)
	}
	return v.key, nil
}

// VerifyAuth reads the token from a Socket.IO handshake auth object (the JSON the client
// passed as `auth`) and verifies it. A missing auth object, a missing or null token and an
// empty string are ErrNoToken; a token that is not a string is invalid.
func (v *Verifier) VerifyAuth(auth json.RawMessage) (Identity, error) {
	// Read in place: every handshake comes through here, and encoding/json's map for a
	// one-member object cost more than the HS256 check itself.
	var raw []byte
	for r := parser.ReadMembers(auth); ; {
		key, value, err := r.Next()
		if err != nil { // also a missing auth object and null
			return Identity{}, ErrNoToken
		}
		if key == nil {
			break
		}
		if parser.KeyIs(key, "token") {
			raw = value // later duplicates win, as in encoding/json's map
		}
	}
	if raw == nil || string(raw) == "null" {
		return Identity{}, ErrNoToken
	}
	if raw[0] != '"' {
		return Identity{}, invalid("token is not a string")
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return v.verifyBytes(raw[1 : len(raw)-1])
	}
	token, _ := parser.Unquote(raw) // a valid JSON string, so it unquotes
	return v.Verify(token)
}

func identityFrom(c jwt.MapClaims) (Identity, error) {
	id, err := identityOf(func(name string) (string, error) { return claimID(c, name) })
	if err != nil {
		return Identity{}, err
	}
	if exp, err := c.GetExpirationTime(); err == nil && exp != nil {
		id.ExpiresAt = exp.Time
	}
	return id, nil
}

// identityOf reads who a token speaks for with claim, which reads one identifier claim ("" when
// absent): the user id is _id, else sub, and is required; restaurantId is optional.
func identityOf(claim func(name string) (string, error)) (Identity, error) {
	user, err := claim("_id")
	if err != nil {
		return Identity{}, err
	}
	if user == "" {
		if user, err = claim("sub"); err != nil {
			return Identity{}, err
		}
	}
	if user == "" {
		return Identity{}, invalid("no user id: neither _id nor sub is set")
	}
	restaurant, err := claim("restaurantId")
	if err != nil {
		return Identity{}, err
	}
	return Identity{UserID: user, RestaurantID: restaurant}, nil
}

// claimID reads an identifier claim: a string, or an integer (ids minted by numeric databases),
// kept as its exact decimal text. Absent, null and "" read as "".
func claimID(c jwt.MapClaims, name string) (string, error) {
	switch v := c[name].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case json.Number:
		if strings.ContainsAny(string(v), ".eE") {
			return "", invalid("claim %s is not an integer: %s", name, v)
		}
		return string(v), nil
	default:
		return "", invalid("claim %s is a %T, not a string or an integer", name, v)
	}
}
