// Package api is the internal HTTP API of the Realtime Service: backends emit events to rooms,
// make sockets join or leave rooms, disconnect them and list them.
//
// Every request carries the service key in the x-internal-key header. The key is checked, in
// constant time, before anything else (before the route and before the body is read), so a
// caller without it learns nothing, not even which routes exist. Bodies are JSON objects read
// whole, up to a size limit, and must be UTF-8. Members the API does not know are ignored, so
// that callers can send the same body to older and newer versions. Answers are JSON: 200 with
// {"success":true,...}, or 400/403/404/405/413/500/504 with {"message": ...}; a 400 names the
// member at fault.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Prefix is the path under which the API's routes live.
const Prefix = "/api/v1/internal/"

// Route paths.
const (
	RouteEmit       = Prefix + "emit"
	RouteEmitBatch  = Prefix + "emit/batch"
	RouteRoomsJoin  = Prefix + "rooms/join"
	RouteRoomsLeave = Prefix + "rooms/leave"
	RouteDisconnect = Prefix + "disconnect"
	RouteSockets    = Prefix + "sockets"
)

// KeyHeader carries the service key.
const KeyHeader = "x-internal-key"

// ReservedEvents are the event names Socket.IO keeps for itself; emitting one is a 400.
var ReservedEvents = map[string]bool{
	"connect":        true,
	"connect_error":  true,
	"disconnect":     true,
	"disconnecting":  true,
	"newListener":    true,
	"removeListener": true,
}

// Limits of a request.
const (
	DefaultMaxBody     = 1 << 20
	DefaultBodyTimeout = 30 * time.Second
	MaxAckTimeout      = 60 * time.Second
	MaxBatch           = 1000
	// opTimeout bounds the cluster-wide operations (join, leave, disconnect, sockets), which
	// may wait for other nodes.
	opTimeout = 10 * time.Second
)

// Config configures the API handler.
type Config struct {
	// Hub performs the operations. Required.
	Hub Hub
	// Key is the service key callers must send. Required; an empty key refuses everyone.
	Key string
	// Namespaces lists the namespaces a request may name; "/" is always allowed.
	Namespaces []string
	// MaxBody is the largest request body in bytes; larger ones get 413. Default 1 MiB.
	MaxBody int64
	// BodyTimeout bounds the time a request body may take to arrive; a slower one gets 400.
	// Default 30s.
	BodyTimeout time.Duration
	// Logger receives one line per request. Default slog.Default().
	Logger *slog.Logger
	// Observe, when set, is called after each request with the route (a Route* constant, or
	// "unknown"), the status and the time taken: the hook for metrics.
	Observe func(route string, status int, elapsed time.Duration)
	// ObserveEmits, when set, is called with the number of emits a request performed (one
	// for an emit, one per entry for a batch).
	ObserveEmits func(route string, n int)
}

// Handler serves the API. Mount it at Prefix.
type Handler struct {
	cfg        Config
	keyDigest  [sha256.Size]byte
	namespaces map[string]bool
	routes     map[string]route
	tooLarge   *httpError
	calls      sync.Pool      // of *callLog
	logPC      atomic.Uintptr // program counter of the "api call" line; 0 until the first
}

type route struct {
	method string
	serve  func(ctx context.Context, w http.ResponseWriter, r *http.Request, log *callLog) (any, error)
	// log is the logger's handler with the route's method and path given once: handlers
	// such as slog's text and JSON ones format such attributes once instead of per line.
	log slog.Handler
}

// callLog collects what a handler wants in the request's log line. The line is usually not
// written (an API call logs at info), so the handler records plain values and the attributes
// are built, the room list joined, only when the line is.
type callLog struct {
	event     string
	target    Target
	hasTarget bool
	err       string
	attrs     []slog.Attr
	// line is the storage of the log line's attributes, kept with the pooled callLog: the
	// line of every call would otherwise allocate its attribute list (about 600 bytes, a
	// seventh of what an emit allocates).
	line []slog.Attr
}

func (c *callLog) add(attrs ...slog.Attr) { c.attrs = append(c.attrs, attrs...) }

func (c *callLog) setTarget(t Target) { c.target, c.hasTarget = t, true }

// appendAttrs appends the recorded attributes in the order the line has always had them.
func (c *callLog) appendAttrs(attrs []slog.Attr) []slog.Attr {
	if c.event != "" {
		attrs = append(attrs, slog.String("event", c.event))
	}
	if c.hasTarget {
		attrs = append(attrs, slog.String("namespace", c.target.Namespace), slog.String("rooms", brief(c.target.Rooms)))
		if len(c.target.Except) > 0 {
			attrs = append(attrs, slog.String("except", brief(c.target.Except)))
		}
	}
	attrs = append(attrs, c.attrs...)
	if c.err != "" {
		attrs = append(attrs, slog.String("error", c.err))
	}
	return attrs
}

// reset empties c for the next request, keeping the attribute slice's storage.
func (c *callLog) reset() {
	clear(c.attrs)
	clear(c.line)
	*c = callLog{attrs: c.attrs[:0], line: c.line[:0]}
}

// New returns the API handler for cfg.
func New(cfg Config) *Handler {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Handler{cfg: cfg, keyDigest: sha256.Sum256([]byte(cfg.Key)), namespaces: map[string]bool{"/": true},
		tooLarge: &httpError{status: http.StatusRequestEntityTooLarge, message: "request body too large: the limit is " + strconv.FormatInt(cfg.MaxBody, 10) + " bytes"}}
	h.calls.New = func() any { return new(callLog) }
	for _, ns := range cfg.Namespaces {
		h.namespaces[ns] = true
	}
	h.routes = map[string]route{
		RouteEmit:       {http.MethodPost, h.serveEmit, nil},
		RouteEmitBatch:  {http.MethodPost, h.serveBatch, nil},
		RouteRoomsJoin:  {http.MethodPost, h.serveJoin, nil},
		RouteRoomsLeave: {http.MethodPost, h.serveLeave, nil},
		RouteDisconnect: {http.MethodPost, h.serveDisconnect, nil},
		RouteSockets:    {http.MethodGet, h.serveSockets, nil},
	}
	for path, rt := range h.routes {
		rt.log = cfg.Logger.Handler().WithAttrs([]slog.Attr{slog.String("method", rt.method), slog.String("path", path)})
		h.routes[path] = rt
	}
	return h
}

// keyMatches compares digests so that the comparison takes the same time whatever the length
// or content of the key sent.
func (h *Handler) keyMatches(given string) bool {
	d := sha256.Sum256([]byte(given))
	return h.cfg.Key != "" && subtle.ConstantTimeCompare(d[:], h.keyDigest[:]) == 1
}

// keyHeader is KeyHeader as net/http stores it, so that reading it needs no canonicalisation.
const keyHeader = "X-Internal-Key"

// ServeHTTP serves one API request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rt, known := h.routes[r.URL.Path]
	name := r.URL.Path
	if !known {
		name = "unknown"
	}
	log := h.calls.Get().(*callLog)
	status, body := h.serve(w, r, rt, known, log)
	// One reading of the clock for the answer's Date, the elapsed time and the log line's
	// time: on a virtual machine a reading can cost a tenth of a microsecond.
	now := time.Now()
	writeJSON(w, status, body, now)

	elapsed := now.Sub(start)
	if h.cfg.Observe != nil {
		h.cfg.Observe(name, status, elapsed)
	}
	// A call that worked is a debug line, as the events in and out are: at thousands of emits
	// a second an info line each would be most of the log (and a write per emit); the
	// metrics count them. A refused call points at a misconfigured caller and stays visible.
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelWarn
	}
	if ctx := r.Context(); h.cfg.Logger.Enabled(ctx, level) {
		// A request of a route's own method logs through the route's handler, which has
		// the method and path already; the line reads the same either way.
		handler, line := rt.log, log.line[:0]
		if !known || r.Method != rt.method {
			handler = h.cfg.Logger.Handler()
			line = append(line, slog.String("method", r.Method), slog.String("path", r.URL.Path))
		}
		log.line = log.appendAttrs(append(line,
			slog.Int("status", status),
			slog.Duration("elapsed", elapsed),
			slog.String("remote", r.RemoteAddr),
		))
		// The record is made here rather than by Logger.LogAttrs, which walks the stack for
		// the caller's program counter on every call: the line always comes from here, so
		// the counter is found once and kept (a handler with AddSource still gets it).
		pc := h.logPC.Load()
		if pc == 0 {
			pc = callerPC()
			h.logPC.Store(pc)
		}
		rec := slog.NewRecord(now, level, "api call", pc)
		rec.AddAttrs(log.line...)
		_ = handler.Handle(ctx, rec)
	}
	log.reset()
	h.calls.Put(log)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, rt route, known bool, log *callLog) (int, any) {
	if !h.keyMatches(headerValue(r.Header, keyHeader)) {
		skipBody(w)
		return http.StatusForbidden, message("Forbidden")
	}
	if !known {
		skipBody(w)
		return http.StatusNotFound, message("Not found")
	}
	if r.Method != rt.method {
		skipBody(w)
		w.Header().Set("Allow", rt.method)
		return http.StatusMethodNotAllowed, message("Method not allowed")
	}
	out, err := rt.serve(r.Context(), w, r, log)
	if err != nil {
		var he *httpError
		switch {
		case errors.As(err, &he):
			log.err = he.message
			return he.status, message(he.message)
		case errors.Is(err, context.DeadlineExceeded):
			log.err = err.Error()
			return http.StatusGatewayTimeout, message("timed out waiting for the cluster")
		default:
			log.err = err.Error()
			return http.StatusInternalServerError, message("internal error")
		}
	}
	return http.StatusOK, out
}

// callerPC returns the program counter of its caller's call, as Logger.LogAttrs records it.
//
//go:noinline
func callerPC() uintptr {
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:])
	return pcs[0]
}

// headerValue is Header.Get for a key already in canonical form.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// skipBody answers without reading the request body. net/http would otherwise read what is
// left of a small body before it sends the answer, waiting for a caller that may never send
// it; the expired deadline makes that read fail at once, and the connection is closed after
// the answer.
func skipBody(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	setReadDeadline(w, time.Now())
}

type messageBody struct {
	Message string `json:"message"`
}

func message(m string) messageBody { return messageBody{Message: m} }

type successBody struct {
	Success bool `json:"success"`
}

// rawJSON is an answer already encoded, newline included.
type rawJSON []byte

// successJSON is the answer of most requests, encoded once.
var successJSON = rawJSON(`{"success":true}` + "\n")

// The answers' header values. They are shared by every answer: net/http copies the header
// map when the status is written and never changes the values in place.
var (
	contentTypeJSON = []string{"application/json; charset=utf-8"}
	cacheNoStore    = []string{"no-store"}
)

// dateCache holds the Date header of the current second. net/http formats the date anew for
// every answer that has none; the API answers many times a second.
type dateCache struct{ cur atomic.Pointer[dateValue] }

type dateValue struct {
	unix int64
	v    []string
}

var dates dateCache

// at returns the header value of t's second.
func (c *dateCache) at(t time.Time) []string {
	if d := c.cur.Load(); d != nil && d.unix == t.Unix() {
		return d.v
	}
	d := &dateValue{unix: t.Unix(), v: []string{t.UTC().Format(http.TimeFormat)}}
	c.cur.Store(d)
	return d.v
}

// writeJSON writes the answer; now is the time of its Date header.
func writeJSON(w http.ResponseWriter, status int, body any, now time.Time) {
	var data []byte
	switch b := body.(type) {
	case successBody:
		if b.Success {
			data = successJSON
		}
	case rawJSON:
		data = b
	}
	if data == nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			status, data = http.StatusInternalServerError, []byte(`{"message":"internal error"}`)
		}
		data = append(data, '\n')
	}
	hdr := w.Header()
	hdr["Content-Type"] = contentTypeJSON
	hdr["Cache-Control"] = cacheNoStore
	hdr["Date"] = dates.at(now)
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// namespace reads the optional `namespace` member: "/" when absent, else a served namespace.
func (h *Handler) namespace(o *object) (string, error) {
	if !o.present(mNamespace) {
		return "/", nil
	}
	ns, err := o.str(mNamespace)
	if err != nil {
		return "", err
	}
	if !h.namespaces[ns] {
		return "", badRequest("%s %q is not served", o.name(mNamespace), ns)
	}
	return ns, nil
}

// target reads namespace, room/rooms and except.
func (h *Handler) target(o *object) (Target, error) {
	var t Target
	var err error
	if t.Namespace, err = h.namespace(o); err != nil {
		return t, err
	}
	if t.Rooms, err = o.rooms(); err != nil {
		return t, err
	}
	if o.present(mExcept) {
		if t.Except, err = o.names(mExcept); err != nil {
			return t, err
		}
	}
	return t, nil
}

// brief joins names for a log line, keeping it short when a request names many rooms.
func brief(names []string) string {
	const keep = 8
	if len(names) <= keep {
		return strings.Join(names, ",")
	}
	return strings.Join(names[:keep], ",") + ",... (" + strconv.Itoa(len(names)) + " in all)"
}
