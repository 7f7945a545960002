package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Transport names, as Engine.IO writes them.
const (
	TransportWebSocket = "websocket"
	TransportPolling   = "polling"
)

// Dialer opens connections to a Socket.IO server. Its fields are read when Dial starts and must
// not change while it runs; one Dialer may dial any number of connections concurrently. The zero
// value is ready to use: websocket, path /socket.io/. A Dialer must not be copied after first use.
type Dialer struct {
	// Transport is the transport to open: TransportWebSocket (the default) or TransportPolling.
	Transport string
	// Upgrade upgrades a polling connection to websocket when the server offers it, as
	// socket.io-client does by default. Ignored for websocket connections.
	Upgrade bool
	// Path is the Engine.IO path on the server. Defaults to "/socket.io/".
	Path string
	// Query holds extra query parameters sent with every request.
	Query url.Values
	// Header holds extra HTTP headers sent with the handshake and, for polling, every request.
	Header http.Header
	// LocalAddr is the local address to dial from, e.g. &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}:
	// load tests spread connections over several loopback source addresses to get past the
	// ephemeral port range of one. Nil lets the system choose.
	LocalAddr net.Addr
	// HTTPClient carries polling requests. Defaults to a client of the Dialer's own whose
	// connections dial from LocalAddr. It is not used for websocket.
	HTTPClient *http.Client
	// HandshakeTimeout bounds the Engine.IO handshake (TCP connect, HTTP upgrade or first poll,
	// open packet) when the context passed to Dial has no deadline, and the websocket upgrade
	// of a polling connection. Defaults to 20 s, socket.io-client's connection timeout.
	HandshakeTimeout time.Duration
	// WriteTimeout bounds each websocket write and each polling POST. Defaults to 10 s.
	WriteTimeout time.Duration
	// MaxMessageBytes bounds what the client accepts from the server: one websocket message or
	// one polling response body. A larger one closes the connection with a transport error.
	// Defaults to 16 MiB.
	MaxMessageBytes int64
	// MaxWriteQueue bounds the bytes waiting for a polling POST; an emit beyond it fails with
	// ErrWriteQueueFull. Defaults to 16 MiB.
	MaxWriteQueue int
	// ReadBufferSize is the size of the websocket read buffer. Defaults to 4096.
	ReadBufferSize int
	// OnRawMessage, when set, sees every Engine.IO message before it is decoded: data is the
	// Socket.IO packet text (e.g. `2["event",{...}]`) or a binary attachment. Returning true
	// means "handled": the client does not decode it. The load tool counts and timestamps
	// messages this way without decoding their arguments. data is only valid during the call,
	// which runs on the connection's read goroutine. A binary packet arrives as its text
	// followed by one message per attachment: handle all of them or none.
	OnRawMessage func(data []byte, binary bool) (handled bool)

	httpMu     sync.Mutex
	httpClient *http.Client
}

// dialConfig is a Dialer with its defaults applied, fixed for one connection.
type dialConfig struct {
	transport        string
	upgrade          bool
	base             *url.URL // scheme http(s), host, path; query without EIO/transport/sid
	header           http.Header
	localAddr        net.Addr
	httpClient       *http.Client
	handshakeTimeout time.Duration
	writeTimeout     time.Duration
	maxMessageBytes  int64
	maxWriteQueue    int
	readBufferSize   int
	onRaw            func([]byte, bool) bool
}

func (d *Dialer) config(rawURL string) (*dialConfig, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", fmt.Errorf("socket.io client: %w", err)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "http"
	case "https", "wss":
		u.Scheme = "https"
	default:
		return nil, "", fmt.Errorf("socket.io client: unsupported URL scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, "", errors.New("socket.io client: URL has no host")
	}
	// As with socket.io-client, the URL's path names the namespace and Path the endpoint.
	nsp := u.Path
	if nsp == "" {
		nsp = "/"
	}
	path := d.Path
	if path == "" {
		path = "/socket.io/"
	}
	q := u.Query()
	for k, vs := range d.Query {
		q[k] = append([]string(nil), vs...)
	}
	q.Del("EIO")
	q.Del("transport")
	q.Del("sid")
	base := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: path, RawQuery: q.Encode()}

	c := &dialConfig{
		transport:        d.Transport,
		upgrade:          d.Upgrade,
		base:             base,
		header:           d.Header.Clone(),
		localAddr:        d.LocalAddr,
		httpClient:       d.HTTPClient,
		handshakeTimeout: d.HandshakeTimeout,
		writeTimeout:     d.WriteTimeout,
		maxMessageBytes:  d.MaxMessageBytes,
		maxWriteQueue:    d.MaxWriteQueue,
		readBufferSize:   d.ReadBufferSize,
		onRaw:            d.OnRawMessage,
	}
	if c.transport == "" {
		c.transport = TransportWebSocket
	}
	if c.transport != TransportWebSocket && c.transport != TransportPolling {
		return nil, "", fmt.Errorf("socket.io client: unknown transport %q", c.transport)
	}
	if c.header == nil {
		c.header = http.Header{}
	}
	if c.handshakeTimeout <= 0 {
		c.handshakeTimeout = 20 * time.Second
	}
	if c.writeTimeout <= 0 {
		c.writeTimeout = 10 * time.Second
	}
	if c.maxMessageBytes <= 0 {
		c.maxMessageBytes = 16 << 20
	}
	if c.maxWriteQueue <= 0 {
		c.maxWriteQueue = 16 << 20
	}
	if c.readBufferSize <= 0 {
		c.readBufferSize = 4096
	}
	if c.httpClient == nil && c.transport == TransportPolling {
		c.httpClient = d.defaultHTTPClient()
	}
	return c, nsp, nil
}

// defaultHTTPClient returns the Dialer's own HTTP client, built once so that the polling
// connections of one Dialer share a pool of keep-alive connections.
func (d *Dialer) defaultHTTPClient() *http.Client {
	d.httpMu.Lock()
	defer d.httpMu.Unlock()
	if d.httpClient == nil {
		nd := &net.Dialer{LocalAddr: d.LocalAddr, KeepAlive: 30 * time.Second}
		d.httpClient = &http.Client{Transport: &http.Transport{
			DialContext:         nd.DialContext,
			MaxIdleConnsPerHost: 1024,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	return d.httpClient
}

// CloseIdleConnections closes the idle keep-alive connections of the Dialer's own polling HTTP
// client. Call it when done with a Dialer that opened polling connections.
func (d *Dialer) CloseIdleConnections() {
	d.httpMu.Lock()
	c := d.httpClient
	d.httpMu.Unlock()
	if c != nil {
		c.CloseIdleConnections()
	}
}

// Dial opens an Engine.IO connection to the server at rawURL (http, https, ws or wss; the path
// of the URL is ignored, see Dialer.Path) and returns once the server's open packet arrived.
// Connect namespaces on it with Conn.Socket and Socket.Connect.
func (d *Dialer) Dial(ctx context.Context, rawURL string) (*Conn, error) {
	cfg, _, err := d.config(rawURL)
	if err != nil {
		return nil, err
	}
	return dial(ctx, cfg)
}

// Connect dials rawURL and connects to the namespace named by its path ("/" when it has none)
// with the given auth payload (nil for none). The returned socket owns the connection:
// Socket.Disconnect closes it. Register handlers that must see the very first events with
// Conn.Socket, Socket.On and Socket.Connect instead.
func (d *Dialer) Connect(ctx context.Context, rawURL string, auth any) (*Socket, error) {
	cfg, nsp, err := d.config(rawURL)
	if err != nil {
		return nil, err
	}
	c, err := dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := c.Socket(nsp)
	s.ownsConn = true
	if err := s.Connect(ctx, auth); err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

// DefaultDialer is the Dialer used by Dial and Connect.
var DefaultDialer = &Dialer{}

// Dial opens a websocket connection with DefaultDialer. See Dialer.Dial.
func Dial(ctx context.Context, rawURL string) (*Conn, error) { return DefaultDialer.Dial(ctx, rawURL) }

// Connect connects to a namespace over websocket with DefaultDialer. See Dialer.Connect.
func Connect(ctx context.Context, rawURL string, auth any) (*Socket, error) {
	return DefaultDialer.Connect(ctx, rawURL, auth)
}
