package lane

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// response is the ResponseWriter of the lane's requests. It keeps the whole answer, which
// leaves in one write once the handler returned: the status line, the handler's headers as
// they are then, Content-Length, and Date unless the handler set one. It cannot flush or
// hijack; an informational (1xx) status is not sent.
type response struct {
	c      *conn
	header http.Header
	status int
	body   []byte
	head   bool // a HEAD request: the answer has no body
	// deadline is the handler's read deadline, applied to the connection only when a read
	// of the body needs it.
	deadline    time.Time
	deadlineSet bool
}

func (w *response) reset(req *http.Request) {
	clear(w.header)
	w.status = 0
	w.body = w.body[:0]
	w.head = req.Method == http.MethodHead
	w.deadlineSet = false
}

// Header returns the answer's header map, reused from one request to the next.
func (w *response) Header() http.Header { return w.header }

// WriteHeader records the status; the first call counts, as in net/http.
func (w *response) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.status == 0 && code >= 200 {
		w.status = code
	}
}

// Write adds p to the answer's body.
func (w *response) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.body = append(w.body, p...)
	return len(p), nil
}

// SetReadDeadline bounds the reading of the request's body, as net/http's does; the zero
// time lifts the bound. It is what http.ResponseController finds.
func (w *response) SetReadDeadline(t time.Time) error {
	w.deadline, w.deadlineSet = t, true
	return nil
}

// closeAsked reports a "Connection: close" set by the handler.
func (w *response) closeAsked() bool {
	for _, v := range w.header["Connection"] {
		if hasClose([]byte(v)) {
			return true
		}
	}
	return false
}

func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}

// answer writes the answer to req in one write; keep=false adds "Connection: close". It
// reports whether the write went through.
func (c *conn) answer(req *http.Request, keep bool) bool {
	w := &c.rw
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	out := append(c.out[:0], "HTTP/1.1 "...)
	out = strconv.AppendInt(out, int64(status), 10)
	out = append(out, ' ')
	if text := http.StatusText(status); text != "" {
		out = append(out, text...)
	} else {
		out = append(out, "status code "...)
		out = strconv.AppendInt(out, int64(status), 10)
	}
	out = append(out, "\r\n"...)

	keys := c.keys[:0]
	for k := range w.header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == "Content-Length" || k == "Transfer-Encoding" || k == "Connection" || !validName(k) {
			continue
		}
		for _, v := range w.header[k] {
			out = appendField(out, k, v)
		}
	}
	clear(keys)
	c.keys = keys[:0]
	if _, ok := w.header["Date"]; !ok {
		if sec := c.now.Unix(); sec != c.dateAt || c.date == nil {
			c.date, c.dateAt = c.now.UTC().AppendFormat(c.date[:0], http.TimeFormat), sec
		}
		out = append(out, "Date: "...)
		out = append(out, c.date...)
		out = append(out, "\r\n"...)
	}
	if bodyAllowed(status) {
		if _, ok := w.header["Content-Type"]; !ok && len(w.body) > 0 {
			out = appendField(out, "Content-Type", http.DetectContentType(w.body))
		}
		out = append(out, "Content-Length: "...)
		out = strconv.AppendInt(out, int64(len(w.body)), 10)
		out = append(out, "\r\n"...)
	}
	if !keep {
		out = append(out, "Connection: close\r\n"...)
	}
	out = append(out, "\r\n"...)
	if !w.head {
		out = append(out, w.body...)
	}

	want := c.now.Add(c.lane.cfg.RequestTimeout)
	if c.wdl.IsZero() || want.Sub(c.wdl) > c.lane.writeSlack {
		_ = c.nc.SetWriteDeadline(want)
		c.wdl = want
	}
	_, err := c.io.Write(out)
	c.out = out[:0]
	if cap(c.out) > maxKeptBuffer {
		c.out = nil
	}
	if cap(w.body) > maxKeptBuffer {
		w.body = nil
	}
	return err == nil
}

// appendField appends a header line; line breaks in v become spaces, as net/http writes them.
func appendField(out []byte, k, v string) []byte {
	out = append(out, k...)
	out = append(out, ": "...)
	start := len(out)
	for i := range len(v) {
		b := v[i]
		if b == '\r' || b == '\n' {
			b = ' '
		}
		out = append(out, b)
	}
	val := trimOWS(out[start:])
	out = append(out[:start], val...)
	return append(out, "\r\n"...)
}

// validName reports a header name net/http would write (it skips the others).
func validName(k string) bool {
	if k == "" {
		return false
	}
	for i := range len(k) {
		if !isToken[k[i]] {
			return false
		}
	}
	return true
}
