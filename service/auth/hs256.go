package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tomato-code/realtime/socketio/parser"
)

// verifyHS256 checks an HS256 token as the golang-jwt parser that NewVerifier configures
// would (three base64url segments, a header whose alg is HS256, the HMAC, exp and nbf with the
// leeway, the claims identityFrom reads), but reads the header and claims in place with
// parser.MemberReader instead of decoding them into maps, and reuses its HMAC states. Every
// handshake pays for this check: it was a fifth of the service's CPU while connecting clients
// (pprof), and BenchmarkVerifyAuth has the before and after. TestHS256MatchesLibrary and
// FuzzHS256MatchesLibrary hold the two paths to the same answers.
//
// It is stricter than the library in two corners, both only reachable with the secret: bytes
// after the claims object (json.Decoder stops reading after the first value), and an exp or nbf
// that is not a finite number of seconds within int64 (the library converts those to times that
// wrap around).
func (v *Verifier) verifyHS256(token []byte) (Identity, error) {
	header, rest, ok1 := bytes.Cut(token, []byte{'.'})
	payload, sig, ok2 := bytes.Cut(rest, []byte{'.'})
	if !ok1 || !ok2 || bytes.IndexByte(sig, '.') >= 0 {
		return Identity{}, invalid("token contains an invalid number of segments")
	}
	enc := base64.RawURLEncoding
	var stack [768]byte
	buf := stack[:]
	if n := enc.DecodedLen(len(header)) + enc.DecodedLen(len(payload)); n > len(buf) {
		buf = make([]byte, n)
	}
	hn, err := enc.Decode(buf, header)
	if err != nil {
		return Identity{}, invalid("could not base64 decode header: %v", err)
	}
	cn, err := enc.Decode(buf[hn:], payload)
	if err != nil {
		return Identity{}, invalid("could not base64 decode claim: %v", err)
	}
	var alg []byte
	for r := parser.ReadMembers(buf[:hn]); ; {
		key, value, err := r.Next()
		if err != nil {
			return Identity{}, invalid("could not JSON decode header")
		}
		if key == nil {
			break
		}
		if parser.KeyIs(key, "alg") {
			alg = value // later duplicates win, as in encoding/json's map
		}
	}
	if alg == nil || alg[0] != '"' {
		return Identity{}, invalid("signing method (alg) is unspecified")
	}
	if name, _ := parser.Unquote(alg); name != v.alg {
		return Identity{}, invalid("signing method %s is invalid", clip(name))
	}
	var sigBuf [64]byte
	given := sigBuf[:]
	if n := enc.DecodedLen(len(sig)); n > len(given) {
		given = make([]byte, n)
	}
	gn, err := enc.Decode(given, sig)
	if err != nil {
		return Identity{}, invalid("could not base64 decode signature: %v", err)
	}
	mac := v.macs.Get().(*macState)
	mac.h.Reset()
	mac.h.Write(token[:len(header)+1+len(payload)])
	ok := hmac.Equal(mac.h.Sum(mac.sum[:0]), given[:gn])
	v.macs.Put(mac)
	if !ok {
		return Identity{}, invalid("signature is invalid")
	}
	// The claims are read once the signature holds: their parser only ever sees what the
	// secret's holder wrote.
	c, err := readClaims(buf[hn : hn+cn])
	if err != nil {
		return Identity{}, err
	}
	return c.identity(v.now(), v.leeway)
}

// macState is an HMAC keyed with the secret and the buffer its sums go to; a pool keeps them,
// as keying one costs two SHA-256 blocks and the sum would otherwise escape through hash.Hash.
type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

// claimSet holds the raw values of the claims a token is checked and read for; nil is absent.
type claimSet struct {
	userID, sub, restaurant, exp, nbf []byte
}

// readClaims returns the claims by value: stored through a pointer, the raw values would make
// the caller's decoding buffer escape to the heap.
func readClaims(claims []byte) (c claimSet, err error) {
	for r := parser.ReadMembers(claims); ; {
		key, value, err := r.Next()
		if err != nil {
			return c, invalid("could not JSON decode claim")
		}
		// Later duplicates win, as in the map encoding/json fills.
		switch {
		case key == nil:
			return c, nil
		case parser.KeyIs(key, "_id"):
			c.userID = value
		case parser.KeyIs(key, "sub"):
			c.sub = value
		case parser.KeyIs(key, "restaurantId"):
			c.restaurant = value
		case parser.KeyIs(key, "exp"):
			c.exp = value
		case parser.KeyIs(key, "nbf"):
			c.nbf = value
		}
	}
}

// identity validates exp and nbf at now and returns who the claims speak for, with the
// library's rules: exp must be after now-leeway, nbf not after now+leeway, both optional.
func (c *claimSet) identity(now time.Time, leeway time.Duration) (Identity, error) {
	var expires time.Time
	if c.exp != nil {
		exp, err := numericDate("exp", c.exp)
		if err != nil {
			return Identity{}, err
		}
		if !now.Before(exp.Add(leeway)) {
			return Identity{}, invalid("token is expired")
		}
		expires = exp
	}
	if c.nbf != nil {
		nbf, err := numericDate("nbf", c.nbf)
		if err != nil {
			return Identity{}, err
		}
		if now.Before(nbf.Add(-leeway)) {
			return Identity{}, invalid("token is not valid yet")
		}
	}
	id, err := identityOf(c.claimID)
	if err != nil {
		return Identity{}, err
	}
	id.ExpiresAt = expires
	return id, nil
}

// claimID reads the identifier claim name of c, as identityOf asks for them.
func (c *claimSet) claimID(name string) (string, error) {
	switch name {
	case "_id":
		return rawClaimID(name, c.userID)
	case "sub":
		return rawClaimID(name, c.sub)
	case "restaurantId":
		return rawClaimID(name, c.restaurant)
	}
	return "", nil
}

// numericDate reads a JSON number of seconds since the epoch, truncated to whole seconds as
// the library's NumericDate is.
func numericDate(name string, raw []byte) (time.Time, error) {
	if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return time.Time{}, invalid("%s is invalid", name)
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(f, 0) || math.Abs(f) >= 1<<63 {
		return time.Time{}, invalid("%s is invalid", name)
	}
	return time.Unix(int64(math.Floor(f)), 0), nil
}

// rawClaimID is claimID for a raw JSON value.
func rawClaimID(name string, raw []byte) (string, error) {
	switch {
	case raw == nil || string(raw) == "null":
		return "", nil
	case raw[0] == '"':
		s, _ := parser.Unquote(raw)
		return s, nil
	case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
		if bytes.ContainsAny(raw, ".eE") {
			return "", invalid("claim %s is not an integer: %s", name, clip(string(raw)))
		}
		return string(raw), nil
	default:
		return "", invalid("claim %s is %s, not a string or an integer", name, clip(string(raw)))
	}
}

// clip shortens text quoted from a token in a refusal's reason, which goes to logs.
func clip(s string) string {
	if len(s) > 40 {
		return strings.ToValidUTF8(s[:40], "") + "..."
	}
	return s
}
