package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tomato-code/realtime/service/auth"
	"github.com/tomato-code/realtime/service/config"
)

func noEnv(string) (string, bool) { return "", false }

func envOf(m map[string]string) env {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func runCmd(t *testing.T, lookup env, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut, lookup)
	return code, out.String(), errOut.String()
}

func verify(t *testing.T, secret, tok string) auth.Identity {
	t.Helper()
	v, err := auth.NewVerifier(auth.Config{Secret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	id, err := v.Verify(strings.TrimSpace(tok))
	if err != nil {
		t.Fatalf("token %q: %v (%s)", tok, err, auth.Reason(err))
	}
	return id
}

func TestToken(t *testing.T) {
	code, out, errOut := runCmd(t, envOf(map[string]string{"JWT_SECRET": "env-secret"}), "token", "--restaurant-id", "r7", "--expires-in", "1h", "u42")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	id := verify(t, "env-secret", out)
	if id.UserID != "u42" || id.RestaurantID != "r7" || time.Until(id.ExpiresAt) > time.Hour || time.Until(id.ExpiresAt) < 59*time.Minute {
		t.Fatalf("identity %+v", id)
	}

	// The flag overrides the variable; --dev supplies the development secret.
	_, out, _ = runCmd(t, envOf(map[string]string{"JWT_SECRET": "env-secret"}), "token", "--jwt-secret", "flag-secret", "--expires-in", "0", "u1")
	if id := verify(t, "flag-secret", out); !id.ExpiresAt.IsZero() {
		t.Fatalf("--expires-in 0 must mint without exp: %+v", id)
	}
	_, out, _ = runCmd(t, noEnv, "token", "--dev", "u2")
	verify(t, config.DevJWTSecret, out)
}

func TestTokenErrors(t *testing.T) {
	if code, _, errOut := runCmd(t, noEnv, "token", "u1"); code != 2 || !strings.Contains(errOut, "JWT_SECRET") {
		t.Errorf("no secret: %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, envOf(map[string]string{"JWT_PUBLIC_KEY_FILE": "/k.pem"}), "token", "u1"); code != 2 || !strings.Contains(errOut, "--private-key-file") {
		t.Errorf("public key only: %d %q", code, errOut)
	}
	if code, _, _ := runCmd(t, noEnv, "token", "--dev"); code != 2 {
		t.Errorf("no user: %d", code)
	}
	if code, _, _ := runCmd(t, noEnv, "token", "-h"); code != 0 {
		t.Errorf("-h: %d", code)
	}
}

func TestTokenWithPrivateKey(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, noEnv, "token", "--private-key-file", path, "u9")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	v, _ := auth.NewVerifier(auth.Config{PublicKey: &key.PublicKey})
	if id, err := v.Verify(strings.TrimSpace(out)); err != nil || id.UserID != "u9" {
		t.Fatalf("ES256 token: %+v %v", id, err)
	}
}

type seen struct {
	method, path, query, key string
	body                     map[string]any
}

func apiServer(t *testing.T, status int) (*httptest.Server, *seen) {
	t.Helper()
	s := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.method, s.path, s.query, s.key = r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("x-internal-key")
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &s.body)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"success":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv, s
}

func TestEmit(t *testing.T) {
	srv, s := apiServer(t, 200)
	code, out, errOut := runCmd(t, envOf(map[string]string{"INTERNAL_SERVICE_KEY": "k1"}), "emit", "--url", srv.URL,
		"--room", "user:1", "--room", "user:2", "--except", "user:3", "--event", "order:update", "--payload", `{"id":7}`,
		"--namespace", "/orders", "--volatile", "--ack-timeout", "1500ms")
	if code != 0 || strings.TrimSpace(out) != `{"success":true}` {
		t.Fatalf("exit %d out %q err %q", code, out, errOut)
	}
	got, _ := json.Marshal(s.body)
	want := `{"ack":{"timeoutMs":1500},"event":"order:update","except":["user:3"],"namespace":"/orders","payload":{"id":7},"rooms":["user:1","user:2"],"volatile":true}`
	if s.method != "POST" || s.path != "/api/v1/internal/emit" || s.key != "k1" || string(got) != want {
		t.Fatalf("request %s %s key %q body %s", s.method, s.path, s.key, got)
	}

	// A payload that is not JSON goes as a string; --dev supplies the key.
	runCmd(t, noEnv, "emit", "--dev", "--url", srv.URL, "--room", "r", "--event", "e", "--payload", "hello")
	if s.body["payload"] != "hello" || s.key != config.DevInternalServiceKey {
		t.Fatalf("payload %v key %q", s.body["payload"], s.key)
	}

	runCmd(t, noEnv, "emit", "--dev", "--url", srv.URL, "--route", "rooms/join", "--body", `{"room":"user:1","join":"order:7"}`)
	if s.path != "/api/v1/internal/rooms/join" || s.body["join"] != "order:7" {
		t.Fatalf("raw body: %s %v", s.path, s.body)
	}
	runCmd(t, noEnv, "emit", "--dev", "--url", srv.URL, "--route", "sockets?room=user:1")
	if s.method != "GET" || s.path != "/api/v1/internal/sockets" || s.query != "room=user:1" {
		t.Fatalf("sockets: %s %s %s", s.method, s.path, s.query)
	}
}

func TestEmitErrors(t *testing.T) {
	srv, _ := apiServer(t, 400)
	if code, _, errOut := runCmd(t, noEnv, "emit", "--dev", "--url", srv.URL, "--room", "r", "--event", "e"); code != 1 || !strings.Contains(errOut, "400") {
		t.Errorf("400 answer: %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, noEnv, "emit", "--url", srv.URL, "--room", "r", "--event", "e"); code != 2 || !strings.Contains(errOut, "INTERNAL_SERVICE_KEY") {
		t.Errorf("no key: %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, noEnv, "emit", "--dev", "--url", srv.URL, "--event", "e"); code != 2 || !strings.Contains(errOut, "--room") {
		t.Errorf("no room: %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, noEnv, "emit", "--dev", "--url", srv.URL, "--room", "r"); code != 2 || !strings.Contains(errOut, "--event") {
		t.Errorf("no event: %d %q", code, errOut)
	}
	if code, _, _ := runCmd(t, noEnv, "emit", "--dev", "--url", "http://127.0.0.1:1", "--room", "r", "--event", "e"); code != 1 {
		t.Errorf("unreachable: %d", code)
	}
}

func TestDefaultAPIURL(t *testing.T) {
	for _, c := range []struct {
		cfg  config.Config
		want string
	}{
		{config.Config{Port: 3000}, "http://127.0.0.1:3000"},
		{config.Config{Host: "0.0.0.0", Port: 80}, "http://127.0.0.1:80"},
		{config.Config{Host: "10.1.2.3", Port: 3000}, "http://10.1.2.3:3000"},
		{config.Config{Port: 3000, InternalAddr: "127.0.0.2:3001"}, "http://127.0.0.2:3001"},
		{config.Config{Port: 3000, InternalAddr: ":3001"}, "http://127.0.0.1:3001"},
	} {
		if got := defaultAPIURL(&c.cfg); got != c.want {
			t.Errorf("%+v: %s, want %s", c.cfg, got, c.want)
		}
	}
}

func TestDispatch(t *testing.T) {
	if code, out, _ := runCmd(t, noEnv, "help"); code != 0 || !strings.Contains(out, "JWT_SECRET") || !strings.Contains(out, "--jwt-secret") {
		t.Errorf("help: %d %q", code, out)
	}
	if code, _, errOut := runCmd(t, noEnv, "bogus"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown: %d %q", code, errOut)
	}
}
