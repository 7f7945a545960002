package engineio

import (
	"encoding/binary"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"
	"unsafe"
)

// HandshakeInfo describes the first request of a session. It is immutable.
//
// A session keeps what it holds for as long as it lives, so it is compact: the request's
// headers and query are not kept as maps (a few hundred bytes each per connection) but as the
// request URI and one encoded copy of the headers, from which Header and Query build maps when
// asked, and HeaderValue and QueryValue read single values without building any. A session
// keeps even less (see Session.Handshake): it builds a HandshakeInfo when asked, sharing its
// strings.
type HandshakeInfo struct {
	// RemoteAddr is the client's address as net/http reports it ("ip:port").
	RemoteAddr string
	// Time is when the session was created, in the local location, without a monotonic
	// clock reading (a session keeps it as nanoseconds).
	Time time.Time
	// Secure is true when the request came over TLS.
	Secure bool
	// CrossOrigin is true when the request carried an Origin header, kept or not
	// (Config.KeepHeaders). Beside Secure: they share a word.
	CrossOrigin bool
	// URL is the request URI (path and query) as the request line has it.
	URL string
	// Host is the Host header of the request.
	Host string

	header string // the headers, encoded by writeHeader
}

// NewHandshakeInfo describes r as the first request of a session created at t. Sessions get
// theirs from the server; it is exported for tests of code that reads handshakes.
func NewHandshakeInfo(r *http.Request, t time.Time) *HandshakeInfo {
	h := handshake{data: encodeHandshake(r, nil), nano: t.UnixNano()}
	return h.info(flagsOf(r))
}

// handshake is the form in which a Session keeps its HandshakeInfo: 24 bytes rather than 96,
// which is what moved a Session from the 288-byte size class to the 224-byte one. The flags
// (Secure, CrossOrigin) are kept apart, in a byte of the Session's padding.
type handshake struct {
	// data holds URL, Host and RemoteAddr, each preceded by its length as a uvarint, then the
	// headers as writeHeader encodes them: the lengths cost a few bytes of this allocation,
	// offsets as fields would cost the Session a word or two.
	data string
	nano int64 // Time as UnixNano: the monotonic reading and the location are not worth 16 bytes
}

// handshakeFlags are the boolean fields of a HandshakeInfo, in one byte.
type handshakeFlags uint8

const (
	flagSecure handshakeFlags = 1 << iota
	flagCrossOrigin
)

// flagsOf returns the flags of a session opened by r.
func flagsOf(r *http.Request) handshakeFlags {
	var f handshakeFlags
	if r.TLS != nil {
		f |= flagSecure
	}
	if len(r.Header["Origin"]) > 0 {
		f |= flagCrossOrigin
	}
	return f
}

// makeHandshake is NewHandshakeInfo in the compact form a Session holds. keep, when not nil,
// holds the canonical names of the only headers kept.
func makeHandshake(r *http.Request, t time.Time, keep []string) (handshake, handshakeFlags) {
	return handshake{data: encodeHandshake(r, keep), nano: t.UnixNano()}, flagsOf(r)
}

// encodeHandshake returns handshake.data for r.
//
// It runs on net/http's goroutine for the connection, at the deepest point of a handshake, so
// its frames are kept small and it calls no closures: a frame of several hundred bytes here
// was where that goroutine outgrew its first stack, and copying it cost a handshake more than
// this whole function (runtime.newstack, 5-10% of a connection storm's CPU).
func encodeHandshake(r *http.Request, keep []string) string {
	uri := requestURI(r)
	// One allocation of exactly the right size holds every string, so that none of the
	// request's own memory (the request line, net/http's header map) stays with the session.
	n := uvarintLen(len(uri)) + len(uri) + uvarintLen(len(r.Host)) + len(r.Host) +
		uvarintLen(len(r.RemoteAddr)) + len(r.RemoteAddr) + headerLen(r.Header, keep)
	b := make([]byte, 0, n)
	b = appendString(b, uri)
	b = appendString(b, r.Host)
	b = appendString(b, r.RemoteAddr)
	b = appendHeader(b, r.Header, keep)
	// b is never written again: the string shares its memory, as strings.Builder's does.
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// appendString appends s with its length before it.
func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// headerLen is the length of appendHeader's encoding of the headers of h that keep keeps.
func headerLen(h http.Header, keep []string) int {
	n := 0
	if keep == nil {
		for k, vs := range h {
			n += valuesLen(k, vs)
		}
		return n
	}
	for _, k := range keep {
		if vs, ok := h[k]; ok {
			n += valuesLen(k, vs)
		}
	}
	return n
}

// valuesLen is the length of appendValues's encoding of one header.
func valuesLen(k string, vs []string) int {
	n := uvarintLen(len(k)) + len(k) + uvarintLen(len(vs))
	for _, v := range vs {
		n += uvarintLen(len(v)) + len(v)
	}
	return n
}

// fields returns the parts of data: substrings of it, so nothing is copied.
func (h *handshake) fields() (url, host, remoteAddr, header string) {
	if h.data == "" {
		return // a Session built by hand in a test
	}
	r := headerReader{h.data}
	url, host, remoteAddr = r.str(), r.str(), r.str()
	return url, host, remoteAddr, r.rest
}

// info builds the HandshakeInfo that h and f describe: one allocation, its strings shared
// with h.
func (h *handshake) info(f handshakeFlags) *HandshakeInfo {
	url, host, addr, header := h.fields()
	return &HandshakeInfo{
		RemoteAddr:  addr,
		Time:        time.Unix(0, h.nano),
		Secure:      f&flagSecure != 0,
		CrossOrigin: f&flagCrossOrigin != 0,
		URL:         url,
		Host:        host,
		header:      header,
	}
}

// requestURI returns the request target as the client sent it, as Node.js's req.url does.
func requestURI(r *http.Request) string {
	if r.RequestURI != "" {
		return r.RequestURI
	}
	return r.URL.RequestURI() // a request built in process
}

// appendHeader appends the headers of h that keep keeps (all of them when keep is nil): for
// each key, its length, the key, the number of values, then each value's length and the value
// (lengths as uvarints). Any byte may appear in keys and values. With a list, the names are
// looked up rather than the map walked: most servers keep none or a few of a browser's dozen
// headers (BenchmarkEncodeHandshake). keep holds distinct canonical names
// (Config.withDefaults), as net/http keys r.Header, so each kept header is written once.
func appendHeader(b []byte, h http.Header, keep []string) []byte {
	if keep == nil {
		for k, vs := range h {
			b = appendValues(b, k, vs)
		}
		return b
	}
	for _, k := range keep {
		if vs, ok := h[k]; ok {
			b = appendValues(b, k, vs)
		}
	}
	return b
}

// appendValues appends one header: its name, the number of values, each value.
func appendValues(b []byte, k string, vs []string) []byte {
	b = appendString(b, k)
	b = binary.AppendUvarint(b, uint64(len(vs)))
	for _, v := range vs {
		b = appendString(b, v)
	}
	return b
}

// uvarintLen is the length of n's uvarint encoding.
func uvarintLen(n int) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}

// headerReader walks an encoding of writeHeader.
type headerReader struct{ rest string }

func (r *headerReader) str() string {
	n, w := uvarint(r.rest)
	s := r.rest[w : w+int(n)]
	r.rest = r.rest[w+int(n):]
	return s
}

func (r *headerReader) count() int {
	n, w := uvarint(r.rest)
	r.rest = r.rest[w:]
	return int(n)
}

// uvarint is binary.Uvarint on a string, which the encoding always holds in full.
func uvarint(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 {
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	panic("engineio: truncated handshake header encoding")
}

// Header returns the request headers (the Host header is Host). The map is built on each
// call and belongs to the caller; HeaderValue reads one header without building it.
func (h *HandshakeInfo) Header() http.Header {
	hdr := make(http.Header)
	r := headerReader{h.header}
	for r.rest != "" {
		k := r.str()
		vs := make([]string, r.count())
		for i := range vs {
			vs[i] = r.str()
		}
		hdr[k] = vs
	}
	return hdr
}

// HeaderValue returns the first value of the request header key, or "", as http.Header.Get
// does (key is case-insensitive).
func (h *HandshakeInfo) HeaderValue(key string) string {
	key = textproto.CanonicalMIMEHeaderKey(key)
	r := headerReader{h.header}
	for r.rest != "" {
		k := r.str()
		n := r.count()
		for i := range n {
			v := r.str()
			if i == 0 && k == key {
				return v
			}
		}
	}
	return ""
}

// rawQuery is the query part of URL.
func (h *HandshakeInfo) rawQuery() string {
	_, q, _ := strings.Cut(h.URL, "?")
	return q
}

// Query returns the query parameters of the request (EIO, transport, t, and the client's
// own), as url.ParseQuery reads them, malformed pairs left out. The map is built on each call
// and belongs to the caller; QueryValue reads one parameter without building it.
func (h *HandshakeInfo) Query() url.Values {
	q, _ := url.ParseQuery(h.rawQuery())
	return q
}

// QueryValue returns the first value of the query parameter key, or "", as Query().Get(key)
// does.
func (h *HandshakeInfo) QueryValue(key string) string {
	return queryValue(h.rawQuery(), key)
}

// queryValue finds key in a raw query with url.ParseQuery's rules: pairs split on "&", a pair
// holding ";" or a bad escape is skipped, keys and values are unescaped.
func queryValue(raw, key string) string {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k)
		if err != nil || k != key {
			continue
		}
		if v, err = url.QueryUnescape(v); err != nil {
			continue
		}
		return v
	}
	return ""
}
