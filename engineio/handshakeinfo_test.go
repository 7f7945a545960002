package engineio

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
)

// TestHandshakeInfoCompact checks that the compact form gives back exactly the request's
// headers and query, as the maps net/http and net/url build, for awkward contents too.
func TestHandshakeInfoCompact(t *testing.T) {
	long := strings.Repeat("v", 300) // lengths above 127 take two varint bytes
	cases := []struct {
		target string
		header http.Header
	}{
		{"/engine.io/?EIO=4&transport=websocket", http.Header{"User-Agent": {"x"}}},
		{"/engine.io/", nil},
		{"/engine.io/?", http.Header{}},
		{"/engine.io/?a=1&a=2&b=&c&%zz=1&d=%zz&e=1;2&f=a+b%20c&g%3D=h%26i&&=x",
			http.Header{"Set-Cookie": {"a=1", "b=2"}, "X-Empty": {""}, "X-Long": {long}, long: {"k"}, "X-Nul": {"a\x00b\xff"}}},
		{"/p?x=1#frag&y=2", http.Header{"Origin": {"https://a.example"}}},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "http://h.example"+c.target, nil)
		r.Header = c.header
		r.RemoteAddr = "10.0.0.1:1234"
		now := time.Now()
		h := NewHandshakeInfo(r, now)
		if h.URL != r.RequestURI && h.URL != r.URL.RequestURI() || h.Host != "h.example" || h.RemoteAddr != "10.0.0.1:1234" ||
			!h.Time.Equal(now) || h.Secure {
			t.Errorf("%s: %+v", c.target, h)
		}
		want := c.header
		if want == nil {
			want = http.Header{}
		}
		if got := h.Header(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Header() = %q, want %q", c.target, got, want)
		}
		for k := range want {
			for _, key := range []string{k, strings.ToLower(k)} {
				if got := h.HeaderValue(key); got != want.Get(key) {
					t.Errorf("%s: HeaderValue(%q) = %q, want %q", c.target, key, got, want.Get(key))
				}
			}
		}
		if got := h.HeaderValue("X-Absent"); got != "" {
			t.Errorf("%s: HeaderValue of an absent header = %q", c.target, got)
		}
		wantQ := r.URL.Query()
		if got := h.Query(); !reflect.DeepEqual(got, wantQ) {
			t.Errorf("%s: Query() = %q, want %q", c.target, got, wantQ)
		}
		for _, k := range []string{"a", "b", "c", "d", "e", "f", "g=", "", "%zz", "y", "absent", "EIO"} {
			if got, want := h.QueryValue(k), wantQ.Get(k); got != want {
				t.Errorf("%s: QueryValue(%q) = %q, want %q", c.target, k, got, want)
			}
		}
	}
}

// The flags a session keeps in a byte come back as Secure and CrossOrigin.
func TestHandshakeInfoFlags(t *testing.T) {
	for _, c := range []struct{ tls, origin bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		r := httptest.NewRequest("GET", "http://h.example/engine.io/", nil)
		r.TLS = nil
		if c.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if c.origin {
			r.Header.Set("Origin", "https://a.example")
		}
		if h := NewHandshakeInfo(r, time.Now()); h.Secure != c.tls || h.CrossOrigin != c.origin {
			t.Errorf("TLS %v, Origin %v: Secure %v, CrossOrigin %v", c.tls, c.origin, h.Secure, h.CrossOrigin)
		}
	}
}

// FuzzQueryValue compares QueryValue with url.ParseQuery on
// arbitrary raw queries.
func FuzzQueryValue(f *testing.F) {
	for _, s := range []string{"a=1&a=2", "a=%zz&a=3", "a;b=1&a=2", "a+b=c+d", "%61=1", "=&=", "a"} {
		f.Add(s, "a")
	}
	f.Fuzz(func(t *testing.T, raw, key string) {
		q, _ := url.ParseQuery(raw)
		if got, want := queryValue(raw, key), q.Get(key); got != want {
			t.Errorf("queryValue(%q, %q) = %q, want %q", raw, key, got, want)
		}
	})
}

// Config.KeepHeaders: a session keeps the named headers only (any case), and still knows the
// request was cross-origin when Origin is not among them; nil keeps everything.
func TestKeepHeaders(t *testing.T) {
	testutil.CheckGoroutines(t)
	for _, c := range []struct {
		keep []string
		want http.Header
	}{
		{[]string{"user-agent", "X-TENANT"}, http.Header{"User-Agent": {"ua/1"}, "X-Tenant": {"t1", "t2"}}},
		// One the request lacks is not there.
		{[]string{"user-agent", "x-absent"}, http.Header{"User-Agent": {"ua/1"}}},
		{[]string{}, http.Header{}},
		{nil, http.Header{"User-Agent": {"ua/1"}, "X-Tenant": {"t1", "t2"}, "Cookie": {"sid=secret"},
			"Origin": {"https://a.example"}, "Accept-Encoding": {"gzip"}}},
	} {
		ts := newTestServer(t, Config{KeepHeaders: c.keep}, false)
		req, err := http.NewRequest("GET", ts.url+"?EIO=4&transport=polling", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header = http.Header{"User-Agent": {"ua/1"}, "X-Tenant": {"t1", "t2"}, "Cookie": {"sid=secret"},
			"Origin": {"https://a.example"}, "Accept-Encoding": {"gzip"}}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("handshake: %s", res.Status)
		}
		s := ts.nextSession(t).s
		h := s.Handshake()
		if h.RemoteAddr == "" || s.RemoteAddr() != h.RemoteAddr {
			t.Errorf("keep %q: RemoteAddr() = %q, Handshake().RemoteAddr = %q", c.keep, s.RemoteAddr(), h.RemoteAddr)
		}
		if got := h.Header(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("keep %q: Header() = %q, want %q", c.keep, got, c.want)
		}
		if got, want := h.HeaderValue("cookie"), c.want.Get("Cookie"); got != want {
			t.Errorf("keep %q: HeaderValue(cookie) = %q, want %q", c.keep, got, want)
		}
		if !h.CrossOrigin {
			t.Errorf("keep %q: CrossOrigin false for a request with an Origin header", c.keep)
		}
	}
}

// BenchmarkEncodeHandshake: the handshake a session keeps, from a browser-like request, with
// every header kept, a few, and none (the service's default).
func BenchmarkEncodeHandshake(b *testing.B) {
	r := httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=websocket", nil)
	r.Header = http.Header{
		"Accept-Encoding": {"gzip, deflate, br"}, "Accept-Language": {"en-US,en;q=0.9"},
		"Cache-Control": {"no-cache"}, "Connection": {"Upgrade"}, "Origin": {"https://app.example"},
		"Pragma": {"no-cache"}, "Sec-Websocket-Extensions": {"permessage-deflate; client_max_window_bits"},
		"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, "Sec-Websocket-Version": {"13"},
		"Upgrade": {"websocket"}, "User-Agent": {"Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"},
	}
	for _, c := range []struct {
		name string
		keep []string
	}{{"all", nil}, {"two", []string{"User-Agent", "X-Tenant"}}, {"none", []string{}}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = encodeHandshake(r, c.keep)
			}
		})
	}
}

// TestKeepHeadersCanonicalOnce: the names a session looks up are canonical and distinct, so
// that a header named twice (in two spellings) is encoded once.
func TestKeepHeadersCanonicalOnce(t *testing.T) {
	got := Config{KeepHeaders: []string{"user-agent", "User-Agent", "x-tenant", "USER-AGENT"}}.withDefaults().KeepHeaders
	if want := []string{"User-Agent", "X-Tenant"}; !reflect.DeepEqual(got, want) {
		t.Errorf("KeepHeaders %q, want %q", got, want)
	}
	r := httptest.NewRequest("GET", "/engine.io/", nil)
	r.Header = http.Header{"User-Agent": {"ua/1"}}
	if once, twice := encodeHandshake(r, []string{"User-Agent"}), encodeHandshake(r, []string{"User-Agent", "User-Agent"}); len(twice) == len(once) {
		t.Fatal("a name listed twice is encoded once even without withDefaults: the test above tests nothing")
	}
}
