package devpage

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const fakeBundle = `!function(t,e){"object"==typeof exports?module.exports=e():t.io=e()}(this,function(){return function io(){}});`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func serve(h http.Handler, method string, header map[string]string) *http.Response {
	req := httptest.NewRequest(method, ClientScriptPath, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestClientScriptServesTheFileFromMemory(t *testing.T) {
	path := writeFile(t, "socket.io.min.js", fakeBundle)
	script, err := LoadClientScript(path)
	if err != nil {
		t.Fatal(err)
	}
	// Read once: later changes on disk are not served.
	if err := os.WriteFile(path, []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	resp := serve(script, "GET", nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != fakeBundle {
		t.Fatalf("GET: %d %q", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/javascript") {
		t.Errorf("Content-Type %q", ct)
	}
	etag := resp.Header.Get("ETag")
	if len(etag) < 10 || etag[0] != '"' || resp.Header.Get("Cache-Control") == "" {
		t.Errorf("caching headers: ETag %q Cache-Control %q", etag, resp.Header.Get("Cache-Control"))
	}

	if resp := serve(script, "GET", map[string]string{"If-None-Match": etag}); resp.StatusCode != 304 {
		t.Errorf("revalidation with the ETag: %d, want 304", resp.StatusCode)
	}
	if resp := serve(script, "GET", map[string]string{"If-None-Match": `"other"`}); resp.StatusCode != 200 {
		t.Errorf("another ETag: %d, want 200", resp.StatusCode)
	}
	resp = serve(script, "HEAD", nil)
	if body, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("Content-Length") != strconv.Itoa(len(fakeBundle)) {
		t.Errorf("HEAD: %d, %d bytes, Content-Length %q", resp.StatusCode, len(body), resp.Header.Get("Content-Length"))
	}
	if resp := serve(script, "POST", nil); resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}

	// Another content, another ETag.
	other, err := LoadClientScript(writeFile(t, "socket.io.js", fakeBundle+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if serve(other, "GET", nil).Header.Get("ETag") == etag {
		t.Error("different files share an ETag")
	}
}

func TestLoadClientScriptRefusesWhatCannotWork(t *testing.T) {
	dir := t.TempDir()
	for name, path := range map[string]string{
		"missing":   filepath.Join(dir, "nope.js"),
		"directory": dir,
		"empty":     writeFile(t, "empty.js", ""),
		"esm":       writeFile(t, "socket.io.esm.min.js", "export{a as io};"),
		"msgpack":   writeFile(t, "socket.io.msgpack.min.js", fakeBundle),
		"html":      writeFile(t, "socket.io.js", "\n<!doctype html><p>Not found</p>"),
		"huge":      writeFile(t, "big.js", strings.Repeat("x", MaxClientScriptSize+1)),
	} {
		if s, err := LoadClientScript(path); err == nil {
			t.Errorf("%s: loaded %d bytes, want an error", name, s.Size())
		}
	}
	if s, err := LoadClientScript(writeFile(t, "max.js", strings.Repeat("x", MaxClientScriptSize))); err != nil || s.Size() != MaxClientScriptSize {
		t.Errorf("a bundle of exactly the limit: %v", err)
	}
}

func TestNoClientScriptExplains(t *testing.T) {
	resp := serve(http.HandlerFunc(NoClientScript), "GET", nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 404 || !strings.Contains(string(body), "CLIENT_SCRIPT") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

// The source map a bundle names in its last sourceMappingURL comment is served beside the
// script when it is a plain file name next to the bundle; anything else serves none.
func TestClientScriptSourceMap(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	const mapBody = `{"version":3,"sources":["io.ts"],"mappings":"AAAA"}`
	write("socket.io.min.js.map", mapBody)
	script, err := LoadClientScript(write("socket.io.min.js", fakeBundle+"\n//# sourceMappingURL=socket.io.min.js.map\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := script.SourceMapPath(); got != "/socket.io/socket.io.min.js.map" {
		t.Fatalf("SourceMapPath = %q", got)
	}
	resp := serve(script.SourceMap(), "GET", nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != mapBody || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET the map: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp := serve(script.SourceMap(), "GET", map[string]string{"If-None-Match": resp.Header.Get("ETag")}); resp.StatusCode != 304 {
		t.Errorf("revalidation: %d, want 304", resp.StatusCode)
	}
	if resp := serve(script.SourceMap(), "POST", nil); resp.StatusCode != 405 {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}

	write("outside.map", mapBody)
	for name, comment := range map[string]string{
		"no comment":   "",
		"missing file": "//# sourceMappingURL=absent.js.map",
		"a path":       "//# sourceMappingURL=../outside.map",
		"absolute":     "//# sourceMappingURL=/tmp/outside.map",
		"a URL":        "//# sourceMappingURL=https://cdn.example/socket.io.min.js.map",
		"inline":       "//# sourceMappingURL=data:application/json;base64,e30=",
		"not a map":    "//# sourceMappingURL=socket.io.min.js",
		"a directory":  "//# sourceMappingURL=dir.map",
	} {
		if err := os.MkdirAll(filepath.Join(dir, "dir.map"), 0o755); err != nil {
			t.Fatal(err)
		}
		s, err := LoadClientScript(write("b.js", fakeBundle+"\n"+comment+"\n"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.SourceMapPath() != "" || s.SourceMap() != nil {
			t.Errorf("%s: a source map is served at %q", name, s.SourceMapPath())
		}
	}
}
