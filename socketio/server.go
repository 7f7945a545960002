package socketio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tomato-code/realtime/engineio"
)

// Server is a Socket.IO server. It implements http.Handler: mount it where the clients connect,
// "/socket.io/" by default:
//
//	srv := socketio.NewServer(socketio.Config{})
//	http.Handle("/socket.io/", srv)
type Server struct {
	cfg    Config
	engine *engineio.Server

	mu      sync.RWMutex
	nsps    map[string]*Namespace // static namespaces and the children of dynamic ones
	parents []*Namespace          // dynamic matchers, in registration order
	closed  atomic.Bool
}

// NewServer returns a server for cfg. The main namespace "/" exists from the start.
func NewServer(cfg Config) *Server {
	if cfg.Engine.OnOpen != nil {
		panic("socketio: Config.Engine.OnOpen is set by the Server and must be nil")
	}
	srv := &Server{cfg: cfg.withDefaults(), nsps: make(map[string]*Namespace)}
	ecfg := srv.cfg.Engine
	ecfg.OnOpen = func(s *engineio.Session) engineio.SessionHandler { return srv.newConn(s) }
	srv.engine = engineio.NewServer(ecfg)
	srv.Of("/")
	return srv
}

// ServeHTTP serves the Engine.IO requests that carry Socket.IO.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { srv.engine.ServeHTTP(w, r) }

// Engine returns the Engine.IO server underneath, e.g. for its SessionCount.
func (srv *Server) Engine() *engineio.Server { return srv.engine }

// Shutdown stops accepting sessions, closes every session (sockets get reason "server shutting
// down") and waits until they are gone or ctx ends, then closes the adapters.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.closed.Store(true)
	err := srv.engine.Shutdown(ctx)
	srv.mu.RLock()
	nsps := make([]*Namespace, 0, len(srv.nsps))
	for _, ns := range srv.nsps {
		nsps = append(nsps, ns)
	}
	srv.mu.RUnlock()
	for _, ns := range nsps {
		if cerr := ns.adapter.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("socketio: closing adapter of %s: %w", ns.name, cerr))
		}
	}
	return err
}

// normalizeName gives namespace names their canonical form: "" is "/", and a name always
// starts with "/".
func normalizeName(name string) string {
	if !strings.HasPrefix(name, "/") {
		return "/" + name
	}
	return name
}

// Of returns the namespace name ("/chat"), creating it when it does not exist. It also returns
// children of dynamic namespaces that exist already.
func (srv *Server) Of(name string) *Namespace {
	name = normalizeName(name)
	srv.mu.RLock()
	ns := srv.nsps[name]
	srv.mu.RUnlock()
	if ns != nil {
		return ns
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if ns = srv.nsps[name]; ns == nil {
		ns = newNamespace(srv, name, nil)
		srv.nsps[name] = ns
	}
	return ns
}

// OfFunc registers a dynamic namespace: a client connecting to a namespace that does not exist
// gets one created for it when match accepts the name (match sees the handshake, auth
// included). The returned parent is not a namespace clients connect to: its middleware and
// connection handlers apply to every child, and its broadcasts reach every child. Matchers are
// tried in registration order; static namespaces win over them.
func (srv *Server) OfFunc(match func(name string, hs *Handshake) bool) *Namespace {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	// A parent has no adapter and no sockets of its own: it holds the handlers its children
	// inherit, and its operations go to its children.
	ns := &Namespace{name: fmt.Sprintf("/_%d", len(srv.parents)), srv: srv, match: match,
		children: make(map[string]*Namespace), sockets: make(map[string]*Socket)}
	srv.parents = append(srv.parents, ns)
	return ns
}

// OfRegexp registers a dynamic namespace for the names re matches (see OfFunc). Anchor the
// expression (^...$) to match whole names.
func (srv *Server) OfRegexp(re *regexp.Regexp) *Namespace {
	return srv.OfFunc(func(name string, _ *Handshake) bool { return re.MatchString(name) })
}

// lookup finds the namespace a CONNECT names, creating a dynamic child when a matcher accepts
// it, and counts a connection attempt on it so that an empty child is not removed meanwhile
// (release with ns.pending.Add(-1)). It returns nil for an unknown name. s is the socket
// asking; its handshake is built for the matchers only when one is asked.
func (srv *Server) lookup(name string, s *Socket) *Namespace {
	srv.mu.RLock()
	ns := srv.nsps[name]
	parents := srv.parents
	if ns != nil {
		ns.pending.Add(1)
	}
	srv.mu.RUnlock()
	if ns != nil {
		return ns
	}
	var hs *Handshake
	for _, p := range parents {
		if hs == nil {
			hs = s.Handshake()
		}
		if !p.match(name, hs) {
			continue
		}
		srv.mu.Lock()
		ns = srv.nsps[name]
		if ns == nil {
			ns = newNamespace(srv, name, p)
			srv.nsps[name] = ns
			p.mu.Lock()
			p.children[name] = ns
			p.mu.Unlock()
		}
		ns.pending.Add(1)
		srv.mu.Unlock()
		return ns
	}
	return nil
}

// removeIfEmpty drops a dynamic child that has no socket and no connection in progress.
func (srv *Server) removeIfEmpty(ns *Namespace) {
	if ns.parent == nil || !srv.cfg.CleanupEmptyChildNamespaces {
		return
	}
	srv.mu.Lock()
	// No connection in progress, and none can start while srv.mu is held (lookup counts
	// them under it): every socket that connected is counted by now, and none comes.
	empty := ns.pending.Load() == 0 && srv.nsps[ns.name] == ns && ns.SocketCount() == 0
	if empty {
		delete(srv.nsps, ns.name)
		ns.parent.mu.Lock()
		delete(ns.parent.children, ns.name)
		ns.parent.mu.Unlock()
	}
	srv.mu.Unlock()
	if empty {
		ns.adapter.Close()
	}
}
