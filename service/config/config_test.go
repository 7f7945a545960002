package config

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tomato-code/realtime/engineio"
)

func resolve(t *testing.T, args []string, env map[string]string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := Bind(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return f.Resolve(func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
}

func TestDefaults(t *testing.T) {
	c, err := resolve(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 3000 || c.Host != "" || c.LogLevel != slog.LevelInfo || c.LogFormat != "text" ||
		c.APIMaxBody != 1<<20 || c.DrainDuration != 10*time.Second || c.ShutdownTimeout != 15*time.Second ||
		c.Dev || c.DevPage || c.SingleSession != "" || c.Namespaces != nil || c.FrontendURLs != nil ||
		c.RedisKey != "socket.io" || c.ClientScript != "" || c.PingInterval != 25*time.Second || c.PingTimeout != 20*time.Second ||
		c.MemoryTrimInterval != time.Second || c.KeepHeaders == nil || len(c.KeepHeaders) != 0 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestEnvironmentAndFlags(t *testing.T) {
	env := map[string]string{
		"PORT":                 "4000",
		"JWT_SECRET":           "from-env",
		"INTERNAL_SERVICE_KEY": "key-env",
		"INTERNAL_ADDR":        "127.0.0.1:3001",
		"FRONTEND_URL":         "https://a.example, https://b.example,",
		"REDIS_URL":            "redis://127.0.0.1:6379",
		"NAMESPACES":           "/orders, /chat",
		"SINGLE_SESSION":       "replace",
		"LOG_LEVEL":            "debug",
		"LOG_FORMAT":           "json",
		"API_MAX_BODY":         "2048",
		"DRAIN_DURATION":       "3s",
		"SHUTDOWN_TIMEOUT":     "1m",
		"DEV_PAGE":             "true",
		"HOST":                 "0.0.0.0",
		"REDIS_KEY":            "prefix",
		"PING_INTERVAL":        "300",
		"PING_TIMEOUT":         "2s",
		"CLIENT_SCRIPT":        "/srv/socket.io.min.js",
		"READ_MODE":            "goroutine",
		"DEBUG_ADDR":           "127.0.0.1:6060",
		"MEMORY_TRIM_INTERVAL": "0",
		"HANDSHAKE_HEADERS":    " User-Agent, x-tenant ,",
	}
	c, err := resolve(t, []string{"--port", "5000", "--jwt-secret=from-flag", "--log-level", "warn"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 5000 || c.JWTSecret != "from-flag" || c.LogLevel != slog.LevelWarn {
		t.Errorf("flags must override the environment: port %d secret %q level %v", c.Port, c.JWTSecret, c.LogLevel)
	}
	if c.InternalServiceKey != "key-env" || c.InternalAddr != "127.0.0.1:3001" || c.RedisURL != "redis://127.0.0.1:6379" ||
		c.SingleSession != "replace" || c.LogFormat != "json" || c.APIMaxBody != 2048 || c.DrainDuration != 3*time.Second ||
		c.ShutdownTimeout != time.Minute || !c.DevPage || c.Host != "0.0.0.0" || c.RedisKey != "prefix" ||
		c.PingInterval != 300*time.Millisecond || c.PingTimeout != 2*time.Second ||
		c.ClientScript != "/srv/socket.io.min.js" || c.ReadMode != engineio.ReadGoroutine || c.DebugAddr != "127.0.0.1:6060" ||
		c.MemoryTrimInterval != 0 || strings.Join(c.KeepHeaders, "|") != "User-Agent|x-tenant" {
		t.Errorf("environment not applied: %+v", c)
	}
	if strings.Join(c.FrontendURLs, "|") != "https://a.example|https://b.example" {
		t.Errorf("FRONTEND_URL list: %q", c.FrontendURLs)
	}
	if strings.Join(c.Namespaces, "|") != "/orders|/chat" {
		t.Errorf("NAMESPACES list: %q", c.Namespaces)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("validate: %v", err)
	}
	if c.ListenAddr() != "0.0.0.0:5000" {
		t.Errorf("listen addr %q", c.ListenAddr())
	}
}

func TestHandshakeHeadersStar(t *testing.T) {
	c, err := resolve(t, nil, map[string]string{"HANDSHAKE_HEADERS": "*"})
	if err != nil || c.KeepHeaders != nil {
		t.Fatalf("HANDSHAKE_HEADERS=*: %v, %q; want nil (keep all)", err, c.KeepHeaders)
	}
}

func TestEmptyVariableIsUnset(t *testing.T) {
	c, err := resolve(t, nil, map[string]string{"PORT": "", "LOG_FORMAT": ""})
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 3000 || c.LogFormat != "text" {
		t.Fatalf("empty variables must keep defaults: %+v", c)
	}
}

func TestBoolFlagWithoutValue(t *testing.T) {
	c, err := resolve(t, []string{"--dev-page", "--dev"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.DevPage || !c.Dev {
		t.Fatalf("--dev-page and --dev must set booleans: %+v", c)
	}
}

func TestInvalidValuesNameTheVariable(t *testing.T) {
	for env, value := range map[string]string{
		"PORT":                 "http",
		"LOG_LEVEL":            "loud",
		"LOG_FORMAT":           "xml",
		"SINGLE_SESSION":       "yes",
		"NAMESPACES":           "orders",
		"FRONTEND_URL":         "example.com",
		"REDIS_URL":            "localhost:6379",
		"API_MAX_BODY":         "-1",
		"DRAIN_DURATION":       "ten",
		"SHUTDOWN_TIMEOUT":     "-1s",
		"INTERNAL_ADDR":        "3001",
		"DEV_PAGE":             "maybe",
		"PING_INTERVAL":        "0",
		"PING_TIMEOUT":         "soon",
		"READ_MODE":            "epoll",
		"DEBUG_ADDR":           "6060",
		"HANDSHAKE_HEADERS":    "user agent",
		"MEMORY_TRIM_INTERVAL": "often",
	} {
		_, err := resolve(t, nil, map[string]string{env: value})
		var inv *InvalidError
		if !errors.As(err, &inv) || inv.Variable != env || !strings.Contains(err.Error(), env) {
			t.Errorf("%s=%q: got %v, want an InvalidError naming it", env, value, err)
		}
	}
}

func TestMissingRequiredSettings(t *testing.T) {
	c, err := resolve(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	var miss *MissingError
	if !errors.As(err, &miss) || miss.Variable != "JWT_SECRET" || !strings.Contains(err.Error(), "JWT_SECRET") ||
		!strings.Contains(err.Error(), "--jwt-secret") {
		t.Fatalf("no secret: %v", err)
	}
	c, _ = resolve(t, nil, map[string]string{"JWT_PUBLIC_KEY_FILE": "/k.pem"})
	if err := c.Validate(); !errors.As(err, &miss) || miss.Variable != "INTERNAL_SERVICE_KEY" {
		t.Fatalf("no key: %v", err)
	}
}

func TestDevMode(t *testing.T) {
	c, err := resolve(t, []string{"--dev"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("dev mode must need no configuration: %v", err)
	}
	if c.JWTSecret != DevJWTSecret || c.InternalServiceKey != DevInternalServiceKey || c.Host != "127.0.0.1" {
		t.Fatalf("dev defaults: %+v", c)
	}
	if w := strings.Join(c.Warnings(), "\n"); !strings.Contains(w, "DEVELOPMENT MODE") {
		t.Fatalf("dev mode must warn, got %q", w)
	}

	// Explicit settings win over dev defaults, and a public key keeps the dev secret out.
	c, _ = resolve(t, []string{"--dev", "--host", "0.0.0.0"}, map[string]string{"INTERNAL_SERVICE_KEY": "mine", "JWT_PUBLIC_KEY_FILE": "/k.pem"})
	if c.Host != "0.0.0.0" || c.InternalServiceKey != "mine" || c.JWTSecret != "" {
		t.Fatalf("explicit settings in dev mode: %+v", c)
	}
}

func TestWarnings(t *testing.T) {
	c, _ := resolve(t, nil, map[string]string{"JWT_SECRET": "short", "INTERNAL_SERVICE_KEY": "k"})
	w := strings.Join(c.Warnings(), "\n")
	if !strings.Contains(w, "FRONTEND_URL") || !strings.Contains(w, "shorter than 32") {
		t.Fatalf("warnings: %q", w)
	}
	c, _ = resolve(t, nil, map[string]string{"JWT_SECRET": strings.Repeat("x", 40), "FRONTEND_URL": "https://a.example"})
	if len(c.Warnings()) != 0 {
		t.Fatalf("unexpected warnings: %q", c.Warnings())
	}
}

func TestUsageListsEverySetting(t *testing.T) {
	u := Usage()
	for _, s := range settings {
		if !strings.Contains(u, s.env) || !strings.Contains(u, "--"+flagName(s.env)) {
			t.Errorf("usage lacks %s", s.env)
		}
	}
}
