package engineio

import (
	"net/http"
	"net/url"
	"time"
)

// HandshakeInfo describes the first request of a session.
type HandshakeInfo struct {
	// Header holds the request headers. Do not modify it.
	Header http.Header
	// Query holds the query parameters, e.g. EIO, transport, t. Do not modify it.
	Query url.Values
	// RemoteAddr is the client's address as net/http reports it ("ip:port").
	RemoteAddr string
	// Time is when the session was created.
	Time time.Time
	// Secure is true when the request came over TLS.
	Secure bool
	// URL is the request URI (path and query) as the request line has it.
	URL string
	// Host is the Host header of the request.
	Host string
}

func newHandshakeInfo(r *http.Request, q url.Values) *HandshakeInfo {
	return &HandshakeInfo{
		Header:     r.Header,
		Query:      q,
		RemoteAddr: r.RemoteAddr,
		Time:       time.Now(),
		Secure:     r.TLS != nil,
		URL:        requestURI(r),
		Host:       r.Host,
	}
}

// requestURI returns the request target as the client sent it, as Node.js's req.url does. It
// shares the memory of the request line, which the parsed query already keeps.
func requestURI(r *http.Request) string {
	if r.RequestURI != "" {
		return r.RequestURI
	}
	return r.URL.RequestURI() // a request built in process
}
