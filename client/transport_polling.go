package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/tomato-code/realtime/engineio/packet"
)

// pollingTransport is HTTP long-polling: a GET loop receives, POSTs send. Sends made while a
// POST is under way are queued and go out together in the next one, as socket.io-client does.
type pollingTransport struct {
	client       *http.Client
	header       http.Header
	url          string // with the session id, set once after the handshake
	writeTimeout time.Duration
	maxMessage   int64
	maxQueue     int
	maxPayload   int // the server's limit for one POST body

	ctx    context.Context // ends pending requests on close
	cancel context.CancelFunc
	body   bytes.Buffer // last GET body; only the read goroutine uses it

	mu       sync.Mutex
	pending  []byte // encoded packets waiting for a POST, separated by packet.Separator
	bounds   []int  // end offset of each packet in pending
	spare    []byte
	flushing bool
	closed   bool
	paused   bool
	stopped  chan struct{} // closed when run has returned
}

// openPolling performs the polling handshake and returns the transport and the packets of the
// handshake response, the open packet first.
func openPolling(ctx context.Context, cfg *dialConfig) (*pollingTransport, []packet.Packet, error) {
	tctx, cancel := context.WithCancel(context.Background())
	t := &pollingTransport{
		client:       cfg.httpClient,
		header:       cfg.header,
		url:          cfg.sessionURL(TransportPolling, ""),
		writeTimeout: cfg.writeTimeout,
		maxMessage:   cfg.maxMessageBytes,
		maxQueue:     cfg.maxWriteQueue,
		ctx:          tctx,
		cancel:       cancel,
		stopped:      make(chan struct{}),
	}
	body, err := t.get(ctx, &t.body)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	// The handshake's packets are handled later on the read goroutine: give them their own copy.
	body = bytes.Clone(body)
	var pkts []packet.Packet
	if err := packet.DecodePayload(body, func(p packet.Packet) error {
		pkts = append(pkts, p)
		return nil
	}); err != nil {
		cancel()
		return nil, nil, fmt.Errorf("socket.io client: handshake: %w", err)
	}
	return t, pkts, nil
}

// setSession switches the transport from the handshake URL to the session's.
func (t *pollingTransport) setSession(info openInfo) {
	t.url = t.url + "&sid=" + info.SID
	t.maxPayload = int(info.MaxPayload)
	if t.maxPayload <= 0 {
		t.maxPayload = 1e6
	}
}

func (t *pollingTransport) name() string { return TransportPolling }

// get performs one GET and returns the body, read into buf.
func (t *pollingTransport) get(ctx context.Context, buf *bytes.Buffer) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range t.header {
		req.Header[k] = vs
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("socket.io client: polling: %w", err)
	}
	defer resp.Body.Close()
	buf.Reset()
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, t.maxMessage+1))
	if err != nil {
		return nil, fmt.Errorf("socket.io client: polling: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, handshakeError(resp.StatusCode, buf.Bytes())
	}
	if n > t.maxMessage {
		return nil, fmt.Errorf("socket.io client: polling response larger than %d bytes", t.maxMessage)
	}
	return buf.Bytes(), nil
}

// handshakeError builds the error for an HTTP refusal, reading an Engine.IO error body if the
// server sent one.
func handshakeError(status int, body []byte) *HandshakeError {
	e := &HandshakeError{Status: status}
	var eb struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &eb) == nil {
		e.Code, e.Message = eb.Code, eb.Message
	} else {
		e.Message = string(bytes.TrimSpace(body[:min(len(body), 200)]))
	}
	return e
}

func (t *pollingTransport) run(receive func(packet.Packet) error) error {
	t.mu.Lock()
	stopped := t.stopped
	t.mu.Unlock()
	defer close(stopped)
	for {
		t.mu.Lock()
		paused, closed := t.paused, t.closed
		t.mu.Unlock()
		if closed {
			return ErrClosed
		}
		if paused {
			return errPaused
		}
		body, err := t.get(t.ctx, &t.body)
		if err != nil {
			if t.ctx.Err() != nil {
				return ErrClosed
			}
			return err
		}
		err = packet.DecodePayload(body, receive)
		var pe *parseError
		if errors.Is(err, packet.ErrInvalid) && !errors.As(err, &pe) {
			return &parseError{err}
		}
		if err != nil {
			return err
		}
		// A large response should not pin a large buffer.
		if t.body.Cap() > 64<<10 {
			t.body = bytes.Buffer{}
		}
	}
}

// send queues the packets and, unless another call is already posting, posts the queue until it
// is empty.
func (t *pollingTransport) send(pkts ...packet.Packet) error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return ErrClosed
	}
	size := 0
	for _, p := range pkts {
		size += 1 + packet.EncodedLen(p)
	}
	if len(t.pending)+size > t.maxQueue {
		t.mu.Unlock()
		return ErrWriteQueueFull
	}
	for _, p := range pkts {
		if len(t.pending) > 0 {
			t.pending = append(t.pending, packet.Separator)
		}
		t.pending = packet.AppendPacket(t.pending, p)
		t.bounds = append(t.bounds, len(t.pending))
	}
	if t.flushing {
		t.mu.Unlock()
		return nil
	}
	t.flushing = true
	var err error
	for len(t.pending) > 0 && err == nil {
		body := t.takeBody()
		t.mu.Unlock()
		err = t.post(body)
		t.mu.Lock()
		t.putBack(body)
	}
	if err != nil {
		t.pending, t.bounds = t.pending[:0], t.bounds[:0]
	}
	t.flushing = false
	t.mu.Unlock()
	return err
}

// takeBody removes from the queue the longest run of whole packets that fits the server's
// limit (at least one packet) and returns it. The queue continues in the spare buffer, so that
// appends during the POST never touch the body in flight. The caller holds mu.
func (t *pollingTransport) takeBody() []byte {
	k := 1
	for k < len(t.bounds) && t.bounds[k] <= t.maxPayload {
		k++
	}
	end := t.bounds[k-1]
	body := t.pending[:end]
	next := t.spare[:0]
	t.spare = nil
	if k < len(t.bounds) {
		next = append(next, t.pending[end+1:]...) // without the separator after body
		shift := end + 1
		nb := t.bounds[:0]
		for _, b := range t.bounds[k:] {
			nb = append(nb, b-shift)
		}
		t.bounds = nb
	} else {
		t.bounds = t.bounds[:0]
	}
	t.pending = next
	return body
}

// putBack keeps the buffer of a posted body for reuse. The caller holds mu.
func (t *pollingTransport) putBack(body []byte) {
	if cap(body) <= 64<<10 {
		t.spare = body[:0]
	}
}

func (t *pollingTransport) post(body []byte) error {
	ctx, cancel := context.WithTimeout(t.ctx, t.writeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, vs := range t.header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := t.client.Do(req)
	if err != nil {
		return fmt.Errorf("socket.io client: polling: %w", err)
	}
	var b [64]byte
	n, _ := io.ReadFull(resp.Body, b[:])
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return handshakeError(resp.StatusCode, b[:n])
	}
	return nil
}

// pause stops the GET loop after the request under way (the server ends it with a noop once
// the websocket probe succeeded) and waits until the loop has returned.
func (t *pollingTransport) pause(ctx context.Context) error {
	t.mu.Lock()
	t.paused = true
	stopped := t.stopped
	t.mu.Unlock()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// resume undoes a pause whose upgrade failed. It reports whether run had already returned, in
// which case the caller starts it again.
func (t *pollingTransport) resume() (restart bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.paused = false
	select {
	case <-t.stopped:
		t.stopped = make(chan struct{})
		return true
	default:
		return false
	}
}

func (t *pollingTransport) close(graceful bool) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	t.mu.Unlock()
	if graceful && !t.isPaused() {
		// Tell the server, as socket.io-client does, so it need not wait for a ping timeout.
		ctx, cancel := context.WithTimeout(t.ctx, time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader([]byte{byte(packet.Close)}))
		if err == nil {
			req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
			if resp, err := t.client.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
				resp.Body.Close()
			}
		}
		cancel()
	}
	t.cancel()
}

func (t *pollingTransport) isPaused() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.paused
}
