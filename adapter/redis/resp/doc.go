// Package resp is a Redis Pub/Sub subscriber connection speaking RESP2, written for the
// receive path of package redis's Cluster.
//
// Why not go-redis's PubSub: with the pattern subscription every node reads every broadcast
// of a namespace and drops most of them (they are for rooms held elsewhere), and go-redis
// allocates about 17 times for each message it receives (the reply's values, a Message, its
// strings, its push-notification processing), which a profile found at a fifth of a receiving
// node's CPU. A Subscriber reads into one reused buffer and returns views of it: receiving a
// message allocates nothing, and a caller that drops it pays a parse and a lookup.
//
// What it supports: one connection to one Redis server, by TCP or a Unix socket, with TLS
// (Options.TLSConfig), AUTH (Username and Password, CredentialsProvider or
// CredentialsProviderContext) and CLIENT SETNAME, configured by the same go-redis Options that
// configure the publisher. SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE and PING, nothing
// else. It speaks RESP2 (no HELLO), in which Pub/Sub messages are arrays; the DB number does
// not matter to Pub/Sub, so it sends no SELECT. Not supported: Redis Cluster, Sentinel,
// sharded Pub/Sub (SSUBSCRIBE), RESP3, StreamingCredentialsProvider, reconnection (the
// caller dials again) and any record of the subscriptions (the caller has its own and sends
// them again on a new connection).
//
// # Concurrency
//
// One goroutine receives (Receive); commands and Close may be called from any goroutine,
// concurrently with it and with each other: each command is written whole, in one write.
//
// # Buffers
//
// Receive reads into a buffer of ReadBufferSize bytes kept for the connection's life. A
// message larger than that is read into a buffer grown for it, in steps, up to the message's
// size (each bulk string at most MaxBulkLen, as Redis's proto-max-bulk-len), and given back at
// the next Receive: a stream can make a Subscriber allocate no more than the bytes it sent,
// twice over at worst, and a length beyond the limit is a protocol error before anything is
// allocated.
package resp
