// Package service is the Realtime Service: a Socket.IO server whose clients authenticate with a
// JWT, join their rooms by rule (user:{id}, restaurant:{restaurantId}), and receive the events
// that backends emit through the internal HTTP API; with health and readiness probes,
// Prometheus metrics, structured logs and a paced drain on shutdown.
//
// cmd/realtime builds a config.Config and calls New and Run. The pieces live in their own
// packages: config (settings), auth (tokens), api (the internal API), metrics, devpage.
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/tomato-code/realtime/engineio"
	"github.com/tomato-code/realtime/service/api"
	"github.com/tomato-code/realtime/service/auth"
	"github.com/tomato-code/realtime/service/config"
	"github.com/tomato-code/realtime/service/devpage"
	"github.com/tomato-code/realtime/service/lane"
	"github.com/tomato-code/realtime/service/memtrim"
	"github.com/tomato-code/realtime/service/metrics"
	"github.com/tomato-code/realtime/socketio"
)

// Options are what the caller adds to the configuration.
type Options struct {
	// Adapter, when set, makes each namespace's adapter instead of the in-memory one: the
	// Redis adapter when REDIS_URL is set.
	Adapter socketio.AdapterFactory
	// AdapterState reports the adapter's health to /health and /ready. Default: the in-memory
	// adapter, always ready.
	AdapterState AdapterState
	// Stdout receives the "listening on PORT" line (and "internal API listening on ADDR")
	// that scripts and tests wait for. Default os.Stdout.
	Stdout io.Writer
	// AdapterStats, when set, feeds the adapter metrics (messages published and received).
	AdapterStats func() metrics.AdapterStats
	// Metrics, when set, is used instead of a fresh set (tests).
	Metrics *metrics.Metrics
}

// Service is one node of the Realtime Service.
type Service struct {
	cfg        *config.Config
	opts       Options
	log        *slog.Logger
	metrics    *metrics.Metrics
	verifier   *auth.Verifier
	io         *socketio.Server
	api        *api.Handler
	probes     *probes
	namespaces []string
	draining   atomic.Bool
	// clientScript is CLIENT_SCRIPT's bundle, read at start-up; nil when unset.
	clientScript *devpage.ClientScript
	// apiLane serves the API's keep-alive connections; set by Run before it calls ready.
	apiLane *lane.Lane
}

// New builds the service for cfg, which must have passed cfg.Validate.
func New(cfg *config.Config, log *slog.Logger, opts Options) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.RedisURL != "" && opts.Adapter == nil {
		return nil, errors.New("REDIS_URL is set but no Redis adapter was given to the service")
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.AdapterState == nil {
		opts.AdapterState = memoryAdapter{}
	}
	s := &Service{cfg: cfg, opts: opts, log: log, metrics: opts.Metrics}
	if s.metrics == nil {
		s.metrics = metrics.New()
	}
	if opts.AdapterStats != nil {
		s.metrics.ObserveAdapter(opts.AdapterStats)
	}
	var err error
	if s.verifier, err = newVerifier(cfg); err != nil {
		return nil, err
	}
	s.namespaces = append([]string{"/"}, cfg.Namespaces...)
	if cfg.ClientScript != "" {
		if s.clientScript, err = devpage.LoadClientScript(cfg.ClientScript); err != nil {
			return nil, fmt.Errorf("CLIENT_SCRIPT: %w", err)
		}
	}

	factory := opts.Adapter
	if factory == nil {
		factory = func(ns socketio.LocalNamespace) socketio.Adapter { return socketio.NewMemoryAdapter(ns) }
	}
	s.io = socketio.NewServer(socketio.Config{
		Engine: engineio.Config{
			PingInterval: cfg.PingInterval,
			PingTimeout:  cfg.PingTimeout,
			ReadMode:     cfg.ReadMode,
			KeepHeaders:  cfg.KeepHeaders,
			Logger:       log,
			CORS:         corsFor(cfg),
			AllowRequest: s.allowRequest,
		},
		Adapter:     s.instrument(factory),
		OnBroadcast: s.delivered,
		// The token is read by the middleware only: not keeping it saves the CONNECT
		// message per connection, and a bearer token in memory for the connection's life.
		DiscardAuth: true,
	})
	for _, name := range s.namespaces {
		s.setupNamespace(s.io.Of(name))
	}

	s.api = api.New(api.Config{
		Hub:          &hub{io: s.io, log: log, metrics: s.metrics},
		Key:          cfg.InternalServiceKey,
		Namespaces:   cfg.Namespaces,
		MaxBody:      cfg.APIMaxBody,
		Logger:       log,
		Observe:      s.metrics.APIRequest,
		ObserveEmits: s.metrics.APIEmits,
	})
	s.probes = &probes{
		started:     time.Now(),
		draining:    &s.draining,
		connections: func() int { return s.io.Of("/").SocketCount() },
		adapter:     opts.AdapterState,
	}
	return s, nil
}

func newVerifier(cfg *config.Config) (*auth.Verifier, error) {
	if cfg.JWTPublicKeyFile != "" {
		data, err := os.ReadFile(cfg.JWTPublicKeyFile)
		if err != nil {
			return nil, fmt.Errorf("JWT_PUBLIC_KEY_FILE: %w", err)
		}
		key, err := auth.ParsePublicKey(data)
		if err != nil {
			return nil, fmt.Errorf("JWT_PUBLIC_KEY_FILE %s: %w", cfg.JWTPublicKeyFile, err)
		}
		return auth.NewVerifier(auth.Config{PublicKey: key})
	}
	return auth.NewVerifier(auth.Config{Secret: []byte(cfg.JWTSecret)})
}

// corsFor maps FRONTEND_URL to the Engine.IO CORS settings: the listed origins with
// credentials, or any origin without credentials when unset (what the `cors` package does).
func corsFor(cfg *config.Config) *engineio.CORS {
	if len(cfg.FrontendURLs) == 0 {
		return &engineio.CORS{Origins: []string{"*"}}
	}
	return &engineio.CORS{Origins: cfg.FrontendURLs, Credentials: true}
}

// sessionCloseTimeout bounds the wait for Engine.IO sessions to close at the end of a drain.
const sessionCloseTimeout = 3 * time.Second

// errDraining refuses new Engine.IO sessions while the node drains; the client retries, and
// the load balancer, seeing /ready fail, sends it to another node.
var errDraining = errors.New("server is shutting down, reconnect to another node")

func (s *Service) allowRequest(*http.Request) error {
	if s.draining.Load() {
		return errDraining
	}
	return nil
}

// Handler returns the handler of the main listener: Socket.IO, probes, metrics, the internal
// API (unless INTERNAL_ADDR moves it), the test page (dev mode or DEV_PAGE) and the
// socket.io-client bundle of CLIENT_SCRIPT. It serves the API through net/http alone: the
// lane that Run gives the API's keep-alive connections hijacks them, and only Run's drain
// waits for hijacked connections; an embedder's server would not.
func (s *Service) Handler() http.Handler { return s.mainRouter() }

func (s *Service) mainRouter() *router {
	mux := http.NewServeMux()
	mux.Handle(socketIOPath, s.io)
	// The exact path wins over the Socket.IO prefix; the Engine.IO handler never sees it.
	if s.clientScript != nil {
		mux.Handle(devpage.ClientScriptPath, s.clientScript)
		if p := s.clientScript.SourceMapPath(); p != "" {
			mux.Handle(p, s.clientScript.SourceMap())
		}
	} else {
		mux.HandleFunc(devpage.ClientScriptPath, devpage.NoClientScript)
	}
	s.handleProbes(mux)
	if s.cfg.InternalAddr == "" {
		mux.Handle(api.Prefix, s.api)
	}
	if s.cfg.Dev || s.cfg.DevPage {
		mux.Handle("/", s.devPage())
	} else {
		mux.HandleFunc("/", notFound)
	}
	rt := &router{mux: mux, io: s.io}
	if s.cfg.InternalAddr == "" {
		rt.api = s.api
	}
	return rt
}

// InternalHandler returns the handler of the INTERNAL_ADDR listener: the API, probes, metrics.
// Like Handler, it serves the API without the lane.
func (s *Service) InternalHandler() http.Handler { return s.internalRouter() }

func (s *Service) internalRouter() *router {
	mux := http.NewServeMux()
	mux.Handle(api.Prefix, s.api)
	s.handleProbes(mux)
	mux.HandleFunc("/", notFound)
	return &router{mux: mux, api: s.api}
}

// router hands the requests of the frequent exact paths (the API's routes, Engine.IO's path)
// straight to their handler and the others to mux. Going through an http.ServeMux cost an
// API emit a few percent of its CPU and three allocations (path cleaning, pattern matching,
// recording the pattern). The paths taken early are clean, and the mux would send them to the
// same handler, so routing, the redirects of unclean paths and the 404s stay the mux's.
type router struct {
	mux *http.ServeMux
	api http.Handler // nil when this listener does not serve the API
	io  http.Handler // nil when this listener does not serve Socket.IO
	// lane, set by Run on the API's listener, takes an API request's connection over and
	// serves the connection's following requests without net/http's per-request work.
	lane *lane.Lane
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case api.RouteEmit, api.RouteEmitBatch, api.RouteRoomsJoin, api.RouteRoomsLeave, api.RouteDisconnect, api.RouteSockets:
		if rt.api != nil {
			if rt.lane != nil && rt.lane.TakeOver(w, r) {
				return
			}
			rt.api.ServeHTTP(w, r)
			return
		}
	case socketIOPath:
		if rt.io != nil {
			rt.io.ServeHTTP(w, r)
			return
		}
	}
	rt.mux.ServeHTTP(w, r)
}

// apiRoute reports the requests the lane serves: the API's routes, by the methods they
// answer (anything else, a 405 included, stays net/http's).
func apiRoute(method, path string) bool {
	switch path {
	case api.RouteEmit, api.RouteEmitBatch, api.RouteRoomsJoin, api.RouteRoomsLeave, api.RouteDisconnect:
		return method == http.MethodPost
	case api.RouteSockets:
		return method == http.MethodGet
	}
	return false
}

// socketIOPath is the path of every Engine.IO request, the prefix the mux gives Socket.IO.
const socketIOPath = "/socket.io/"

func (s *Service) handleProbes(mux *http.ServeMux) {
	mux.HandleFunc("/health", s.probes.health)
	mux.HandleFunc("/ready", s.probes.ready)
	mux.Handle("/metrics", s.metrics.Handler())
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	writeProbe(w, http.StatusNotFound, map[string]string{"message": "Not found"})
}

// DevUserID is the user of dev mode's example token.
const DevUserID = "dev-user"

func (s *Service) devPage() http.Handler {
	cfg := devpage.Config{Dev: s.cfg.Dev, Namespaces: s.namespaces, APIOnThisOrigin: s.cfg.InternalAddr == "",
		UserRoom: "user:" + DevUserID, ClientURLs: []string{devpage.CDNClientURL}}
	if s.clientScript != nil {
		cfg.ClientURLs = []string{devpage.ClientScriptPath, devpage.CDNClientURL}
	}
	if s.cfg.Dev {
		cfg.Key = s.cfg.InternalServiceKey
		if tok, err := s.DevToken(); err == nil {
			cfg.Token = tok
		}
	}
	return devpage.Handler(cfg)
}

// DevToken mints dev mode's example token: user DevUserID, valid 24 hours. It needs JWT_SECRET.
func (s *Service) DevToken() (string, error) {
	return auth.MintHS256([]byte(s.cfg.JWTSecret), auth.MintOptions{UserID: DevUserID, TTL: 24 * time.Hour})
}

// Addrs are the addresses the service listens on, known once Run started listening.
type Addrs struct {
	Main     net.Addr
	Internal net.Addr // nil without INTERNAL_ADDR
	Debug    net.Addr // nil without DEBUG_ADDR
}

// listen opens a listener of the main or internal API address. Its connections get no TCP
// keep-alive: Go turns it on for every accepted connection by default, four setsockopt calls
// (6.5% of a handshake's CPU in a profile of 10,000 handshakes), and here it would find
// nothing the service does not already find sooner: a websocket or a polling session whose
// client vanished misses its pongs (PING_INTERVAL + PING_TIMEOUT), and every other state of
// a connection has a deadline (headers, bodies, requestReadTimeout, idle keep-alive). Node.js
// does not turn it on for server connections either.
func listen(addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1}
	return lc.Listen(context.Background(), "tcp", addr)
}

// readHeaderTimeout bounds the arrival of a request's head on the main, internal and debug
// listeners, and on the lane's connections.
const readHeaderTimeout = 10 * time.Second

// idleTimeout closes keep-alive connections (net/http's and the lane's) that send nothing
// between requests for this long.
const idleTimeout = 2 * time.Minute

// requestReadTimeout bounds the reading of a request, its body included, on the main and
// internal listeners: a client that stops sending a body would otherwise hold a connection
// and a goroutine for as long as it keeps the connection open (a slowloris attack), where a
// handler does not read the body (a 404, a probe) and net/http reads what is left of it to
// keep the connection. The handlers that read bodies bound them more tightly themselves (the
// API's BodyTimeout, a polling POST's heartbeat); net/http lifts the deadline once a body has
// been read to its end, so long polls and acknowledgement waits are not cut short, and a
// websocket is past it once upgraded. Node.js's HTTP server bounds a request at 300 s.
// A variable so that tests can shorten it.
var requestReadTimeout = time.Minute

// Run listens and serves until ctx ends, then drains (see drain) and returns nil once
// everything is closed. ready, when not nil, is called once the listeners are open.
func (s *Service) Run(ctx context.Context, ready func(Addrs)) error {
	// Every listener is opened before any server starts: a failure then has only listeners
	// to close, and no server to start and stop again.
	mainLn, err := listen(s.cfg.ListenAddr())
	if err != nil {
		return s.notStarted(fmt.Errorf("listen on %s (HOST/PORT): %w", s.cfg.ListenAddr(), err))
	}
	var internalLn, debugLn net.Listener
	if s.cfg.InternalAddr != "" {
		if internalLn, err = listen(s.cfg.InternalAddr); err != nil {
			return s.notStarted(fmt.Errorf("listen on %s (INTERNAL_ADDR): %w", s.cfg.InternalAddr, err), mainLn)
		}
	}
	if s.cfg.DebugAddr != "" {
		if debugLn, err = net.Listen("tcp", s.cfg.DebugAddr); err != nil {
			return s.notStarted(fmt.Errorf("listen on %s (DEBUG_ADDR): %w", s.cfg.DebugAddr, err), mainLn, internalLn)
		}
	}

	errorLog := slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)
	server := func(h http.Handler) *http.Server {
		return &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: requestReadTimeout, IdleTimeout: idleTimeout, ErrorLog: errorLog}
	}
	// The lane serves the keep-alive connections of the API's listener; what it hands back
	// goes to a server of its own with that listener's handler and settings.
	mainRouter := s.mainRouter()
	apiRouter, apiLn := mainRouter, mainLn
	if internalLn != nil {
		apiRouter, apiLn = s.internalRouter(), internalLn
	}
	fallbackLn := lane.NewListener(apiLn.Addr())
	apiLane := lane.New(lane.Config{
		Handler:     s.api,
		Serves:      apiRoute,
		Headers:     []string{http.CanonicalHeaderKey(api.KeyHeader)},
		MaxBody:     s.cfg.APIMaxBody,
		IdleTimeout: idleTimeout,
		// The servers' bound on a head; the API sets its own on a body (BodyTimeout).
		RequestTimeout: readHeaderTimeout,
		Fallback:       fallbackLn,
		Logger:         s.log,
	})
	apiRouter.lane, s.apiLane = apiLane, apiLane
	s.metrics.ObserveAPILane(func() metrics.APILaneStats {
		st := apiLane.Stats()
		return metrics.APILaneStats{Takeovers: st.Takeovers, Requests: st.Requests, Handbacks: st.Handbacks, Open: uint64(st.Open)}
	})
	fallbackSrv := server(apiRouter)

	mainSrv := server(mainRouter)
	servers := []*http.Server{mainSrv}
	addrs := Addrs{Main: mainLn.Addr()}
	errc := make(chan error, 3)
	go func() { errc <- mainSrv.Serve(mainLn) }()
	go func() { errc <- fallbackSrv.Serve(fallbackLn) }()

	if internalLn != nil {
		internalSrv := server(apiRouter)
		servers = append(servers, internalSrv)
		addrs.Internal = internalLn.Addr()
		go func() { errc <- internalSrv.Serve(internalLn) }()
	}

	if debugLn != nil {
		debugSrv := &http.Server{Handler: debugHandler(), ReadHeaderTimeout: readHeaderTimeout, ErrorLog: errorLog}
		// Not in servers: a profile being taken must not hold up the drain. Closing it when Run
		// returns ends its Serve goroutine.
		defer debugSrv.Close()
		addrs.Debug = debugLn.Addr()
		go debugSrv.Serve(debugLn)
	}

	if s.cfg.MemoryTrimInterval > 0 {
		trimCtx, stopTrim := context.WithCancel(context.Background())
		trimDone := make(chan struct{})
		defer func() { stopTrim(); <-trimDone }()
		go func() {
			defer close(trimDone)
			memtrim.Run(trimCtx, s.cfg.MemoryTrimInterval, func(before, after memtrim.Heap) {
				s.log.Debug("heap memory given back", "reclaimableBefore", before.Reclaimable(), "reclaimableAfter", after.Reclaimable(), "live", after.Live)
			})
		}()
	}

	port := mainLn.Addr().(*net.TCPAddr).Port
	attrs := []any{"addr", mainLn.Addr().String(), "internalAddr", fmt.Sprint(addrs.Internal), "debugAddr", fmt.Sprint(addrs.Debug),
		"namespaces", s.namespaces, "adapter", s.opts.AdapterState.Name(), "auth", s.verifier.Algorithm()}
	if s.cfg.RedisURL != "" {
		mode := "pattern"
		if s.cfg.RedisRoomChannels {
			mode = "rooms"
		}
		attrs = append(attrs, "redisSubscription", mode)
	}
	s.log.Info("listening", attrs...)
	if ready != nil {
		ready(addrs)
	}
	// Last, so that whoever waits for this line finds everything else printed already.
	if addrs.Internal != nil {
		fmt.Fprintf(s.opts.Stdout, "internal API listening on %s\n", addrs.Internal)
	}
	fmt.Fprintf(s.opts.Stdout, "listening on %d\n", port)

	select {
	case <-ctx.Done():
	case err := <-errc:
		s.log.Error("server failed", "error", err)
		s.drain(servers, apiLane, fallbackSrv)
		return err
	}
	return s.drain(servers, apiLane, fallbackSrv)
}

// notStarted ends a Run that could not open its listeners: it closes those it opened and
// the Socket.IO server New made, whose adapters hold resources of their own (a cluster
// adapter's subscriptions), as the drain does after serving. It returns err, with what
// closing the server failed with, if anything.
func (s *Service) notStarted(err error, opened ...net.Listener) error {
	for _, ln := range opened {
		if ln != nil {
			ln.Close()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	// Sessions exist only if the caller served Handler on a server of its own; they close as
	// in the drain. Then the adapters close.
	if serr := s.io.Shutdown(ctx); serr != nil && !errors.Is(serr, engineio.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// drain shuts the node down so that clients move to other nodes smoothly:
//
//  1. /ready answers 503 and new Engine.IO sessions are refused;
//  2. websocket clients are disconnected in batches spread over DRAIN_DURATION (their TCP
//     connection is closed: socket.io-client sees "transport close" and reconnects, to another
//     node once the load balancer has noticed /ready);
//  3. the remaining sessions (polling clients, sessions that joined no namespace) are closed;
//  4. the HTTP servers stop accepting and wait up to SHUTDOWN_TIMEOUT for in-flight requests,
//     internal API calls included: the lane's connections that wait for a request close at
//     once, those with a call in flight after its answer; the server of the connections the
//     lane handed back stops last, since the lane may hand back until it is shut down;
//  5. the adapters are closed.
func (s *Service) drain(servers []*http.Server, apiLane *lane.Lane, fallback *http.Server) error {
	s.draining.Store(true)
	s.metrics.SetDraining(true)
	sessions := s.io.Engine().Sessions()
	s.log.Info("draining", "sessions", len(sessions), "duration", s.cfg.DrainDuration.String())
	start := time.Now()

	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainDuration+s.cfg.ShutdownTimeout)
	defer cancel()
	// Closing the Engine.IO session, not disconnecting the sockets, is what makes clients
	// reconnect (to another node): a Socket.IO DISCONNECT would tell them not to. A websocket
	// closes at once; a polling session gets its close packet on its next GET.
	pace(ctx, sessions, s.cfg.DrainDuration, func(es *engineio.Session) { es.Close() })

	// A polling session is closed when its client polls next; a client that went away never
	// does, and its session would otherwise be waited for until its ping timeout.
	sessionsCtx, cancelSessions := context.WithTimeout(context.Background(), min(sessionCloseTimeout, s.cfg.ShutdownTimeout))
	if err := s.io.Engine().Shutdown(sessionsCtx); err != nil {
		s.log.Warn("sessions still open after the drain; dropped", "sessions", s.io.Engine().SessionCount(), "error", err)
	}
	cancelSessions()

	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancelShutdown()
	var errs []error
	// The lane waits alongside the servers: a call in flight on one of its connections must
	// not hold up the servers' closing of their listeners.
	laneDone := make(chan error, 1)
	go func() { laneDone <- apiLane.Shutdown(shutdownCtx) }()
	shutdown := func(srv *http.Server) {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			errs = append(errs, fmt.Errorf("waiting for in-flight requests: %w", err))
			srv.Close()
		}
	}
	for _, srv := range servers {
		shutdown(srv)
	}
	if err := <-laneDone; err != nil {
		errs = append(errs, fmt.Errorf("waiting for in-flight API calls on kept-alive connections: %w", err))
	}
	shutdown(fallback)
	// The engine is already shut down; this closes the adapters.
	if err := s.io.Shutdown(shutdownCtx); err != nil && !errors.Is(err, engineio.ErrServerClosed) {
		errs = append(errs, err)
	}
	err := errors.Join(errs...)
	if err != nil {
		s.log.Error("drain incomplete", "error", err, "elapsed", time.Since(start).String())
	} else {
		s.log.Info("drained", "elapsed", time.Since(start).String())
	}
	return err
}
