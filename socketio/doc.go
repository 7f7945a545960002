// Package socketio is a Socket.IO server (protocol 5, over Engine.IO protocol 4) that the
// official socket.io-client 4.x talks to unchanged.
//
// Start with NewServer, mount the Server (an http.Handler) at "/socket.io/", and handle
// connections on a Namespace:
//
//	srv := socketio.NewServer(socketio.Config{})
//	chat := srv.Of("/")
//	chat.Use(func(s *socketio.Socket) error { // authentication
//		var auth struct{ Token string }
//		json.Unmarshal(s.Auth(), &auth)
//		if auth.Token == "" {
//			return &socketio.ConnectError{Message: "Authentication error"}
//		}
//		return nil
//	})
//	chat.OnConnection(func(s *socketio.Socket) {
//		s.Join("lobby")
//		s.On("message", func(s *socketio.Socket, args socketio.Args, ack socketio.Ack) {
//			s.To("lobby").Emit("message", args.Values()...) // relayed byte for byte
//			if ack != nil {
//				ack("ok")
//			}
//		})
//		s.OnDisconnect(func(reason string) { log.Println(s.ID(), "left:", reason) })
//	})
//	http.Handle("/socket.io/", srv)
//
// Handlers that are alike for every socket can be registered once on the namespace instead
// (Namespace.OnSocketEvent, OnAnySocketEvent, OnSocketDisconnect): the socket is their first
// argument, and they cost the sockets no memory, where handlers set in a connection handler
// are kept by each socket.
//
// Arguments arrive as Args: raw JSON values and binary attachments, decoded on demand
// (Args.Decode, Args.Bytes) and re-emittable unchanged (Args.Values). Emitted arguments are Go
// values encoded to JSON; []byte values become binary attachments. A json.RawMessage goes out
// as it is once its syntax is checked; parser.TrustedJSON skips that check, for text the
// caller has checked already (a service relaying a payload its own parser validated).
//
// Broadcasts go through the namespace's Adapter: NewMemoryAdapter for one server, a cluster
// adapter (package adapter/redis) for several. A broadcast is encoded once and the same
// encoded messages are queued on every targeted session. An operator keeps the room slices
// given to To and Except rather than copying them: do not modify them while it is in use.
//
// # Concurrency
//
// Handlers of one client connection (middleware, connection handlers, event handlers, the
// disconnecting and disconnect handlers of all its sockets) run one at a time, never
// concurrently, in the order their packets arrived. They normally run on the connection's read
// path: the websocket read loop, or the goroutine of the polling POST that carried the packet.
// When the namespace's adapter has a socket's CONNECT reply wait for its rooms (JoinAwaiter,
// a cluster adapter subscribing per room), the reply, the connection handlers and the packets
// that arrived meanwhile run on a goroutine started for that wait, still one at a time.
// The order for a socket is: middleware, connection handlers, event handlers, disconnecting
// handlers, disconnect handlers (always last).
//
// Different connections run their handlers in parallel, on their own goroutines.
//
// A handler blocks its connection while it runs: no other packet of that client, ping replies
// included, is processed meanwhile. Keep handlers short, and start a goroutine for slow work.
// In particular a handler must not wait for an acknowledgement from its own client
// (Socket.EmitWithAck on the same connection): the acknowledgement arrives on the path the
// handler holds, so the wait can only end by timeout.
//
// Everything else is safe to call from any goroutine and does not wait for the network: Emit
// and broadcasts queue the encoded packet on each session's bounded write queue and return
// (a client too slow to drain its queue is disconnected with reason "write queue full").
// Socket.Disconnect, called from another goroutine while one of the client's handlers runs,
// queues the disconnect handlers to run right after that handler; called otherwise, it runs
// them before returning.
//
// Server-side listeners (Namespace.OnServerSideEmit) run on the adapter's goroutine.
//
// # Locks
//
// Lock order, outermost first: Server.mu -> Namespace.mu, or the room index's list of all
// sockets (a namespace's SocketCount); Socket.mu -> room index shard ->
// nothing; room index shards (read, in shard order) -> Socket acknowledgements' lock ->
// engine session. Handlers are never called with a lock of this package held.
package socketio
