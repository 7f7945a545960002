// Package httpsend is the load tool's HTTP/1.1 client for the internal API: one keep-alive
// connection per Client, requests sent as pre-built bytes (patched in place between requests),
// responses read into a fixed buffer. It does just what the load tool needs, so that the API
// side of a run costs the client little next to what it costs the server.
package httpsend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// Client is one keep-alive connection to a server. It is not safe for concurrent use.
type Client struct {
	addr    string
	conn    net.Conn
	buf     []byte
	timeout time.Duration
}

// ErrResponse reports a response the client could not parse.
var ErrResponse = errors.New("httpsend: malformed response")

// NewClient returns a client for addr (host:port); it connects on the first request.
// timeout bounds each request (write and full response).
func NewClient(addr string, timeout time.Duration) *Client {
	return &Client{addr: addr, buf: make([]byte, 16<<10), timeout: timeout}
}

// Close closes the connection.
func (c *Client) Close() error {
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	return err
}

// Do sends the complete request req and reads the response, returning its status code and a
// prefix of its body (valid until the next call). When the server had closed an idle
// connection (it answered nothing), Do reconnects and sends once more.
func (c *Client) Do(ctx context.Context, req []byte) (status int, body []byte, err error) {
	for attempt := 0; ; attempt++ {
		fresh := false
		if c.conn == nil {
			var d net.Dialer
			conn, err := d.DialContext(ctx, "tcp", c.addr)
			if err != nil {
				return 0, nil, err
			}
			c.conn, fresh = conn, true
		}
		status, body, answered, err := c.roundTrip(ctx, req)
		if err == nil {
			return status, body, nil
		}
		c.Close()
		if answered || fresh || attempt > 0 || ctx.Err() != nil {
			return 0, nil, err
		}
	}
}

// roundTrip writes req and reads one response. answered reports whether any byte of a
// response arrived, which tells a closed idle connection from a failed request.
func (c *Client) roundTrip(ctx context.Context, req []byte) (status int, body []byte, answered bool, err error) {
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = c.conn.SetDeadline(deadline)
	if _, err := c.conn.Write(req); err != nil {
		return 0, nil, false, err
	}
	n := 0
	headEnd := -1
	for headEnd < 0 {
		if n == len(c.buf) {
			return 0, nil, true, fmt.Errorf("%w: head larger than %d bytes", ErrResponse, len(c.buf))
		}
		m, err := c.conn.Read(c.buf[n:])
		n += m
		if err != nil {
			if err == io.EOF && n == 0 {
				return 0, nil, false, io.ErrUnexpectedEOF
			}
			return 0, nil, n > 0, err
		}
		headEnd = bytes.Index(c.buf[:n], []byte("\r\n\r\n"))
	}
	head := c.buf[:headEnd]
	status, length, chunked, closeAfter, err := parseHead(head)
	if err != nil {
		return 0, nil, true, err
	}
	switch {
	case chunked:
		body, err = c.readChunked(n, headEnd+4)
	case length >= 0:
		body, err = c.readLength(n, headEnd+4, length)
	default:
		return 0, nil, true, fmt.Errorf("%w: no Content-Length", ErrResponse)
	}
	if err != nil {
		return 0, nil, true, err
	}
	if closeAfter {
		c.Close()
	}
	return status, body, true, nil
}

// readLength reads the rest of a body of length bytes whose first n-start bytes are in buf at
// start. It keeps at most the buffer's worth of the body.
func (c *Client) readLength(n, start int, length int64) ([]byte, error) {
	have := int64(n - start)
	if have > length {
		return nil, fmt.Errorf("%w: more bytes than Content-Length", ErrResponse)
	}
	for have < length {
		if n == len(c.buf) {
			n = start // keep the body's first part, discard the rest
		}
		want := min(int64(len(c.buf)-n), length-have)
		m, err := c.conn.Read(c.buf[n : n+int(want)])
		n += m
		have += int64(m)
		if err != nil && have < length {
			return nil, err
		}
	}
	return c.buf[start:n], nil
}

// readChunked reads a chunked body to its end, returning a prefix of it.
func (c *Client) readChunked(n, start int) ([]byte, error) {
	// Chunked bodies only come from servers that stream; the internal API answers small JSON
	// objects, so the whole body is expected to fit the buffer.
	for {
		if body, ok, err := dechunk(c.buf[start:n]); err != nil || ok {
			return body, err
		}
		if n == len(c.buf) {
			return nil, fmt.Errorf("%w: chunked body larger than %d bytes", ErrResponse, len(c.buf))
		}
		m, err := c.conn.Read(c.buf[n:])
		n += m
		if err != nil {
			return nil, err
		}
	}
}

// dechunk decodes a complete chunked body in place; ok is false while it is incomplete, and
// then b is left as it was, so that more bytes can be appended and dechunk called again.
func dechunk(b []byte) (body []byte, ok bool, err error) {
	if ok, err := walkChunks(b, nil); !ok || err != nil {
		return nil, ok, err
	}
	out := b[:0]
	walkChunks(b, func(chunk []byte) { out = append(out, chunk...) })
	return out, true, nil
}

// walkChunks parses the chunked body b, calling fn (when not nil) with each chunk's data, and
// reports whether the body is complete. The data passed to fn never lies before what fn was
// already given, so fn may compact b in place.
func walkChunks(b []byte, fn func([]byte)) (complete bool, err error) {
	for {
		i := bytes.Index(b, []byte("\r\n"))
		if i < 0 {
			return false, nil
		}
		sizeField, _, _ := bytes.Cut(b[:i], []byte(";"))
		size, err := strconv.ParseInt(string(bytes.TrimSpace(sizeField)), 16, 64)
		if err != nil || size < 0 {
			return false, fmt.Errorf("%w: bad chunk size", ErrResponse)
		}
		b = b[i+2:]
		if size == 0 {
			// Trailers end with an empty line.
			return bytes.HasPrefix(b, []byte("\r\n")) || bytes.Contains(b, []byte("\r\n\r\n")), nil
		}
		if int64(len(b)) < size+2 {
			return false, nil
		}
		if fn != nil {
			fn(b[:size])
		}
		b = b[size+2:]
	}
}

// parseHead reads the status line and the headers that frame the body.
func parseHead(head []byte) (status int, length int64, chunked, closeAfter bool, err error) {
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, 0, false, false, fmt.Errorf("%w: status line %q", ErrResponse, line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, 0, false, false, fmt.Errorf("%w: status line %q", ErrResponse, line)
	}
	length = -1
	for len(rest) > 0 {
		var h []byte
		h, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length, err = strconv.ParseInt(string(value), 10, 64)
			if err != nil || length < 0 {
				return 0, 0, false, false, fmt.Errorf("%w: Content-Length %q", ErrResponse, value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			closeAfter = bytes.EqualFold(value, []byte("close"))
		}
	}
	return status, length, chunked, closeAfter, nil
}
