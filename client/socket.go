package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tomato-code/realtime/socketio/parser"
)

// EventHandler handles one event, as socketio.EventHandler does on the server. args are the
// event's arguments; ack is nil unless the server asked for an acknowledgement, and then sends
// it (once; later calls do nothing).
type EventHandler func(args Args, ack Ack)

// AnyHandler handles the events that have no EventHandler of their own.
type AnyHandler func(event string, args Args, ack Ack)

// Ack sends an acknowledgement with the given arguments, encoded as Socket.Emit encodes
// its arguments.
type Ack func(args ...any) error

type socketState int

const (
	stateIdle socketState = iota
	stateConnecting
	stateConnected
	stateEnded
)

// ackResult is what a pending EmitWithAck receives.
type ackResult struct {
	args Args
}

// Socket is the connection of one namespace. Its methods are safe for concurrent use.
//
// Handlers run on the connection's read goroutine, one at a time and in the order the events
// arrived, for all namespaces of the connection. A handler that blocks holds up every later
// message of the connection, including the acknowledgements that EmitWithAck waits for: wait
// for acknowledgements in another goroutine.
type Socket struct {
	conn     *Conn
	nsp      string
	ownsConn bool // made by Dialer.Connect: Disconnect closes the connection too

	mu        sync.Mutex
	state     socketState
	id        string
	handlers  map[string]EventHandler
	any       AnyHandler
	connected chan error // receives the outcome of Connect
	acks      map[int64]chan ackResult
	nextID    int64
	done      chan struct{}
	reason    DisconnectReason
	err       error
}

func newSocket(c *Conn, nsp string) *Socket {
	return &Socket{
		conn:      c,
		nsp:       nsp,
		handlers:  make(map[string]EventHandler),
		acks:      make(map[int64]chan ackResult),
		connected: make(chan error, 1),
		done:      make(chan struct{}),
	}
}

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() string { return s.nsp }

// Conn returns the connection that carries the socket.
func (s *Socket) Conn() *Conn { return s.conn }

// ID returns the socket id the server assigned, "" before the socket connected.
func (s *Socket) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// Connected reports whether the socket is connected to its namespace.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateConnected
}

// Done is closed when the socket has disconnected (or its connection attempt failed).
func (s *Socket) Done() <-chan struct{} { return s.done }

// Reason returns why the socket disconnected, "" while it has not.
func (s *Socket) Reason() DisconnectReason {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

// Err returns nil while the socket has not ended; after, the *ConnectError that refused it or a
// *CloseError with the disconnect reason.
func (s *Socket) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// On sets the handler of event, replacing any previous one; a nil h removes it. Set handlers
// before Connect to be sure to see the events the server sends as the socket connects.
func (s *Socket) On(event string, h EventHandler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h == nil {
		delete(s.handlers, event)
	} else {
		s.handlers[event] = h
	}
}

// OnAny sets the handler of the events that have no handler of their own.
func (s *Socket) OnAny(h AnyHandler) {
	s.mu.Lock()
	s.any = h
	s.mu.Unlock()
}

// Connect joins the namespace, sending auth (any JSON value, typically an object such as
// map[string]any{"token": t}; nil for none), and waits for the server's answer. A refusal is a
// *ConnectError carrying the server's message and data. When ctx ends first, the attempt is
// abandoned and Connect returns ctx's error.
func (s *Socket) Connect(ctx context.Context, auth any) error {
	var data json.RawMessage
	if auth != nil {
		var err error
		if data, err = marshalAuth(auth); err != nil {
			return fmt.Errorf("socket.io client: auth: %w", err)
		}
	}
	s.mu.Lock()
	switch s.state {
	case stateConnecting, stateConnected:
		s.mu.Unlock()
		return errors.New("socket.io client: socket already connected or connecting")
	case stateEnded:
		err := s.err
		s.mu.Unlock()
		if err == nil {
			err = ErrClosed
		}
		return err
	}
	s.state = stateConnecting
	s.mu.Unlock()

	text := parser.AppendText(nil, &parser.Packet{Type: parser.Connect, Namespace: s.nsp, ID: parser.NoID, Data: data})
	if err := s.conn.eng.sendMessage(text, nil); err != nil {
		s.end(ReasonTransportError, err, nil)
		s.conn.drop(s)
		return err
	}
	select {
	case err := <-s.connected:
		if err != nil {
			s.conn.drop(s)
			if s.ownsConn {
				s.conn.Close()
			}
		}
		return err
	case <-ctx.Done():
		// Tell the server we are not interested, in case its answer is still on the way.
		_ = s.sendPacket(&parser.Packet{Type: parser.Disconnect, Namespace: s.nsp, ID: parser.NoID})
		s.end(ReasonClientDisconnect, ctx.Err(), nil)
		s.conn.drop(s)
		return ctx.Err()
	}
}

// Emit sends an event with the given arguments, encoded by the parser's value encoder
// (parser.AppendValue): []byte travels as a binary attachment (also inside map[string]any and
// []any), json.RawMessage is sent as it is (it must be valid JSON), a parser.RawValue (see
// Args.Value) brings its attachments along, other values go through encoding/json. Emit returns once the packet is written (websocket) or queued
// for the next POST (polling).
func (s *Socket) Emit(event string, args ...any) error {
	return s.emit(event, args, parser.NoID)
}

// EmitWithAck sends an event and waits for the server's acknowledgement, returning its
// arguments. It returns ctx's error when ctx ends first, and an error when the socket
// disconnects first.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	ch := make(chan ackResult, 1)
	s.mu.Lock()
	if s.state != stateConnected {
		s.mu.Unlock()
		return Args{}, ErrNotConnected
	}
	id := s.nextID
	s.nextID++
	s.acks[id] = ch
	s.mu.Unlock()
	if err := s.emit(event, args, id); err != nil {
		s.forgetAck(id)
		return Args{}, err
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return Args{}, s.Err()
		}
		return r.args, nil
	case <-ctx.Done():
		s.forgetAck(id)
		return Args{}, ctx.Err()
	}
}

func (s *Socket) forgetAck(id int64) {
	s.mu.Lock()
	delete(s.acks, id)
	s.mu.Unlock()
}

func (s *Socket) emit(event string, args []any, id int64) error {
	if parser.IsReserved(event) {
		return ErrReservedEvent
	}
	if !s.Connected() {
		return ErrNotConnected
	}
	p := &parser.Packet{Type: parser.Event, Namespace: s.nsp, ID: id}
	var err error
	p.Data, p.Attachments, err = encodeArgs(&event, args)
	if err != nil {
		return err
	}
	return s.sendPacket(p)
}

func (s *Socket) sendPacket(p *parser.Packet) error {
	text := parser.AppendText(make([]byte, 0, parser.TextLen(p)), p)
	return s.conn.eng.sendMessage(text, p.Attachments)
}

// Disconnect leaves the namespace (DISCONNECT packet) with reason "io client disconnect". A
// socket made by Dialer.Connect also closes its connection.
func (s *Socket) Disconnect() error {
	s.mu.Lock()
	wasConnected := s.state == stateConnected || s.state == stateConnecting
	s.mu.Unlock()
	var err error
	if wasConnected {
		err = s.sendPacket(&parser.Packet{Type: parser.Disconnect, Namespace: s.nsp, ID: parser.NoID})
		if errors.Is(err, ErrClosed) {
			err = nil
		}
	}
	s.end(ReasonClientDisconnect, nil, nil)
	s.conn.drop(s)
	if s.ownsConn {
		s.conn.Close()
	}
	return err
}

func (s *Socket) ended() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateEnded
}

// end moves the socket to its final state once: pending acknowledgements fail, a pending
// Connect returns, Done closes. refused is the server's refusal, if that is the cause.
func (s *Socket) end(reason DisconnectReason, cause error, refused *ConnectError) {
	s.mu.Lock()
	if s.state == stateEnded {
		s.mu.Unlock()
		return
	}
	wasConnecting := s.state == stateConnecting
	s.state = stateEnded
	if refused != nil {
		s.err = refused
	} else {
		s.reason = reason
		s.err = &CloseError{Reason: reason, Err: cause}
	}
	acks := s.acks
	s.acks = nil
	s.mu.Unlock()
	for _, ch := range acks {
		close(ch)
	}
	if wasConnecting {
		if refused != nil {
			s.connected <- refused
		} else {
			s.connected <- &CloseError{Reason: reason, Err: cause}
		}
	}
	close(s.done)
}

// onPacket handles a packet of this namespace, on the read goroutine.
func (s *Socket) onPacket(p *parser.Packet) {
	switch p.Type {
	case parser.Connect:
		var body struct {
			SID string `json:"sid"`
		}
		_ = json.Unmarshal(p.Data, &body)
		s.mu.Lock()
		if s.state != stateConnecting {
			s.mu.Unlock()
			return
		}
		if body.SID == "" {
			s.mu.Unlock()
			// socket.io-client reads a CONNECT without sid as a v2 server.
			s.end("", nil, &ConnectError{Message: "CONNECT without sid: not a Socket.IO v3/v4 server"})
			return
		}
		s.id = body.SID
		s.state = stateConnected
		s.mu.Unlock()
		s.connected <- nil
	case parser.ConnectError:
		s.end("", nil, connectError(p.Data))
	case parser.Disconnect:
		s.end(ReasonServerDisconnect, nil, nil)
		s.conn.drop(s)
		if s.ownsConn {
			s.conn.Close()
		}
	case parser.Event, parser.BinaryEvent:
		s.onEvent(p)
	case parser.Ack, parser.BinaryAck:
		s.mu.Lock()
		ch := s.acks[p.ID]
		delete(s.acks, p.ID)
		s.mu.Unlock()
		if ch != nil {
			args, err := newArgs(p.Data, p.Attachments, false)
			if err != nil {
				s.conn.eng.close(ReasonParseError, err)
				return
			}
			ch <- ackResult{args: args}
		}
	}
}

func (s *Socket) onEvent(p *parser.Packet) {
	event, err := parser.EventName(p.Data)
	if err != nil {
		s.conn.eng.close(ReasonParseError, err)
		return
	}
	s.mu.Lock()
	connected := s.state == stateConnected
	h := s.handlers[event]
	anyH := s.any
	s.mu.Unlock()
	if !connected || (h == nil && anyH == nil) {
		return
	}
	args, err := newArgs(p.Data, p.Attachments, true)
	if err != nil {
		s.conn.eng.close(ReasonParseError, err)
		return
	}
	var ack Ack
	if p.ID != parser.NoID {
		ack = s.ackFunc(p.ID)
	}
	if h != nil {
		h(args, ack)
	} else {
		anyH(event, args, ack)
	}
}

// ackFunc returns the function that acknowledges the server's event id, once.
func (s *Socket) ackFunc(id int64) Ack {
	var sent atomic.Bool
	return func(args ...any) error {
		if !sent.CompareAndSwap(false, true) {
			return nil
		}
		p := &parser.Packet{Type: parser.Ack, Namespace: s.nsp, ID: id}
		var err error
		p.Data, p.Attachments, err = encodeArgs(nil, args)
		if err != nil {
			return err
		}
		return s.sendPacket(p)
	}
}

// connectError reads a CONNECT_ERROR payload: {"message":...,"data":...} or, from old servers,
// a bare string.
func connectError(data []byte) *ConnectError {
	var body struct {
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if json.Unmarshal(data, &body) == nil {
		return &ConnectError{Message: body.Message, Data: body.Data}
	}
	var msg string
	_ = json.Unmarshal(data, &msg)
	return &ConnectError{Message: msg}
}
