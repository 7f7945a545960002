// Package client is a Socket.IO v4 client (Engine.IO protocol 4, Socket.IO protocol 5) for
// tests, the load tool and Go services. It speaks to any Socket.IO v4 server, the Node.js
// reference included, over websocket or HTTP long-polling, optionally upgrading polling to
// websocket.
//
//	s, err := client.Connect(ctx, "http://127.0.0.1:3000/", map[string]any{"token": token})
//	if err != nil { ... } // a refusal is a *client.ConnectError with the server's message
//	defer s.Disconnect()
//	s.On("order_update", func(args client.Args, ack client.Ack) { ... })
//	reply, err := s.EmitWithAck(ctx, "join_order", "o1")
//
// A Conn is one Engine.IO connection; it carries one Socket per namespace. To see events that
// the server sends the moment a socket connects, register handlers before connecting:
//
//	conn, err := dialer.Dial(ctx, url)
//	s := conn.Socket("/orders")
//	s.On("welcome", handler)
//	err = s.Connect(ctx, auth)
//
// # Arguments
//
// Emit encodes arguments with the value encoder of socketio/parser: []byte travels as a binary
// attachment (at the top level and inside map[string]any and []any; inside structs
// encoding/json writes it as base64), json.RawMessage is sent as it is, other values go through
// encoding/json. Handlers receive Args: every argument's JSON as it arrived, with binary
// arguments available through Args.Bytes and Args.Decode, and Args.Value to pass an argument on
// with its binary parts.
//
// # Concurrency
//
// Every method is safe for concurrent use. Each connection has one read goroutine; it answers the
// server's pings, and it runs the handlers of all the connection's sockets, one at a time, in the
// order the packets arrived. A handler that blocks holds up the connection, including the
// acknowledgements EmitWithAck waits for: call EmitWithAck from a handler only in a new
// goroutine. A handler may still run briefly after Done closed, when the connection ended while
// it was being called.
//
// Emit writes on the caller's goroutine: over websocket each call writes its frames with one
// system call under the connection's write lock; over polling, emits made while a POST is under
// way are queued and sent together in the next one (at most Dialer.MaxWriteQueue bytes).
//
// # Heartbeat and close
//
// The server pings every pingInterval and the client answers at once. When no ping arrives
// within pingInterval + pingTimeout the connection closes with ReasonPingTimeout. Socket.Err and
// Conn.Err say why something ended; the reasons are socket.io-client's. There is no automatic
// reconnection: dial again.
//
// # Many connections
//
// A connection costs one goroutine (two while a polling connection upgrades), a read buffer of
// Dialer.ReadBufferSize bytes, and no timer goroutine. Dialer.LocalAddr chooses the source
// address, so that load tests can spread connections over several loopback addresses, and
// Dialer.OnRawMessage lets them count and timestamp messages without decoding them.
package client
