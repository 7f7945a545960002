// Package config reads the Realtime Service's settings from the environment and from flags.
//
// Every setting has an environment variable and a flag of the same name in kebab case (PORT is
// --port, JWT_SECRET is --jwt-secret); a flag given on the command line overrides the variable,
// and a variable set to the empty string counts as unset. Values are checked when they are read:
// an invalid or, for serve, a missing required setting is an error that names the variable.
package config

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/tomato-code/realtime/engineio"
)

// Development defaults used by --dev when the setting is not given. They are public on
// purpose: anyone may mint tokens with them, so dev mode must never face a network.
const (
	DevJWTSecret          = "realtime-dev-secret-not-for-production"
	DevInternalServiceKey = "realtime-dev-internal-key"
	DevHost               = "127.0.0.1"
)

// Config holds every setting of the service. The zero value is not useful; build one with
// Flags.Resolve, which applies the defaults written on each field.
type Config struct {
	// Dev is set by --dev: missing secrets take the Dev* constants, the listener binds to
	// loopback unless HOST is set, and the start-up output shows an example token and curl.
	Dev bool

	// Host is the interface to listen on (HOST). Default: all interfaces; 127.0.0.1 in dev mode.
	Host string
	// Port is the listen port for Socket.IO, the internal API, health and metrics (PORT).
	// Default 3000; 0 picks a free port, which the service logs.
	Port int

	// JWTSecret is the HS256 secret of client tokens (JWT_SECRET).
	JWTSecret string
	// JWTPublicKeyFile is a PEM public key (RSA or P-256) that makes the service accept RS256 or
	// ES256 tokens instead of HS256 ones (JWT_PUBLIC_KEY_FILE).
	JWTPublicKeyFile string

	// InternalServiceKey is the key of the internal API, header x-internal-key
	// (INTERNAL_SERVICE_KEY).
	InternalServiceKey string
	// InternalAddr, when set, serves the internal API on its own listener, e.g. 127.0.0.1:3001,
	// and no longer on Port (INTERNAL_ADDR).
	InternalAddr string
	// DebugAddr, when set, serves Go's pprof profiles at /debug/pprof/ on their own listener
	// (DEBUG_ADDR), for profiling a node under load. It has no authentication: bind it to
	// loopback or a private interface.
	DebugAddr string

	// FrontendURLs are the allowed CORS origins (FRONTEND_URL, comma-separated). Empty means
	// any origin without credentials.
	FrontendURLs []string

	// RedisURL enables the Redis adapter (REDIS_URL). Empty means one node, in memory.
	RedisURL string
	// RedisKey is the channel prefix of the Redis adapter (REDIS_KEY). Default "socket.io", the
	// prefix of @socket.io/redis-adapter, so that Node.js nodes can share the cluster.
	RedisKey string
	// RedisRoomChannels makes the Redis adapter subscribe to the channel of each locally held
	// room instead of one pattern for the namespace (REDIS_SUBSCRIPTION=rooms). Default off
	// (pattern): see package adapter/redis for the ordering it gives up. Sockets then join
	// their user and restaurant rooms in the handshake middleware, so that their CONNECT reply
	// waits for those rooms' subscriptions.
	RedisRoomChannels bool

	// PingInterval and PingTimeout are the Engine.IO heartbeat (PING_INTERVAL, PING_TIMEOUT, in
	// milliseconds or as durations such as 25s). Default 25s and 20s, as Socket.IO's.
	PingInterval, PingTimeout time.Duration

	// ReadMode is how websocket connections are read (READ_MODE): engineio.ReadPoller (epoll,
	// the default on Linux) or engineio.ReadGoroutine, the portable path, kept selectable so
	// that the two can be compared on one build.
	ReadMode engineio.ReadMode

	// Namespaces are the namespaces served besides "/" (NAMESPACES, e.g. "/orders,/chat"). They
	// share the authentication and room rules of "/".
	Namespaces []string

	// SingleSession is "replace" when a user's new connection disconnects the user's older
	// sockets of the same namespace, or "" (SINGLE_SESSION).
	SingleSession string

	// LogLevel is the slog level (LOG_LEVEL: debug, info, warn, error). Default info.
	LogLevel slog.Level
	// LogFormat is "text" or "json" (LOG_FORMAT). Default text.
	LogFormat string

	// APIMaxBody is the largest accepted internal API request body in bytes (API_MAX_BODY).
	// Default 1 MiB.
	APIMaxBody int64

	// DrainDuration is how long a SIGTERM drain spends closing connected clients, in paced
	// batches, so that they reconnect to other nodes gradually (DRAIN_DURATION). Default 10s.
	DrainDuration time.Duration
	// ShutdownTimeout bounds how long in-flight API calls may take to finish after the drain
	// (SHUTDOWN_TIMEOUT). Default 15s.
	ShutdownTimeout time.Duration

	// KeepHeaders names the handshake request headers each connection keeps for its life
	// (HANDSHAKE_HEADERS, comma-separated, "*" for all: nil here). Default none: the service
	// reads none of them after the handshake, and kept headers cost their bytes per
	// connection and may carry cookies. Keep them for Node.js nodes of a mixed cluster whose
	// fetchSockets() reads handshake.headers.
	KeepHeaders []string

	// MemoryTrimInterval is how often the heap is checked for memory to give back to the
	// system once the process is quiet, e.g. after a storm of connections (MEMORY_TRIM_INTERVAL,
	// see package memtrim). Default 1s: a check reads four runtime metrics, and a trim happens
	// only when the heap has grown reclaimable since the last one, so checking often costs
	// nothing and gives a storm's memory back within a second or two of its end (at 10s, 2 s
	// after 10,000 connections the process held 2.50-2.59 KiB per connection; at 1s,
	// 1.46-1.48). 0 turns it off.
	MemoryTrimInterval time.Duration

	// DevPage serves the test page at "/" outside dev mode too (DEV_PAGE). Dev mode always
	// serves it.
	DevPage bool

	// ClientScript is the path of a socket.io-client browser bundle, e.g.
	// node_modules/socket.io-client/dist/socket.io.min.js, that the service reads at start-up
	// and serves at /socket.io/socket.io.js, where the test page and frontends that follow the
	// Socket.IO convention look for it (CLIENT_SCRIPT). Empty: that address is a 404 and the test
	// page loads the client from the official CDN.
	ClientScript string
}

// Defaults of the settings that have one.
const (
	DefaultPort            = 3000
	DefaultAPIMaxBody      = 1 << 20
	DefaultDrainDuration   = 10 * time.Second
	DefaultShutdownTimeout = 15 * time.Second
	DefaultMemoryTrim      = time.Second
	DefaultRedisKey        = "socket.io"
	DefaultPingInterval    = 25 * time.Second
	DefaultPingTimeout     = 20 * time.Second
)

// SingleSessionReplace is the SINGLE_SESSION value that makes a new connection replace older ones.
const SingleSessionReplace = "replace"

// MissingError reports a required setting that is not given.
type MissingError struct {
	// Variable is the environment variable, e.g. "JWT_SECRET".
	Variable string
	// Hint says what else would do, e.g. "or JWT_PUBLIC_KEY_FILE".
	Hint string
}

func (e *MissingError) Error() string {
	msg := fmt.Sprintf("%s is required (flag --%s)", e.Variable, flagName(e.Variable))
	if e.Hint != "" {
		msg += ", " + e.Hint
	}
	return msg + "; or run with --dev for development"
}

// InvalidError reports a setting whose value cannot be used.
type InvalidError struct {
	Variable string
	Value    string
	Reason   string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("invalid %s %q: %s", e.Variable, e.Value, e.Reason)
}

// Validate reports the first required setting that is missing for serving: a token key
// (JWT_SECRET or JWT_PUBLIC_KEY_FILE) and INTERNAL_SERVICE_KEY. Dev mode has both.
func (c *Config) Validate() error {
	if c.JWTSecret == "" && c.JWTPublicKeyFile == "" {
		return &MissingError{Variable: "JWT_SECRET", Hint: "or JWT_PUBLIC_KEY_FILE for RS256/ES256 tokens"}
	}
	if c.InternalServiceKey == "" {
		return &MissingError{Variable: "INTERNAL_SERVICE_KEY"}
	}
	return nil
}

// ListenAddr is the host:port of the main listener.
func (c *Config) ListenAddr() string {
	return fmt.Sprintf("%s:%d", c.Host, c.Port)
}

// Warnings lists settings that work but that an operator should hear about at start-up.
func (c *Config) Warnings() []string {
	var w []string
	if c.Dev {
		w = append(w, "DEVELOPMENT MODE: secrets are public defaults; never expose this process to a network")
	}
	if len(c.FrontendURLs) == 0 {
		w = append(w, "FRONTEND_URL is not set: any origin may connect (CORS without credentials)")
	}
	if c.JWTSecret != "" && c.JWTPublicKeyFile != "" {
		w = append(w, "JWT_PUBLIC_KEY_FILE is set: client tokens are checked with it, JWT_SECRET is not used for them")
	}
	if c.JWTPublicKeyFile == "" && c.JWTSecret != "" && len(c.JWTSecret) < 32 && c.JWTSecret != DevJWTSecret {
		w = append(w, "JWT_SECRET is shorter than 32 bytes: HS256 secrets that short can be guessed offline")
	}
	return w
}
