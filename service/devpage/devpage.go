// Package devpage serves the page at "/" that a newcomer opens first: it connects to the
// service with the browser build of socket.io-client, shows the connection state and every
// event received, and sends test emits through the internal API.
//
// The page loads socket.io-client from ClientScriptPath when the server serves it there (the
// CLIENT_SCRIPT setting: see ClientScript) and from the official CDN otherwise; the binary
// embeds no third-party code.
package devpage

import (
	_ "embed"
	"html/template"
	"net/http"
)

//go:embed page.html
var pageHTML string

var page = template.Must(template.New("page").Parse(pageHTML))

// CDNClientURL is where the page loads socket.io-client when the server does not serve it.
const CDNClientURL = "https://cdn.socket.io/4.8.4/socket.io.min.js"

// Config is what the page shows and prefills.
type Config struct {
	// Dev shows the development warning and prefills Token and Key.
	Dev bool
	// Token prefills the token field (dev mode's example token).
	Token string
	// UserRoom prefills the room of the test emit, e.g. "user:dev-user".
	UserRoom string
	// Key prefills the internal API key (dev mode only: the key is public then).
	Key string
	// Namespaces lists the namespaces to choose from; "/" first.
	Namespaces []string
	// APIOnThisOrigin is false when the internal API listens elsewhere (INTERNAL_ADDR): the
	// page then explains that test emits must be sent from a shell.
	APIOnThisOrigin bool
	// ClientURLs are the socket.io-client scripts to try in order, until one defines io.
	// Default {ClientScriptPath, CDNClientURL}; a server that does not serve ClientScriptPath
	// passes {CDNClientURL}.
	ClientURLs []string
}

// Handler serves the page at exactly "/"; anything else is 404.
func Handler(cfg Config) http.Handler {
	if len(cfg.ClientURLs) == 0 {
		cfg.ClientURLs = []string{ClientScriptPath, CDNClientURL}
	}
	if len(cfg.Namespaces) == 0 {
		cfg.Namespaces = []string{"/"}
	}
	if !cfg.Dev {
		cfg.Token, cfg.Key = "", ""
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		if !getOrHead(w, r) {
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		_ = page.Execute(w, cfg)
	})
}

// getOrHead answers 405 to any method but GET and HEAD, the only ones the page and the script
// serve, and reports whether the request may go on.
func getOrHead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "Method not allowed", http.StatusMethodNotAllowed)
	return false
}
