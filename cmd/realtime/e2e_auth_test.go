package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/tomato-code/realtime/internal/testutil"
)

// TestE2EAuth runs every handshake case with the official client, over websocket and polling.
func TestE2EAuth(t *testing.T) {
	testutil.CheckGoroutines(t)
	p := startService(t)
	var out map[string]map[string]string
	p.runJS(t, `
const now = Math.floor(Date.now() / 1000);
const forge = (header, claims) => Buffer.from(JSON.stringify(header)).toString('base64url') + '.' +
  Buffer.from(JSON.stringify(claims)).toString('base64url') + '.';
const good = sign({ _id: 'u1' });
const parts = good.split('.');
const cases = {
  noAuth: undefined,
  emptyAuth: {},
  nullToken: { token: null },
  emptyToken: { token: '' },
  numberToken: { token: 42 },
  garbage: { token: 'garbage' },
  forged: { token: jwt.sign({ _id: 'u1' }, 'not-the-secret-not-the-secret-xx') },
  expired: { token: sign({ _id: 'u1', exp: now - 120 }) },
  notYetValid: { token: sign({ _id: 'u1', nbf: now + 120 }) },
  algNone: { token: forge({ alg: 'none', typ: 'JWT' }, { _id: 'u1' }) },
  hs512: { token: jwt.sign({ _id: 'u1' }, SECRET, { algorithm: 'HS512' }) },
  tampered: { token: parts[0] + '.' + Buffer.from(JSON.stringify({ _id: 'admin' })).toString('base64url') + '.' + parts[2] },
  noUserId: { token: sign({ restaurantId: 'r1' }) },
  withinSkew: { token: sign({ _id: 'u1', exp: now - 5 }) },
  sub: { token: sign({ sub: 'u2' }) },
  good: { token: good },
};
const out = {};
for (const transport of ['websocket', 'polling']) {
  out[transport] = {};
  for (const [name, auth] of Object.entries(cases)) {
    out[transport][name] = await refusal(auth, { transports: [transport] });
  }
}
return out;`, &out)
	want := map[string]string{
		"noAuth": "Authentication error", "emptyAuth": "Authentication error", "nullToken": "Authentication error",
		"emptyToken": "Authentication error", "numberToken": "Invalid token", "garbage": "Invalid token",
		"forged": "Invalid token", "expired": "Invalid token", "notYetValid": "Invalid token", "algNone": "Invalid token",
		"hs512": "Invalid token", "tampered": "Invalid token", "noUserId": "Invalid token",
		"withinSkew": "connected", "sub": "connected", "good": "connected",
	}
	for _, transport := range []string{"websocket", "polling"} {
		for name, w := range want {
			if got := out[transport][name]; got != w {
				t.Errorf("%s %s: %q, want %q", transport, name, got, w)
			}
		}
	}
	// The refusals are logged with the reason behind "Invalid token", and counted.
	p.waitLog(map[string]string{"msg": "connect refused", "error": "Invalid token"})
	if l := p.findLogs(map[string]string{"msg": "connect refused", "error": "Authentication error"}); len(l) != 8 {
		t.Errorf("%d refusals without token logged, want 8", len(l))
	}
	p.waitLogCount(map[string]string{"msg": "disconnect"}, 6)
	_, health := p.get(t, "/health")
	if health["activeConnections"] != 0.0 {
		t.Errorf("refused or closed sockets still counted: %v", health)
	}
}

// TestE2EPublicKeyAuth runs the service with JWT_PUBLIC_KEY_FILE for RS256 and for ES256.
func TestE2EPublicKeyAuth(t *testing.T) {
	testutil.CheckGoroutines(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	rsaPub, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	rsaPriv, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	ecPub, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	ecPriv, _ := x509.MarshalPKCS8PrivateKey(ecKey)

	for _, c := range []struct{ alg, other, pub, priv, otherPriv string }{
		{"RS256", "ES256", write("rsa.pub", "PUBLIC KEY", rsaPub), write("rsa.key", "PRIVATE KEY", rsaPriv), write("ec.key", "PRIVATE KEY", ecPriv)},
		{"ES256", "RS256", write("ec.pub", "PUBLIC KEY", ecPub), write("ec.key", "PRIVATE KEY", ecPriv), write("rsa.key", "PRIVATE KEY", rsaPriv)},
	} {
		t.Run(c.alg, func(t *testing.T) {
			p := startService(t, "JWT_SECRET=", "JWT_PUBLIC_KEY_FILE="+c.pub)
			var out map[string]string
			p.runJS(t, `
const fs = require('fs');
const pub = fs.readFileSync(process.env.PUB), priv = fs.readFileSync(process.env.PRIV), other = fs.readFileSync(process.env.OTHER_PRIV);
return {
  good: await refusal({ token: jwt.sign({ _id: 'u1' }, priv, { algorithm: process.env.ALG }) }),
  otherAlg: await refusal({ token: jwt.sign({ _id: 'u1' }, other, { algorithm: process.env.OTHER_ALG }) }),
  // Algorithm confusion: an HS256 token whose secret is the public key file.
  confusion: await refusal({ token: jwt.sign({ _id: 'u1' }, pub.toString(), { algorithm: 'HS256' }) }),
  hs256: await refusal({ token: sign({ _id: 'u1' }) }),
  expired: await refusal({ token: jwt.sign({ _id: 'u1', exp: Math.floor(Date.now() / 1000) - 120 }, priv, { algorithm: process.env.ALG }) }),
};`, &out, "PUB="+c.pub, "PRIV="+c.priv, "OTHER_PRIV="+c.otherPriv, "ALG="+c.alg, "OTHER_ALG="+c.other)
			want := map[string]string{"good": "connected", "otherAlg": "Invalid token", "confusion": "Invalid token", "hs256": "Invalid token", "expired": "Invalid token"}
			for k, w := range want {
				if out[k] != w {
					t.Errorf("%s: %q, want %q", k, out[k], w)
				}
			}
		})
	}
}
