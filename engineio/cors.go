package engineio

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CORS configures the Cross-Origin Resource Sharing headers of polling responses. Websocket
// upgrades are not subject to CORS.
type CORS struct {
	// Origins lists the allowed origins, e.g. "https://app.example.com". "*" allows any
	// origin: the response then carries "Access-Control-Allow-Origin: *", or the request's own
	// origin when Credentials is set (browsers refuse "*" with credentials). A request from an
	// origin not listed gets no CORS headers, so the browser refuses the answer.
	Origins []string
	// Credentials sends "Access-Control-Allow-Credentials: true".
	Credentials bool
	// Methods are the methods a preflight allows. Default GET, HEAD, PUT, PATCH, POST, DELETE.
	Methods []string
	// Headers are the request headers a preflight allows. Default: the ones the preflight
	// asks for.
	Headers []string
	// MaxAge, when positive, lets browsers cache a preflight answer that long.
	MaxAge time.Duration
}

// corsPolicy is a CORS with its header values computed once.
type corsPolicy struct {
	any         bool
	origins     map[string]bool
	credentials bool
	methods     string
	headers     string
	maxAge      string
}

func newCORSPolicy(c *CORS) *corsPolicy {
	if c == nil {
		return nil
	}
	p := &corsPolicy{origins: make(map[string]bool), credentials: c.Credentials}
	for _, o := range c.Origins {
		if o == "*" {
			p.any = true
		}
		p.origins[o] = true
	}
	p.methods = "GET,HEAD,PUT,PATCH,POST,DELETE"
	if len(c.Methods) > 0 {
		p.methods = strings.Join(c.Methods, ",")
	}
	p.headers = strings.Join(c.Headers, ",")
	if c.MaxAge > 0 {
		p.maxAge = strconv.Itoa(int(c.MaxAge / time.Second))
	}
	return p
}

// apply adds the CORS headers for r and answers a preflight; it reports whether it did.
func (p *corsPolicy) apply(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	origin := r.Header.Get("Origin")
	allow := ""
	switch {
	case p.any && !p.credentials:
		allow = "*"
	case origin != "" && (p.any || p.origins[origin]):
		allow = origin
	}
	if !p.any || p.credentials {
		h.Add("Vary", "Origin")
	}
	if allow != "" {
		h.Set("Access-Control-Allow-Origin", allow)
		if p.credentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
	}
	if r.Method != http.MethodOptions {
		return false
	}
	if allow != "" {
		h.Set("Access-Control-Allow-Methods", p.methods)
		if p.headers != "" {
			h.Set("Access-Control-Allow-Headers", p.headers)
		} else if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
			h.Add("Vary", "Access-Control-Request-Headers")
		}
		if p.maxAge != "" {
			h.Set("Access-Control-Max-Age", p.maxAge)
		}
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
	return true
}
