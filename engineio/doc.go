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
// a goroutine started for the session's burst of messages (ReadPoller) or on the
// connection's read goroutine (ReadGoroutine); over polling, on the goroutine of the POST
// request that carried them. Keep them short: they hold up that session's reads (not other
// sessions'). With ReadPoller, up to 256 KiB of a session's messages wait for a slow handler;
// beyond that the connection is no longer read until the handler catches up, and TCP slows
// the client down.
//
// OnClose runs exactly once, after the last OnMessage, on whichever goroutine noticed the end.
// Session.Send and Session.Close never call a handler on their caller's goroutine, so they may
// be called while holding locks that the handlers take.
//
// Send is safe from any goroutine and never blocks on the network: it appends to the
// session's bounded queue. A writer drains the queue with one vectored write for everything
// pending; no goroutine is held for an idle connection's writes.
//
// # Messages and memory
//
// A Message is immutable and may be sent to any number of sessions: its websocket frame and
// its polling encoding are each built once, the first time a session needs them. Broadcasting
// one Message to many sessions therefore costs no allocation per recipient: a writer
// goroutine is started for each session that was idle, and the runtime reuses those.
//
// # Deployment notes
//
// Polling GETs are held open until there is something to send, at most PingInterval: an
// http.Server WriteTimeout shorter than that cuts them. Websockets need a connection that can
// be hijacked (HTTP/1.1); over HTTP/2 clients fall back to polling.
//
// An idle websocket holds no goroutine and no buffer (Config.ReadMode, ReadPoller on Linux): a
// few poller goroutines, one per CPU, wait for readability of all the connections with epoll,
// read into a buffer of their own and keep, per connection, only the bytes of a frame that
// is not complete yet. What an idle websocket session costs is then mostly its handshake
// (request headers and query, kept for Session.Handshake), the Session and the runtime's
// state of the socket: about 2.5 KiB of heap. With ReadGoroutine, and for connections that
// offer no file descriptor (TLS terminated in process), each connection has a read goroutine
// parked in the runtime's poller (about 4 KiB of stack), which borrows a pooled buffer only
// while bytes are pending; without raw access it holds a 4 KiB buffer while it waits.
//
// Writes have no per-write deadline. A client that stops reading is closed when its write
// queue overflows (Config.WriteQueueBytes), when it misses a pong, or when one write has made
// no progress for a whole ping interval.
package engineio
