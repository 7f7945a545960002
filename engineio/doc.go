// Package engineio is an Engine.IO protocol 4 server: the transport layer under Socket.IO.
//
// A Server is an http.Handler. Mount it at the path the clients use ("/engine.io/" for plain
// Engine.IO clients, "/socket.io/" under Socket.IO). It performs the handshake, keeps one
// Session per client, carries packets over HTTP long-polling and websocket, upgrades polling
// sessions to websocket, sends heartbeats and enforces the limits of Config.
//
//	srv := engineio.NewServer(engineio.Config{
//		OnOpen: func(s *engineio.Session) engineio.SessionHandler { return &echo{s} },
//	})
//	http.Handle("/engine.io/", srv)
//
// # Concurrency
//
// OnOpen runs on the handshake request's goroutine, before the open packet is written and
// before any other callback of that session.
//
// OnMessage calls of one session never overlap and arrive in order. Over websocket they run on
// a goroutine started for the session's burst of messages (ReadPoller, the default) or on the
// connection's read goroutine (ReadGoroutine); over polling, on the goroutine of the POST
// request that carried them. Keep them short: they hold up that session's reads (not other
// sessions'). With ReadPoller, up to 256 KiB of a session's messages wait for a slow handler;
// beyond that the connection is no longer read until the handler catches up, and TCP slows
// the client down. Pongs of a session with nothing waiting are handled on the poller itself:
// they call no handler.
//
// OnClose runs exactly once, after the last OnMessage, on whichever goroutine noticed the end
// (for a ping timeout, a goroutine of its own). Session.Send and Session.Close never call a
// handler on their caller's goroutine, so they may be called while holding locks that the
// handlers take.
//
// Send is safe from any goroutine and never blocks on the network: it appends to the
// session's bounded queue and, if the session had nothing queued, hands it to a writer. TCP
// connections go to the server's writer pool: a few goroutines, one per CPU at most and none
// while nothing is queued, take the sessions in turn and write each one's pending frames (up
// to 128) with one non-blocking writev; a session that receives more meanwhile goes round
// again, so that during a burst of broadcasts a write carries several frames. A socket that
// cannot take a whole write (a client that reads slowly) gets a goroutine of its own that
// waits for it, until its queue is empty. Other connections (TLS terminated in process) get
// such a goroutine whenever they have something to write. No goroutine is held for an idle
// connection's writes.
//
// Heartbeats of all sessions share one timing wheel per Server, whose goroutine runs while
// sessions exist and handles the due ones in batches: pings go out PingInterval after the
// last pong, within one tick (PingInterval and PingTimeout over 100, between 1 ms and
// 100 ms), and the pong deadline is PingTimeout after the ping was due.
//
// # Messages and memory
//
// A Message is immutable and may be sent to any number of sessions: its websocket frame and
// its polling encoding are each built once, the first time a session needs them. Broadcasting
// one Message to many sessions therefore costs no allocation and no goroutine per recipient.
//
// An idle websocket holds no goroutine and no buffer (Config.ReadMode, ReadPoller on Linux): a
// few poller goroutines, one per CPU, started with the first websocket and stopped with the
// last, wait for readability of all the connections with epoll, read into a buffer of their
// own (64 KiB each) and keep, per connection, only the bytes of a frame that is not complete
// yet. An idle websocket session then costs about 1.1 KiB of heap and 1.9 KiB of resident
// memory (BenchmarkIdleWebSocketMemory), most of it the runtime's state of the socket, the
// Session and its handshake, which keeps the request's headers and query in one compact string
// (HandshakeInfo parses them on access). With ReadGoroutine, and
// for connections that offer no file descriptor (TLS terminated in process), each connection
// has a read goroutine parked in the runtime's poller (2 to 4 KiB of stack), which borrows a
// pooled buffer only while bytes are pending; without raw access it holds a 4 KiB buffer
// while it waits.
//
// # Deployment notes
//
// Polling GETs are held open until there is something to send, at most PingInterval: an
// http.Server WriteTimeout shorter than that cuts them. Websockets need a connection that can
// be hijacked (HTTP/1.1); over HTTP/2 clients fall back to polling.
//
// Writes have no per-write deadline. A client that stops reading is closed when its write
// queue overflows (Config.WriteQueueBytes), when it misses a pong, or when one write has made
// no progress for a whole ping interval.
package engineio
