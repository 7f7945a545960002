package devpage

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// ClientScriptPath is where Socket.IO servers serve the browser build of socket.io-client, and
// where the page looks for it first.
const ClientScriptPath = "/socket.io/socket.io.js"

// MaxClientScriptSize bounds what LoadClientScript reads: the browser bundles of socket.io-client
// 4.x weigh 50 to 150 KB, so anything much larger is the wrong file (or a device that never ends).
const MaxClientScriptSize = 4 << 20

// MaxSourceMapSize bounds the source map LoadClientScript reads beside the bundle (those of
// socket.io-client 4.x weigh 200 to 500 KB).
const MaxSourceMapSize = 16 << 20

// ClientScript is a socket.io-client browser bundle read once from disk, served from memory,
// with its source map when one lies beside it.
type ClientScript struct {
	body    []byte
	etag    string
	modTime time.Time

	sourceMap *sourceMap // nil: none was found
}

// sourceMap is the file a bundle's sourceMappingURL comment names.
type sourceMap struct {
	name    string // the file's name, as the comment gives it
	body    []byte
	etag    string
	modTime time.Time
}

// LoadClientScript reads the socket.io-client browser bundle at path, typically
// node_modules/socket.io-client/dist/socket.io.min.js after `npm install socket.io-client`.
// It refuses what cannot work as the page's classic <script>: a missing, empty or oversized
// file, a directory, and the ES module and msgpack builds.
func LoadClientScript(path string) (*ClientScript, error) {
	base := filepath.Base(path)
	if strings.Contains(base, ".esm.") || strings.HasSuffix(base, ".mjs") {
		return nil, fmt.Errorf("%s is the ES module build; use dist/socket.io.min.js (it defines the global io)", path)
	}
	if strings.Contains(base, "msgpack") {
		return nil, fmt.Errorf("%s is the msgpack build, which the service does not speak; use dist/socket.io.min.js", path)
	}
	body, modTime, err := readRegularFile(path, MaxClientScriptSize)
	if err != nil {
		return nil, err
	}
	switch {
	case len(body) == 0:
		return nil, fmt.Errorf("%s is empty", path)
	case len(body) > MaxClientScriptSize:
		return nil, fmt.Errorf("%s is larger than %d bytes: not a socket.io-client bundle", path, MaxClientScriptSize)
	case bytes.HasPrefix(bytes.TrimSpace(body), []byte("<")):
		return nil, errors.New(path + " is markup, not JavaScript")
	}
	return &ClientScript{
		body:      body,
		etag:      etagOf(body),
		modTime:   modTime,
		sourceMap: loadSourceMap(filepath.Dir(path), body),
	}, nil
}

// readRegularFile reads the regular file at path, up to one byte more than max, so that the
// caller can tell an oversized file. Stat comes before opening: opening a named pipe would wait
// for a writer, possibly forever.
func readRegularFile(path string, max int64) ([]byte, time.Time, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, time.Time{}, err
	}
	if !info.Mode().IsRegular() {
		return nil, time.Time{}, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, max+1))
	return body, info.ModTime(), err
}

func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// loadSourceMap reads the source map that the bundle's last sourceMappingURL comment names,
// when it is a plain file name (the npm package's dist/socket.io.min.js names
// socket.io.min.js.map, beside it). A browser asks for it relative to the script's address,
// so only a name without a directory can be served there. Anything else (no comment, a
// path or URL, a data: URL, a missing, irregular or oversized file) means no source map: the
// script works without one.
func loadSourceMap(dir string, bundle []byte) *sourceMap {
	const marker = "//# sourceMappingURL="
	i := bytes.LastIndex(bundle, []byte(marker))
	if i < 0 {
		return nil
	}
	name, _, _ := strings.Cut(string(bundle[i+len(marker):]), "\n")
	name = strings.TrimSpace(name)
	if !strings.HasSuffix(name, ".map") || strings.ContainsAny(name, "/\\:?#%") || strings.HasPrefix(name, ".") {
		return nil
	}
	body, modTime, err := readRegularFile(filepath.Join(dir, name), MaxSourceMapSize)
	if err != nil || len(body) == 0 || len(body) > MaxSourceMapSize {
		return nil
	}
	return &sourceMap{name: name, body: body, etag: etagOf(body), modTime: modTime}
}

// SourceMapPath returns the address at which the bundle's source map is served, beside
// ClientScriptPath, or "" when the bundle has none beside it.
func (c *ClientScript) SourceMapPath() string {
	if c.sourceMap == nil {
		return ""
	}
	return path.Join(path.Dir(ClientScriptPath), c.sourceMap.name)
}

// SourceMap returns the handler of SourceMapPath, nil when there is none. Browsers ask for it
// only while their developer tools are open; without it they print an error there.
func (c *ClientScript) SourceMap() http.Handler {
	if c.sourceMap == nil {
		return nil
	}
	return c.sourceMap
}

// ServeHTTP answers GET and HEAD with the source map, cached as the script is.
func (m *sourceMap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	serveFile(w, r, "application/json", m.etag, m.modTime, m.body)
}

// Size is the length of the script in bytes.
func (c *ClientScript) Size() int { return len(c.body) }

// ServeHTTP answers GET and HEAD with the script. Browsers revalidate it on every use
// (no-cache) and get a 304 while the ETag matches: the file is cheap to check and may change
// with the next deployment, when CLIENT_SCRIPT points at a newer bundle.
func (c *ClientScript) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	serveFile(w, r, "application/javascript; charset=utf-8", c.etag, c.modTime, c.body)
}

// serveFile answers GET and HEAD with a file held in memory, revalidated by its ETag.
func serveFile(w http.ResponseWriter, r *http.Request, contentType, etag string, modTime time.Time, body []byte) {
	if !getOrHead(w, r) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "public, no-cache")
	h.Set("ETag", etag)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", modTime, bytes.NewReader(body))
}

// NoClientScript answers ClientScriptPath when CLIENT_SCRIPT is not set: a 404 that tells
// whoever opens the address how to serve the client there.
func NoClientScript(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, `{"message":"Not found: set CLIENT_SCRIPT to a socket.io-client browser bundle (node_modules/socket.io-client/dist/socket.io.min.js) to serve it here"}`+"\n")
}
