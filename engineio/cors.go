package engineio

import "time"

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
