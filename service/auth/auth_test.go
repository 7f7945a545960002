package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef")
	now    = time.Unix(1_800_000_000, 0)
)

func clock() time.Time { return now }

func hsVerifier(t *testing.T) *Verifier {
	t.Helper()
	v, err := NewVerifier(Config{Secret: secret, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// sign builds a token by hand so that tests can put anything in the header and claims.
func sign(t *testing.T, header, claims map[string]any, key []byte) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	unsigned := enc(header) + "." + enc(claims)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(unsigned))
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func hs256(t *testing.T, claims map[string]any) string {
	return sign(t, map[string]any{"alg": "HS256", "typ": "JWT"}, claims, secret)
}

func wantInvalid(t *testing.T, name string, id Identity, err error) {
	t.Helper()
	if !errors.Is(err, ErrInvalidToken) || err.Error() != "Invalid token" {
		t.Errorf("%s: got %+v, %v; want Invalid token", name, id, err)
	}
}

func TestVerifyHS256(t *testing.T) {
	v := hsVerifier(t)
	cases := []struct {
		name   string
		claims map[string]any
		want   Identity
	}{
		{"_id", map[string]any{"_id": "u1", "exp": now.Unix() + 60}, Identity{UserID: "u1", ExpiresAt: time.Unix(now.Unix()+60, 0)}},
		{"sub", map[string]any{"sub": "u2"}, Identity{UserID: "u2"}},
		{"_id wins over sub", map[string]any{"_id": "u3", "sub": "other"}, Identity{UserID: "u3"}},
		{"numeric id", map[string]any{"_id": json.Number("12345678901234567890")}, Identity{UserID: "12345678901234567890"}},
		{"restaurant", map[string]any{"_id": "u4", "restaurantId": "r9"}, Identity{UserID: "u4", RestaurantID: "r9"}},
		{"numeric restaurant", map[string]any{"_id": "u5", "restaurantId": 7}, Identity{UserID: "u5", RestaurantID: "7"}},
		{"expired within leeway", map[string]any{"_id": "u6", "exp": now.Unix() - 10}, Identity{UserID: "u6", ExpiresAt: time.Unix(now.Unix()-10, 0)}},
		{"nbf within leeway", map[string]any{"_id": "u7", "nbf": now.Unix() + 10}, Identity{UserID: "u7"}},
		{"empty _id falls back to sub", map[string]any{"_id": "", "sub": "u8"}, Identity{UserID: "u8"}},
	}
	for _, c := range cases {
		got, err := v.Verify(hs256(t, c.claims))
		if err != nil || got != c.want {
			t.Errorf("%s: got %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
	if v.Algorithm() != "HS256" {
		t.Errorf("algorithm %s", v.Algorithm())
	}
}

func TestVerifyRefusesHS256(t *testing.T) {
	v := hsVerifier(t)
	good := hs256(t, map[string]any{"_id": "u1"})
	parts := strings.Split(good, ".")
	tamperedClaims := base64.RawURLEncoding.EncodeToString([]byte(`{"_id":"admin"}`))
	cases := map[string]string{
		"expired":           hs256(t, map[string]any{"_id": "u", "exp": now.Unix() - 120}),
		"not yet valid":     hs256(t, map[string]any{"_id": "u", "nbf": now.Unix() + 120}),
		"no user id":        hs256(t, map[string]any{"restaurantId": "r1"}),
		"empty user id":     hs256(t, map[string]any{"_id": "", "sub": ""}),
		"object user id":    hs256(t, map[string]any{"_id": map[string]any{"x": 1}}),
		"float user id":     hs256(t, map[string]any{"_id": 1.5}),
		"array restaurant":  hs256(t, map[string]any{"_id": "u", "restaurantId": []string{"a"}}),
		"string exp":        hs256(t, map[string]any{"_id": "u", "exp": "tomorrow"}),
		"wrong secret":      sign(t, map[string]any{"alg": "HS256"}, map[string]any{"_id": "u"}, []byte("another secret of enough length!!")),
		"tampered claims":   parts[0] + "." + tamperedClaims + "." + parts[2],
		"tampered sig":      parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-2] + "AA",
		"alg none":          noneToken(map[string]any{"_id": "u"}),
		"alg none with sig": noneToken(map[string]any{"_id": "u"}) + parts[2],
		"HS512":             hs512(t, map[string]any{"_id": "u"}),
		"garbage":           "not-a-jwt",
		"two parts":         parts[0] + "." + parts[1],
		"bad base64":        "###.###.###",
		"huge":              strings.Repeat("a", MaxTokenBytes+1),
		"whitespace":        " " + good,
	}
	for name, tok := range cases {
		id, err := v.Verify(tok)
		wantInvalid(t, name, id, err)
	}
	if _, err := v.Verify(""); err != ErrNoToken || err.Error() != "Authentication error" {
		t.Errorf("empty token: %v", err)
	}
}

func noneToken(claims map[string]any) string {
	h, _ := json.Marshal(map[string]any{"alg": "none", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
}

func hs512(t *testing.T, claims map[string]any) string {
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims(claims)).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestReasonKeepsTheCause(t *testing.T) {
	v := hsVerifier(t)
	_, err := v.Verify(hs256(t, map[string]any{"_id": "u", "exp": now.Unix() - 3600}))
	if r := Reason(err); !strings.Contains(r, "expired") {
		t.Errorf("reason %q should say expired", r)
	}
	_, err = v.Verify(hs256(t, map[string]any{"x": 1}))
	if r := Reason(err); !strings.Contains(r, "no user id") {
		t.Errorf("reason %q should say no user id", r)
	}
	if Reason(ErrNoToken) != "Authentication error" {
		t.Errorf("reason of no token: %q", Reason(ErrNoToken))
	}
}

func TestVerifyAuth(t *testing.T) {
	v := hsVerifier(t)
	good := hs256(t, map[string]any{"_id": "u1"})
	for _, auth := range []string{"", "null", "{}", `{"token":null}`, `{"token":""}`, `[]`, `"x"`, `{"other":"x"}`} {
		if _, err := v.VerifyAuth(json.RawMessage(auth)); err != ErrNoToken {
			t.Errorf("auth %q: %v, want Authentication error", auth, err)
		}
	}
	for _, auth := range []string{`{"token":42}`, `{"token":{"a":1}}`, `{"token":"garbage"}`, `{"token":true}`} {
		id, err := v.VerifyAuth(json.RawMessage(auth))
		wantInvalid(t, auth, id, err)
	}
	id, err := v.VerifyAuth(json.RawMessage(`{"token":"` + good + `","extra":1}`))
	if err != nil || id.UserID != "u1" {
		t.Errorf("good auth: %+v %v", id, err)
	}
}

func pemOf(t *testing.T, typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestPublicKeyAlgorithms(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaPubDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	ecPubDER, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	rsaPEM := pemOf(t, "PUBLIC KEY", rsaPubDER)
	ecPEM := pemOf(t, "PUBLIC KEY", ecPubDER)

	rsaPub, err := ParsePublicKey(rsaPEM)
	if err != nil {
		t.Fatal(err)
	}
	ecPub, err := ParsePublicKey(ecPEM)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePublicKey(pemOf(t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey))); err != nil {
		t.Errorf("PKCS #1 public key: %v", err)
	}
	rsaV, err := NewVerifier(Config{PublicKey: rsaPub, Now: clock})
	if err != nil || rsaV.Algorithm() != "RS256" {
		t.Fatalf("rsa verifier: %v %v", rsaV, err)
	}
	ecV, err := NewVerifier(Config{PublicKey: ecPub, Now: clock})
	if err != nil || ecV.Algorithm() != "ES256" {
		t.Fatalf("ec verifier: %v %v", ecV, err)
	}

	opts := MintOptions{UserID: "u1", RestaurantID: "r1", TTL: time.Hour, Now: now}
	rsTok, err := MintWithKey(rsaKey, opts)
	if err != nil {
		t.Fatal(err)
	}
	esTok, err := MintWithKey(ecKey, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := Identity{UserID: "u1", RestaurantID: "r1", ExpiresAt: now.Add(time.Hour)}
	if id, err := rsaV.Verify(rsTok); err != nil || id != want {
		t.Errorf("RS256: %+v %v", id, err)
	}
	if id, err := ecV.Verify(esTok); err != nil || id != want {
		t.Errorf("ES256: %+v %v", id, err)
	}

	// Only the configured algorithm: each verifier refuses the other's tokens, HS256 tokens,
	// and HS256 tokens whose secret is the public key PEM (algorithm confusion).
	confusedRSA := sign(t, map[string]any{"alg": "HS256", "typ": "JWT"}, map[string]any{"_id": "admin"}, rsaPEM)
	confusedEC := sign(t, map[string]any{"alg": "HS256", "typ": "JWT"}, map[string]any{"_id": "admin"}, ecPEM)
	for name, c := range map[string]struct {
		v   *Verifier
		tok string
	}{
		"ES256 on RSA":          {rsaV, esTok},
		"RS256 on EC":           {ecV, rsTok},
		"HS256 on RSA":          {rsaV, hs256(t, map[string]any{"_id": "u"})},
		"confusion RSA":         {rsaV, confusedRSA},
		"confusion EC":          {ecV, confusedEC},
		"none on RSA":           {rsaV, noneToken(map[string]any{"_id": "u"})},
		"RS256 on HS256":        {hsVerifier(t), rsTok},
		"RS256 with other key":  {rsaV, mustMintRSA(t, opts)},
		"expired RS256":         {rsaV, mustMint(t, rsaKey, MintOptions{UserID: "u", TTL: time.Minute, Now: now.Add(-time.Hour)})},
		"tampered ES256 claims": {ecV, tamper(esTok)},
	} {
		id, err := c.v.Verify(c.tok)
		wantInvalid(t, name, id, err)
	}
}

func mustMint(t *testing.T, key *rsa.PrivateKey, opts MintOptions) string {
	tok, err := MintWithKey(key, opts)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func mustMintRSA(t *testing.T, opts MintOptions) string {
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return mustMint(t, other, opts)
}

func tamper(tok string) string {
	p := strings.Split(tok, ".")
	p[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"_id":"admin"}`))
	return strings.Join(p, ".")
}

func TestParseKeysRefusesTheWrongThings(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallDER, _ := x509.MarshalPKIXPublicKey(&small.PublicKey)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	privDER, _ := x509.MarshalECPrivateKey(priv)
	for name, data := range map[string][]byte{
		"not pem":     []byte("hello"),
		"small rsa":   pemOf(t, "PUBLIC KEY", smallDER),
		"p384":        pemOf(t, "PUBLIC KEY", p384DER),
		"private key": pemOf(t, "EC PRIVATE KEY", privDER),
		"junk der":    pemOf(t, "PUBLIC KEY", []byte{1, 2, 3}),
	} {
		if _, err := ParsePublicKey(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	signer, err := ParsePrivateKey(pemOf(t, "EC PRIVATE KEY", privDER))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := MintWithKey(signer, MintOptions{UserID: "u"}); err != nil {
		t.Errorf("mint with parsed key: %v", err)
	}
	if _, err := ParsePrivateKey(pemOf(t, "PUBLIC KEY", p384DER)); err == nil {
		t.Error("a public key parsed as private")
	}
}

func TestMintHS256(t *testing.T) {
	v := hsVerifier(t)
	tok, err := MintHS256(secret, MintOptions{UserID: "42", RestaurantID: "7", TTL: time.Minute, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	id, err := v.Verify(tok)
	if err != nil || id.UserID != "42" || id.RestaurantID != "7" || !id.ExpiresAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("minted token: %+v %v", id, err)
	}
	if _, err := MintHS256(secret, MintOptions{}); err == nil {
		t.Error("minted a token without a user id")
	}
	if _, err := MintHS256(nil, MintOptions{UserID: "u"}); err == nil {
		t.Error("minted a token without a secret")
	}
}

func TestNewVerifierNeedsExactlyOneKey(t *testing.T) {
	if _, err := NewVerifier(Config{}); err == nil {
		t.Error("no key accepted")
	}
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := NewVerifier(Config{Secret: secret, PublicKey: &k.PublicKey}); err == nil {
		t.Error("two keys accepted")
	}
}

func FuzzVerify(f *testing.F) {
	v, _ := NewVerifier(Config{Secret: secret, Now: clock})
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJfaWQiOiJ1In0.x")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		sameAnswer(t, v, tok, nil)
		id, err := v.Verify(tok)
		if err == nil && id.UserID == "" {
			t.Fatal("accepted a token without a user id")
		}
		if err != nil && err.Error() != "Invalid token" && err.Error() != "Authentication error" {
			t.Fatalf("error text %q", err)
		}
	})
}
