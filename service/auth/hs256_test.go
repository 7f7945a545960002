package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"testing"
)

// rawToken signs header and claims given as JSON text, so that tests can send what no encoder
// writes: duplicates, escapes, odd numbers, trailing bytes.
func rawToken(header, claims string, key []byte) string {
	unsigned := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(claims))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(unsigned))
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// strictCorner reports whether claims fall in one of the two corners where verifyHS256 refuses
// what golang-jwt accepts (see its doc comment).
func strictCorner(claims []byte) bool {
	if !json.Valid(claims) {
		return true // the library's json.Decoder reads the first value and ignores the rest
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(claims))
	dec.UseNumber()
	if dec.Decode(&m) != nil {
		return false
	}
	for _, name := range []string{"exp", "nbf"} {
		if n, ok := m[name].(json.Number); ok {
			f, err := strconv.ParseFloat(string(n), 64)
			if err != nil || math.Abs(f) >= 1<<63 {
				return true
			}
		}
	}
	return false
}

// sameAnswer fails t unless the HS256 path and golang-jwt agree on token.
func sameAnswer(t *testing.T, v *Verifier, token string, claims []byte) {
	t.Helper()
	got, gotErr := v.verifyBytes([]byte(token))
	want, wantErr := Identity{}, checkSize(len(token))
	if wantErr == nil {
		want, wantErr = v.verifyWithLibrary(token)
	}
	if gotErr != nil && wantErr == nil && claims != nil && strictCorner(claims) {
		return
	}
	if (gotErr == nil) != (wantErr == nil) || errors.Is(gotErr, ErrNoToken) != errors.Is(wantErr, ErrNoToken) {
		t.Fatalf("token %q (claims %q): HS256 path says %+v, %v; golang-jwt %+v, %v",
			token, claims, got, gotErr, want, wantErr)
	}
	if gotErr == nil && (got.UserID != want.UserID || got.RestaurantID != want.RestaurantID ||
		!got.ExpiresAt.Equal(want.ExpiresAt)) {
		t.Fatalf("token %q: HS256 path read %+v, golang-jwt %+v", token, got, want)
	}
	if gotErr != nil && gotErr.Error() != "Invalid token" && gotErr.Error() != "Authentication error" {
		t.Fatalf("error text %q", gotErr)
	}
}

const hsHeader = `{"alg":"HS256","typ":"JWT"}`

func TestHS256MatchesLibrary(t *testing.T) {
	t.Parallel()
	v := hsVerifier(t)
	exp := strconv.FormatInt(now.Unix()+60, 10)
	past := strconv.FormatInt(now.Unix()-60, 10)
	cases := []struct{ header, claims string }{
		{hsHeader, `{"_id":"u1","restaurantId":"r1","exp":` + exp + `}`},
		{hsHeader, `{"_id":"u1","exp":` + past + `}`},                                // expired beyond the leeway
		{hsHeader, `{"_id":"u1","exp":` + strconv.FormatInt(now.Unix()-5, 10) + `}`}, // within it
		{hsHeader, `{"_id":"u1","exp":` + exp + `.75}`},
		{hsHeader, `{"_id":"u1","exp":1.8e9}`},
		{hsHeader, `{"_id":"u1","exp":"` + exp + `"}`},
		{hsHeader, `{"_id":"u1","exp":null}`},
		{hsHeader, `{"_id":"u1","exp":0}`},
		{hsHeader, `{"_id":"u1","nbf":` + exp + `}`},
		{hsHeader, `{"_id":"u1","nbf":` + past + `}`},
		{hsHeader, `{"_id":"u1","nbf":true}`},
		{hsHeader, `{"sub":"s1"}`},
		{hsHeader, `{"_id":"","sub":"s1"}`},
		{hsHeader, `{"_id":null,"sub":42}`},
		{hsHeader, `{"_id":12345678901234567890}`},
		{hsHeader, `{"_id":1.5}`},
		{hsHeader, `{"_id":1e3}`},
		{hsHeader, `{"_id":-7}`},
		{hsHeader, `{"_id":{"a":1}}`},
		{hsHeader, `{"_id":["u"]}`},
		{hsHeader, `{"_id":"a","_id":"b","restaurantId":"r","restaurantId":null}`},
		{hsHeader, `{"\u005fid":"esc\u00e9\n","restaurantId":"r\"q"}`},
		{hsHeader, "{\"_id\":\"bad\xffutf8\"}"},
		{hsHeader, "{\"_id\xff\":\"u\"}"},
		{hsHeader, `{"restaurantId":"r1"}`},
		{hsHeader, `{"_id":"u","restaurantId":5}`},
		{hsHeader, `{"_id":"u","restaurantId":false}`},
		{hsHeader, `  {"_id" : "u"}  `},
		{hsHeader, `{}`},
		{hsHeader, `null`},
		{hsHeader, `[]`},
		{hsHeader, `"u"`},
		{hsHeader, `{"_id":"u"`},
		{hsHeader, `{"_id":"u"} x`},
		{hsHeader, `{"_id":"u","nbf":1e400}`},
		{hsHeader, `{"_id":"u","exp":1e19}`},
		{`{"alg":"HS512"}`, `{"_id":"u"}`},
		{`{"alg":"none"}`, `{"_id":"u"}`},
		{`{"alg":"hs256"}`, `{"_id":"u"}`},
		{`{"alg":"HS\u0032\u0035\u0036"}`, `{"_id":"u"}`},
		{`{"alg":"HS512","alg":"HS256"}`, `{"_id":"u"}`},
		{`{"alg":"HS256","alg":"RS256"}`, `{"_id":"u"}`},
		{`{"alg":256}`, `{"_id":"u"}`},
		{`{"typ":"JWT"}`, `{"_id":"u"}`},
		{`null`, `{"_id":"u"}`},
		{`{"alg":"HS256"} `, `{"_id":"u"}`},
		{`{"alg":"HS256"}x`, `{"_id":"u"}`},
		{`["alg"]`, `{"_id":"u"}`},
	}
	for _, c := range cases {
		sameAnswer(t, v, rawToken(c.header, c.claims, secret), []byte(c.claims))
		sameAnswer(t, v, rawToken(c.header, c.claims, []byte("another secret")), []byte(c.claims))
	}
	good := rawToken(hsHeader, `{"_id":"u1"}`, secret)
	for _, tok := range []string{
		"", ".", "..", "a.b", "a.b.c.d", good + ".", good + "=", good[:len(good)-1], good + "A",
		"." + good, good[:len(good)-44] + "." + good[len(good)-43:], "e30.e30.", "!!!.e30." + good[len(good)-43:],
	} {
		sameAnswer(t, v, tok, nil)
	}
	// Accepted as the library accepts them, not merely refused the same way.
	if id, err := v.verifyBytes([]byte(rawToken(hsHeader, `{"\u005fid":"esc\u00e9","_id":"last","exp":`+exp+`}`, secret))); err != nil ||
		id.UserID != "last" || id.ExpiresAt.Unix() != now.Unix()+60 {
		t.Errorf("duplicate and escaped keys: %+v, %v", id, err)
	}
}

func FuzzHS256MatchesLibrary(f *testing.F) {
	v, _ := NewVerifier(Config{Secret: secret, Now: clock})
	f.Add(hsHeader, `{"_id":"u1","exp":1800000060}`, true, "")
	f.Add(`{"alg":"HS256"}`, `{"sub":42,"nbf":1799999990.5}`, true, "")
	f.Add(hsHeader, `{"_id":"u"}`, false, "xyz")
	f.Add(`{"alg":"none"}`, `null`, false, "")
	f.Fuzz(func(t *testing.T, header, claims string, signed bool, sig string) {
		tok := rawToken(header, claims, secret)
		if !signed {
			tok = tok[:bytes.LastIndexByte([]byte(tok), '.')+1] + sig
		}
		sameAnswer(t, v, tok, []byte(claims))
	})
}
