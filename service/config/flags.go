package config

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// setting is one configurable value: its environment variable, help text and the function that
// parses a non-empty raw value into the Config.
type setting struct {
	env    string
	help   string
	isBool bool
	apply  func(c *Config, raw string) error
}

var settings = []setting{
	{env: "HOST", help: "interface to listen on (default all; 127.0.0.1 with --dev)", apply: func(c *Config, v string) error {
		c.Host = v
		return nil
	}},
	{env: "PORT", help: "listen port for Socket.IO, API, health and metrics; 0 picks one (default 3000)", apply: func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			return &InvalidError{Variable: "PORT", Value: v, Reason: "must be a port number, 0 to 65535"}
		}
		c.Port = n
		return nil
	}},
	{env: "JWT_SECRET", help: "HS256 secret of client tokens (required unless JWT_PUBLIC_KEY_FILE or --dev)", apply: func(c *Config, v string) error {
		c.JWTSecret = v
		return nil
	}},
	{env: "JWT_PUBLIC_KEY_FILE", help: "PEM public key (RSA or EC P-256): accept RS256/ES256 tokens instead of HS256", apply: func(c *Config, v string) error {
		c.JWTPublicKeyFile = v
		return nil
	}},
	{env: "INTERNAL_SERVICE_KEY", help: "key of the internal API, header x-internal-key (required unless --dev)", apply: func(c *Config, v string) error {
		c.InternalServiceKey = v
		return nil
	}},
	{env: "INTERNAL_ADDR", help: "serve the internal API on its own address, e.g. 127.0.0.1:3001 (default: the main port)", apply: func(c *Config, v string) error {
		if !strings.Contains(v, ":") {
			return &InvalidError{Variable: "INTERNAL_ADDR", Value: v, Reason: "must be host:port, e.g. 127.0.0.1:3001"}
		}
		c.InternalAddr = v
		return nil
	}},
	{env: "DEBUG_ADDR", help: "serve Go's pprof profiles at /debug/pprof/ on this address, e.g. 127.0.0.1:6060 (default off; never expose it publicly)", apply: func(c *Config, v string) error {
		if !strings.Contains(v, ":") {
			return &InvalidError{Variable: "DEBUG_ADDR", Value: v, Reason: "must be host:port, e.g. 127.0.0.1:6060"}
		}
		c.DebugAddr = v
		return nil
	}},
	{env: "FRONTEND_URL", help: "allowed CORS origins, comma-separated (default any origin, no credentials)", apply: func(c *Config, v string) error {
		c.FrontendURLs = splitList(v)
		for _, u := range c.FrontendURLs {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				return &InvalidError{Variable: "FRONTEND_URL", Value: u, Reason: "origins start with http:// or https://"}
			}
		}
		return nil
	}},
	{env: "REDIS_URL", help: "enable the Redis adapter, e.g. redis://127.0.0.1:6379 (default one node, in memory)", apply: func(c *Config, v string) error {
		if !strings.HasPrefix(v, "redis://") && !strings.HasPrefix(v, "rediss://") && !strings.HasPrefix(v, "unix://") {
			return &InvalidError{Variable: "REDIS_URL", Value: v, Reason: "must start with redis://, rediss:// or unix://"}
		}
		c.RedisURL = v
		return nil
	}},
	{env: "REDIS_KEY", help: "channel prefix of the Redis adapter (default socket.io, as @socket.io/redis-adapter)", apply: func(c *Config, v string) error {
		c.RedisKey = v
		return nil
	}},
	{env: "REDIS_SUBSCRIPTION", help: "how the Redis adapter subscribes to broadcasts: pattern (as Node.js, default) or rooms (only the rooms held here)", apply: func(c *Config, v string) error {
		switch v {
		case "pattern":
			c.RedisRoomChannels = false
		case "rooms":
			c.RedisRoomChannels = true
		default:
			return &InvalidError{Variable: "REDIS_SUBSCRIPTION", Value: v, Reason: "must be pattern or rooms"}
		}
		return nil
	}},
	{env: "PING_INTERVAL", help: "Engine.IO ping interval, milliseconds or a duration (default 25s)", apply: func(c *Config, v string) error {
		return parseMillis(&c.PingInterval, "PING_INTERVAL", v)
	}},
	{env: "PING_TIMEOUT", help: "Engine.IO ping timeout, milliseconds or a duration (default 20s)", apply: func(c *Config, v string) error {
		return parseMillis(&c.PingTimeout, "PING_TIMEOUT", v)
	}},
	{env: "READ_MODE", help: "how websocket connections are read: poller (epoll, no goroutine or buffer per idle connection; Linux) or goroutine (one read goroutine per connection) (default poller)", apply: func(c *Config, v string) error {
		if err := c.ReadMode.UnmarshalText([]byte(v)); err != nil {
			return &InvalidError{Variable: "READ_MODE", Value: v, Reason: "must be poller or goroutine"}
		}
		return nil
	}},
	{env: "NAMESPACES", help: "extra namespaces, comma-separated, e.g. /orders,/chat (same auth as /)", apply: func(c *Config, v string) error {
		c.Namespaces = nil
		for _, ns := range splitList(v) {
			if !strings.HasPrefix(ns, "/") || ns == "/" {
				return &InvalidError{Variable: "NAMESPACES", Value: ns, Reason: `namespaces start with "/" and "/" is always served`}
			}
			c.Namespaces = append(c.Namespaces, ns)
		}
		return nil
	}},
	{env: "SINGLE_SESSION", help: `"replace": a user's new connection disconnects the user's older ones (default off)`, apply: func(c *Config, v string) error {
		switch v {
		case SingleSessionReplace:
			c.SingleSession = v
		case "off":
			c.SingleSession = ""
		default:
			return &InvalidError{Variable: "SINGLE_SESSION", Value: v, Reason: `must be "replace" or "off"`}
		}
		return nil
	}},
	{env: "LOG_LEVEL", help: "debug, info, warn or error (default info)", apply: func(c *Config, v string) error {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return &InvalidError{Variable: "LOG_LEVEL", Value: v, Reason: "must be debug, info, warn or error"}
		}
		return nil
	}},
	{env: "LOG_FORMAT", help: "text or json (default text)", apply: func(c *Config, v string) error {
		if v != "text" && v != "json" {
			return &InvalidError{Variable: "LOG_FORMAT", Value: v, Reason: "must be text or json"}
		}
		c.LogFormat = v
		return nil
	}},
	{env: "API_MAX_BODY", help: "largest internal API request body in bytes (default 1048576)", apply: func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return &InvalidError{Variable: "API_MAX_BODY", Value: v, Reason: "must be a positive number of bytes"}
		}
		c.APIMaxBody = n
		return nil
	}},
	{env: "DRAIN_DURATION", help: "time spent closing clients in batches on SIGTERM (default 10s)", apply: func(c *Config, v string) error {
		return parseDuration(&c.DrainDuration, "DRAIN_DURATION", v)
	}},
	{env: "SHUTDOWN_TIMEOUT", help: "time in-flight API calls get to finish after the drain (default 15s)", apply: func(c *Config, v string) error {
		return parseDuration(&c.ShutdownTimeout, "SHUTDOWN_TIMEOUT", v)
	}},
	{env: "HANDSHAKE_HEADERS", help: `handshake request headers each connection keeps, comma-separated, or "*" for all (default none)`, apply: func(c *Config, v string) error {
		if strings.TrimSpace(v) == "*" {
			c.KeepHeaders = nil
			return nil
		}
		c.KeepHeaders = []string{}
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name == "" {
				continue
			}
			if strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) }) {
				return &InvalidError{Variable: "HANDSHAKE_HEADERS", Value: v, Reason: "must be header names separated by commas, or *"}
			}
			c.KeepHeaders = append(c.KeepHeaders, name)
		}
		return nil
	}},
	{env: "MEMORY_TRIM_INTERVAL", help: "how often to check whether a quiet process can give heap memory back to the system (default 1s; 0 turns it off)", apply: func(c *Config, v string) error {
		return parseDuration(&c.MemoryTrimInterval, "MEMORY_TRIM_INTERVAL", v)
	}},
	{env: "DEV_PAGE", isBool: true, help: "serve the test page at / outside dev mode too", apply: func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return &InvalidError{Variable: "DEV_PAGE", Value: v, Reason: "must be true or false"}
		}
		c.DevPage = b
		return nil
	}},
	{env: "CLIENT_SCRIPT", help: "socket.io-client browser bundle to serve at /socket.io/socket.io.js, e.g. node_modules/socket.io-client/dist/socket.io.min.js (default none: the test page uses the CDN)", apply: func(c *Config, v string) error {
		c.ClientScript = v
		return nil
	}},
}

func parseDuration(dst *time.Duration, env, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return &InvalidError{Variable: env, Value: v, Reason: "must be a duration such as 10s or 1m30s"}
	}
	*dst = d
	return nil
}

// parseMillis reads a whole number of milliseconds, as socket.io options are written, or a
// duration.
func parseMillis(dst *time.Duration, env, v string) error {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 && n < 1<<31 {
		*dst = time.Duration(n) * time.Millisecond
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Millisecond {
		return &InvalidError{Variable: env, Value: v, Reason: "must be a positive number of milliseconds or a duration such as 25s"}
	}
	*dst = d
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// flagName turns JWT_SECRET into jwt-secret.
func flagName(env string) string {
	return strings.ToLower(strings.ReplaceAll(env, "_", "-"))
}

// flagValue records whether and how a flag was given; the environment is consulted only for
// flags that were not.
type flagValue struct {
	raw    string
	set    bool
	isBool bool
}

func (f *flagValue) String() string   { return f.raw }
func (f *flagValue) IsBoolFlag() bool { return f.isBool }
func (f *flagValue) Set(v string) error {
	f.raw, f.set = v, true
	return nil
}

// Flags is the set of settings registered on a flag.FlagSet, resolved against the environment
// once the command line is parsed.
type Flags struct {
	values map[string]*flagValue
	dev    *bool
}

// Bind registers every setting of Config on fs, plus --dev. Call Resolve after fs.Parse.
func Bind(fs *flag.FlagSet) *Flags {
	f := &Flags{values: make(map[string]*flagValue, len(settings))}
	for _, s := range settings {
		v := &flagValue{isBool: s.isBool}
		f.values[s.env] = v
		fs.Var(v, flagName(s.env), s.help+" [$"+s.env+"]")
	}
	f.dev = fs.Bool("dev", false, "development mode: no configuration needed, fixed public secrets, loopback only")
	return f
}

// Resolve builds the Config from the parsed flags, falling back to lookupEnv (os.LookupEnv when
// nil) for flags not given, then to defaults. It checks every value it reads, but not that
// required settings are present: see Config.Validate.
func (f *Flags) Resolve(lookupEnv func(string) (string, bool)) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	c := &Config{
		Dev:                *f.dev,
		Port:               DefaultPort,
		LogLevel:           slog.LevelInfo,
		LogFormat:          "text",
		APIMaxBody:         DefaultAPIMaxBody,
		DrainDuration:      DefaultDrainDuration,
		ShutdownTimeout:    DefaultShutdownTimeout,
		MemoryTrimInterval: DefaultMemoryTrim,
		KeepHeaders:        []string{},
		RedisKey:           DefaultRedisKey,
		PingInterval:       DefaultPingInterval,
		PingTimeout:        DefaultPingTimeout,
	}
	given := make(map[string]bool)
	for _, s := range settings {
		v := f.values[s.env]
		raw, ok := v.raw, v.set
		if !ok {
			raw, ok = lookupEnv(s.env)
		}
		if !ok || raw == "" {
			continue
		}
		if err := s.apply(c, raw); err != nil {
			return nil, err
		}
		given[s.env] = true
	}
	if c.Dev {
		if !given["HOST"] {
			c.Host = DevHost
		}
		if !given["JWT_SECRET"] && !given["JWT_PUBLIC_KEY_FILE"] {
			c.JWTSecret = DevJWTSecret
		}
		if !given["INTERNAL_SERVICE_KEY"] {
			c.InternalServiceKey = DevInternalServiceKey
		}
	}
	return c, nil
}

// Usage writes the settings table (variable, flag, meaning) for a command's help text.
func Usage() string {
	var b strings.Builder
	for _, s := range settings {
		fmt.Fprintf(&b, "  %-22s --%-22s %s\n", s.env, flagName(s.env), s.help)
	}
	fmt.Fprintf(&b, "  %-22s --%-22s %s\n", "", "dev", "development mode: no configuration needed, fixed public secrets, loopback only")
	return b.String()
}
