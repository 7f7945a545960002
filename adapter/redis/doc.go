// Package redis is the cluster adapter of package socketio over Redis Pub/Sub, wire-compatible
// with the classic @socket.io/redis-adapter 8.x (createAdapter) of Node.js socket.io 4.x and
// with @socket.io/redis-emitter 5.x publishers: Go and Node.js servers can share one cluster,
// node by node.
//
// One Cluster holds the Redis connections of a server process (a go-redis connection pool to
// publish and query, and exactly one subscriber connection, of package resp) and makes the
// adapter of each namespace:
//
//	cl, err := redis.New(redis.Config{URL: os.Getenv("REDIS_URL")})
//	if err != nil { ... }
//	defer cl.Close()
//	srv := socketio.NewServer(socketio.Config{Adapter: cl.NewAdapter})
//
// # What goes over Redis
//
// Broadcasts are published once, as MessagePack [uid, packet, opts], on "<key>#<nsp>#<room>#"
// when they target exactly one room and on "<key>#<nsp>#" otherwise. Cluster-wide operations
// (FetchSockets, SocketsJoin, SocketsLeave, DisconnectSockets, ServerSideEmit, broadcasts
// with acknowledgements) are requests of types 0-9 on "<key>-request#<nsp>#", answered on
// "<key>-response#<nsp>#"; this adapter answers every request type whichever node asks, and
// Node.js nodes answer its requests. The number of servers is PUBSUB NUMSUB of the request
// channel, so each Cluster holds exactly one subscription to it per namespace, restored once
// after a reconnect. See package wire for the formats.
//
// By default (SubscribePattern) a node PSUBSCRIBEs "<key>#<nsp>#*", as Node.js nodes do, and
// drops messages for rooms it does not hold after receiving them: a message on a room's
// channel by its channel name, a message to several rooms on the namespace channel after
// reading only its options (wire.PeekBroadcast), never decoding its packet. Such a dropped
// message whose packet is not a valid event is therefore not counted as malformed (see
// Stats); one that is not a MessagePack array [uid, packet, opts] still is. SubscribeRooms
// instead subscribes to the namespace channel and to the channel of each room that has a local
// socket, so that a node receives no traffic for rooms it does not hold, except for rooms
// named like socket ids (20 bytes), which one pattern per namespace brings to every node: a
// channel per socket would cost each connection a few hundred bytes of subscription
// bookkeeping. BenchmarkForeignRoomTraffic measures the difference. Its price: when the first local socket
// joins a room, the node's SUBSCRIBE to the room's channel takes effect about one Redis round
// trip later, and a single-room broadcast published in between does not reach this node.
//
// For the rooms a socket joins in its namespace's middleware, and the room of its own id, the
// adapter closes that window: it implements socketio.JoinAwaiter, so the socket's CONNECT reply
// waits until Redis has confirmed those subscriptions on the subscriber connection, and a
// client that sees "connect" is reachable through them from any server or emitter. The wait
// is bounded (socketio.Config.JoinWaitTimeout, default 2s; a timeout is logged and counted in
// Stats.JoinWaitTimeouts) and skipped while Redis is unreachable: a handshake never hangs or
// fails because of Redis. Each connect then costs a SUBSCRIBE round trip of latency, and a
// goroutine for its duration.
//
// The window remains for joins made after the connect: in a connection or event handler
// (which can close it for its own socket by calling AwaitJoined before it acknowledges, as
// the service's join_order does), or
// when one server makes sockets of other servers join a room (SocketsJoin) and a broadcast to
// that room follows at once, which is the Realtime Service's join-then-emit flow; with
// SubscribePattern the request and the broadcast arrive on one subscriber connection in the
// order they were published, as on Node.js. Choose SubscribeRooms only where nothing
// broadcasts to a room right after joining sockets to it from another server.
//
// # Receiving
//
// The subscriber connection is our own RESP2 connection (package resp) rather than go-redis's
// PubSub, which allocated about 17 times per message received. A message is parsed in the
// connection's read buffer and routed from views of it: one that the node drops (a broadcast
// for rooms it does not hold, most of what the pattern subscription brings) costs a parse and
// a map lookup and allocates nothing; one that is handled is copied once, into the queue of
// the handling goroutine (BenchmarkReceiveDropped). The connection keeps no record of its
// subscriptions: when it fails (or stays silent past a PING, see Config.HealthCheckInterval) it
// is closed, and its replacement is subscribed to everything the node wants. So is one on
// which Redis refused a command (an ACL's NOPERM, say): the node is not ready, with the
// refusal in Health, until a new connection has every subscription confirmed.
//
// # Delivery and failures
//
// Local delivery never waits for Redis. Messages to publish go through one ordered queue,
// bounded in bytes (Config.PublishQueueBytes); while Redis is unreachable they wait there, and
// what does not fit is dropped and counted (Stats). The node logs once when Redis becomes
// unreachable and once when it is back, reconnects with exponential backoff, resubscribes, and
// reports its state in Health and Ready. Requests that need the other servers fail fast with
// ErrUnavailable meanwhile. A malformed message on any channel is counted and dropped.
//
// # Concurrency
//
// Messages from Redis are handled in arrival order on one goroutine per Cluster: broadcasts
// are delivered, requests answered, and server-side listeners (Namespace.OnServerSideEmit) and
// disconnect handlers of remotely disconnected sockets run there. Answers to this node's own
// requests are taken by the subscriber goroutine itself, so such handlers may issue cluster
// requests (FetchSockets, ServerSideEmitWithAck...) without deadlocking; they hold up the
// messages behind them while they wait.
package redis
