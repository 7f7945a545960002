package lane

import (
	"bufio"
	"bytes"
	"net/http"
	"slices"
	"testing"
)

var fuzzNames = []string{"X-Internal-Key", "X-Key"}

// FuzzParse checks the lane's parser against net/http's: whenever the lane accepts a head,
// http.ReadRequest reads the same request from the same bytes and stops at the same byte.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"POST /api/v1/internal/emit HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nX-Internal-Key: k\r\nContent-Length: 2\r\n\r\n{}",
		"GET /api/v1/internal/sockets?room=user:42&room=a%20b HTTP/1.1\r\nhost: a\r\nx-internal-key: k\r\nX-Internal-Key: j\r\n\r\n",
		"GET /a? HTTP/1.1\r\nHost: [::1]:80\r\nConnection: keep-alive, close\r\n\r\nGET / HTTP/1.1\r\n",
		"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\nUser-Agent: \t go \t\r\nAccept: \x80\xff\r\n\r\n",
		"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
		"POST /x HTTP/1.1\r\nHost: h\r\nX-Key: a\r\n b\r\n\r\n",
		"POST /x HTTP/1.1\nHost: h\n\n",
		"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST /x HTTP/1.0\r\nHost: h\r\n\r\n",
		"POST http://h/x HTTP/1.1\r\nHost: h\r\n\r\n",
		"PO ST /x HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST /%41 HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST /x HTTP/1.1\r\nHost: h\r\nX-Key:\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var h head
		n, v := parse(data, &h, fuzzNames, 1024)
		if v != accepted {
			return
		}
		rd := bytes.NewReader(data)
		br := bufio.NewReader(rd)
		req, err := http.ReadRequest(br)
		if err != nil {
			t.Fatalf("the lane accepts what net/http refuses (%v): %q", err, data)
		}
		if read := len(data) - br.Buffered() - rd.Len(); read != n {
			t.Errorf("head of %d bytes, net/http read %d: %q", n, read, data)
		}
		target := string(h.target)
		path, query, hasQuery := target, "", false
		if h.query < len(target) {
			path, query, hasQuery = target[:h.query], target[h.query+1:], true
		}
		if req.Method != string(h.method) || req.URL.Path != path || req.URL.RawPath != "" || req.URL.RawQuery != query ||
			req.URL.ForceQuery != (hasQuery && query == "") || req.RequestURI != target {
			t.Errorf("request line %q %q, net/http read %q %q (raw path %q, query %q)", h.method, h.target, req.Method, req.URL.Path, req.URL.RawPath, req.URL.RawQuery)
		}
		if req.Host != string(h.host) || req.ContentLength != h.contentLength || req.Close != h.close {
			t.Errorf("host %q, length %d, close %v; net/http read %q, %d, %v: %q", h.host, h.contentLength, h.close, req.Host, req.ContentLength, req.Close, data)
		}
		for i, name := range fuzzNames {
			var got []string
			for _, f := range h.fields {
				if f.name == i {
					got = append(got, string(f.value))
				}
			}
			if !slices.Equal(got, req.Header[name]) {
				t.Errorf("%s: %q, net/http read %q", name, got, req.Header[name])
			}
		}
	})
}

// The parser waits for a head that is still arriving, and refuses one as soon as a complete
// line breaks the subset, so that net/http answers it without waiting for more.
func TestParseVerdicts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want verdict
	}{
		{"POST /x HTTP/1.1\r\nHost: h\r\n", needMore},
		{"POST /x HTTP/1.1\r\nHo", needMore},
		{"POST /x HTTP/1.1\r\nHost: h\r\n\r\n", accepted},
		{"POST /x HTTP/1.1\nHo", refused},
		{"GET /x HTTP/1.0\r\nHo", refused},
		{"POST /x HTTP/1.1\r\nHost: h\r\n x\r\n", refused},
		{"POST /x HTTP/1.1\r\nX-Big: " + string(bytes.Repeat([]byte("b"), 100)), refused},
		{"POST /x HTTP/1.1\r\n\r\n", refused},
	} {
		var h head
		if _, v := parse([]byte(tc.in), &h, nil, 100); v != tc.want {
			t.Errorf("%q: verdict %d, want %d", tc.in, v, tc.want)
		}
	}
}
