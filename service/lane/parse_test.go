package lane

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
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

// FuzzParseResumed checks that a parse going on from where the last one stopped (the head
// arriving in pieces) decides every prefix of the bytes as a parse from the start does, and
// reads the same head.
func FuzzParseResumed(f *testing.F) {
	f.Add([]byte("POST /api/v1/internal/emit HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nX-Internal-Key: k\r\nContent-Length: 2\r\n\r\n{}"), uint64(0x9e3779b97f4a7c15))
	f.Add([]byte("GET /a?b HTTP/1.1\r\nhost: a\r\nx-key: 1\r\nX-Key: 2\r\nConnection: close\r\n\r\n"), uint64(1))
	f.Add([]byte("POST /x HTTP/1.1\r\nHost: h\r\nX-Big: "+string(bytes.Repeat([]byte("b"), 200))+"\r\n\r\n"), uint64(7))
	f.Fuzz(func(t *testing.T, data []byte, cuts uint64) {
		const maxHead = 256
		var resumed head
		for end := 0; end < len(data); {
			// The next piece is 1 to 16 bytes long, as the cuts say.
			end = min(len(data), end+1+int(cuts&15))
			cuts = cuts>>4 | cuts<<60
			n, v := parse(data[:end], &resumed, fuzzNames, maxHead)
			var fresh head
			wn, wv := parse(data[:end], &fresh, fuzzNames, maxHead)
			if n != wn || v != wv {
				t.Fatalf("prefix of %d bytes: resumed (%d, %d), from the start (%d, %d): %q", end, n, v, wn, wv, data[:end])
			}
			if v == accepted && !sameHead(&resumed, &fresh) {
				t.Fatalf("prefix of %d bytes: resumed %+v, from the start %+v", end, resumed, fresh)
			}
			if v != needMore {
				return
			}
		}
	})
}

func sameHead(a, b *head) bool {
	if !bytes.Equal(a.method, b.method) || !bytes.Equal(a.target, b.target) || a.query != b.query ||
		!bytes.Equal(a.host, b.host) || a.hosts != b.hosts || a.contentLength != b.contentLength ||
		a.hasLength != b.hasLength || a.close != b.close || len(a.fields) != len(b.fields) {
		return false
	}
	for i := range a.fields {
		if a.fields[i].name != b.fields[i].name || !bytes.Equal(a.fields[i].value, b.fields[i].value) {
			return false
		}
	}
	return true
}

// BenchmarkParseTrickledHead is a 32 KiB head of short header lines arriving a byte at a
// time, parsed after every byte: going on from where the last parse stopped (as the lane
// does) against starting over each time (as it did).
func BenchmarkParseTrickledHead(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("POST /api/v1/internal/emit HTTP/1.1\r\nHost: h\r\n")
	for sb.Len() < 32<<10 {
		sb.WriteString("X-Pad: 12345678\r\n")
	}
	sb.WriteString("\r\n")
	data := []byte(sb.String())
	for _, resume := range []bool{true, false} {
		b.Run(fmt.Sprintf("resume=%t", resume), func(b *testing.B) {
			var h head
			for range b.N {
				h.restart()
				for end := 1; end <= len(data); end++ {
					if !resume {
						h.restart()
					}
					if _, v := parse(data[:end], &h, fuzzNames, 64<<10); v != needMore {
						if v != accepted || end != len(data) {
							b.Fatalf("verdict %d at %d of %d bytes", v, end, len(data))
						}
					}
				}
			}
		})
	}
}
