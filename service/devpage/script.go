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

// ClientScript is a socket.io-client browser bundle read once from disk, served from memory.
type ClientScript struct {
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
	// Stat before opening: opening a named pipe would wait for a writer, possibly forever.
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, MaxClientScriptSize+1))
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
	sum := sha256.Sum256(body)
	return &ClientScript{
		body:    body,
		etag:    `"` + hex.EncodeToString(sum[:12]) + `"`,
		modTime: info.ModTime(),
	}, nil
}

// Size is the length of the script in bytes.
func (c *ClientScript) Size() int { return len(c.body) }

// ServeHTTP answers GET and HEAD with the script. Browsers revalidate it on every use
// (no-cache) and get a 304 while the ETag matches: the file is cheap to check and may change
// with the next deployment, when CLIENT_SCRIPT points at a newer bundle.
func (c *ClientScript) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !getOrHead(w, r) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, no-cache")
	h.Set("ETag", c.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", c.modTime, bytes.NewReader(c.body))
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
