package token

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The minted tokens must verify with the standard Go JWT library, which is what our service
// uses, under an HS256-only policy.
func TestMintVerifies(t *testing.T) {
	secret := []byte("s3cret")
	m := NewMinter(secret)
	exp := ExpiresIn(time.Hour)
	for _, c := range []Claims{
		{UserID: "u0000001", Expires: exp},
		{UserID: "u0000002", RestaurantID: "r1", Expires: exp},
		{UserID: `we"ird\id`, Expires: exp},
	} {
		tok := m.Mint(c)
		claims := jwt.MapClaims{}
		parsed, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return secret, nil },
			jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
		if err != nil || !parsed.Valid {
			t.Fatalf("token for %+v does not verify: %v", c, err)
		}
		if claims["_id"] != c.UserID {
			t.Errorf("_id = %v, want %q", claims["_id"], c.UserID)
		}
		if rid, ok := claims["restaurantId"]; c.RestaurantID == "" && ok || c.RestaurantID != "" && rid != c.RestaurantID {
			t.Errorf("restaurantId = %v, want %q", rid, c.RestaurantID)
		}
		if claims["exp"] != float64(exp) {
			t.Errorf("exp = %v, want %d", claims["exp"], exp)
		}
	}
}

func TestMintWrongSecretFails(t *testing.T) {
	tok := NewMinter([]byte("one")).Mint(Claims{UserID: "u", Expires: ExpiresIn(time.Minute)})
	_, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return []byte("two"), nil })
	if err == nil {
		t.Fatal("token verified with the wrong secret")
	}
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("token %q is not three parts", tok)
	}
}

func TestExpiredTokenIsRejected(t *testing.T) {
	secret := []byte("s")
	tok := NewMinter(secret).Mint(Claims{UserID: "u", Expires: time.Now().Add(-time.Minute).Unix()})
	if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return secret, nil }); err == nil {
		t.Fatal("expired token accepted")
	}
}
