package socketio

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tomato-code/realtime/engineio"
)

// Handshake describes how a socket connected: the Engine.IO session's first request and the
// auth payload of the namespace CONNECT. Socket.Handshake builds one on each call, from
// what the socket's connection keeps; it does not change during the socket's life. Its JSON form
// is the one Node.js socket.io gives socket.handshake (lower-case header names, "issued" in
// milliseconds), which is what cluster adapters exchange.
type Handshake struct {
	// Address is the client's IP address, without port.
	Address string
	// Time is when the Engine.IO session was opened.
	Time time.Time
	// Secure is true when the session came over TLS.
	Secure bool
	// XDomain is true when the request carried an Origin header (a cross-origin request).
	XDomain bool
	// URL is the request URI of that request.
	URL string
	// Auth is the auth object of the CONNECT packet, {} when the client sent none.
	Auth json.RawMessage

	// info holds the request's headers and query in their compact form: the session's for
	// a socket of this server, one made up by UnmarshalJSON for a socket of another.
	info *engineio.HandshakeInfo
}

// newHandshake describes a socket that connects with auth over the session that info
// describes. Sockets do not keep theirs (see Socket.Handshake): it is a value, so that the
// caller decides whether it escapes.
func newHandshake(info *engineio.HandshakeInfo, auth json.RawMessage) Handshake {
	h := Handshake{Auth: auth, info: info}
	if len(h.Auth) == 0 {
		h.Auth = noAuth
	}
	if info == nil {
		return h // nothing known of the request; Time stays zero
	}
	h.Time, h.Secure, h.URL = info.Time, info.Secure, info.URL
	h.Address = handshakeAddress(info)
	h.XDomain = info.CrossOrigin
	return h
}

// handshakeAddress returns the client's IP address, without port, of the session info
// describes ("" when it is nil).
func handshakeAddress(info *engineio.HandshakeInfo) string {
	if info == nil {
		return ""
	}
	return hostOf(info.RemoteAddr)
}

// hostOf returns the host part of a remote address ("ip:port"), or all of it when it has no
// port.
func hostOf(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host // a part of addr: no copy
	}
	return addr
}

// noAuth is the Auth of a socket whose client sent none, or whose auth was discarded
// (Config.DiscardAuth). It is never written.
var noAuth = json.RawMessage(`{}`)

// noInfo stands in for the request of a Handshake that has none (one built by hand, or for a
// session that did not describe its request): every accessor then reads an empty request.
// It is never written.
var noInfo engineio.HandshakeInfo

// request returns the compact form of the request, noInfo when there is none.
func (h *Handshake) request() *engineio.HandshakeInfo {
	if h.info == nil {
		return &noInfo
	}
	return h.info
}

// Headers returns the headers of the first HTTP request of the session. The map belongs to
// the caller: it is built on each call, since sockets keep their headers in a compact form;
// HeaderValue reads one header without building it.
func (h *Handshake) Headers() http.Header { return h.request().Header() }

// HeaderValue returns the first value of a request header, or "", as http.Header.Get does.
func (h *Handshake) HeaderValue(key string) string { return h.request().HeaderValue(key) }

// Query returns the query parameters of that request (EIO, transport, t, and the client's
// own). Like Headers, the map is built on each call and belongs to the caller; QueryValue
// reads one parameter without building it.
func (h *Handshake) Query() url.Values { return h.request().Query() }

// QueryValue returns the first value of a query parameter, or "", as url.Values.Get does.
func (h *Handshake) QueryValue(key string) string { return h.request().QueryValue(key) }

// handshakeJSON is the wire form of Handshake.
type handshakeJSON struct {
	Headers map[string]any  `json:"headers"`
	Time    string          `json:"time"`
	Address string          `json:"address"`
	XDomain bool            `json:"xdomain"`
	Secure  bool            `json:"secure"`
	Issued  int64           `json:"issued"`
	URL     string          `json:"url"`
	Query   map[string]any  `json:"query"`
	Auth    json.RawMessage `json:"auth"`
}

// jsDateLayout is JavaScript's Date.prototype.toString in UTC, without the zone name.
const jsDateLayout = "Mon Jan 02 2006 15:04:05 GMT-0700"

// MarshalJSON encodes h as Node.js socket.io does.
func (h *Handshake) MarshalJSON() ([]byte, error) {
	headers, query := h.Headers(), h.Query()
	j := handshakeJSON{
		Headers: make(map[string]any, len(headers)),
		Time:    h.Time.UTC().Format(jsDateLayout) + " (Coordinated Universal Time)",
		Address: h.Address,
		XDomain: h.XDomain,
		Secure:  h.Secure,
		Issued:  h.Time.UnixMilli(),
		URL:     h.URL,
		Query:   make(map[string]any, len(query)),
		Auth:    h.Auth,
	}
	for k, v := range headers {
		k = strings.ToLower(k)
		if k == "set-cookie" {
			j.Headers[k] = v
		} else {
			j.Headers[k] = strings.Join(v, ", ")
		}
	}
	// net/http moves the Host header out of the header map; Node.js lists it with the others.
	if _, ok := j.Headers["host"]; !ok && h.request().Host != "" {
		j.Headers["host"] = h.request().Host
	}
	for k, v := range query {
		if len(v) == 1 {
			j.Query[k] = v[0]
		} else {
			j.Query[k] = v
		}
	}
	if len(j.Auth) == 0 {
		j.Auth = json.RawMessage(`{}`)
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes the Node.js form (see MarshalJSON); the time comes from "issued".
func (h *Handshake) UnmarshalJSON(b []byte) error {
	var j struct {
		handshakeJSON
		Headers map[string]json.RawMessage `json:"headers"`
		Query   map[string]json.RawMessage `json:"query"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	headers := make(http.Header, len(j.Headers))
	for k, v := range j.Headers {
		headers[http.CanonicalHeaderKey(k)] = stringList(v)
	}
	query := make(url.Values, len(j.Query))
	for k, v := range j.Query {
		query[k] = stringList(v)
	}
	t := time.UnixMilli(j.Issued)
	// The compact form is made from a request that carries just the headers and the query.
	r := &http.Request{Header: headers, RequestURI: "?" + query.Encode()}
	*h = Handshake{
		Address: j.Address,
		Time:    t,
		Secure:  j.Secure,
		XDomain: j.XDomain,
		URL:     j.URL,
		Auth:    j.Auth,
		info:    engineio.NewHandshakeInfo(r, t),
	}
	return nil
}

// stringList reads a JSON string or array of strings; anything else gives its JSON text.
func stringList(raw json.RawMessage) []string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}
	}
	var l []string
	if json.Unmarshal(raw, &l) == nil {
		return l
	}
	return []string{string(raw)}
}
