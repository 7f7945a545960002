// Package wire is the pure codec (no I/O) of the Socket.IO Redis cluster protocol in its classic
// form, as @socket.io/redis-adapter 8.x (createAdapter) and @socket.io/redis-emitter 5.x speak
// it: MessagePack exactly as notepack.io 3.0.1 writes and reads it, the broadcast message
// [uid, packet, opts], the request and response messages of request types 0-9 (JSON or
// MessagePack, told apart by their first byte), the channel names, and the conversion between
// Socket.IO packet data (JSON text with binary placeholders plus attachments) and MessagePack
// values.
//
// # Values
//
// Decoded MessagePack values are nil, Undefined, bool, int64, uint64 (only above MaxInt64),
// float64, string, []byte, Timestamp, Ext, []any and Map. Map keeps its entries in the order a
// JavaScript object would (integer-like keys first, ascending, then the others in insertion
// order; a repeated key keeps its first position and its last value) so that what a Go node
// writes matches what a Node node writes byte for byte. Decoded []byte values alias the input.
//
// # Why a codec of our own
//
// The bytes must be notepack's, not just valid MessagePack: integral numbers are always
// integers (12.0 is 0x0c), other numbers always float64, object properties whose value is
// undefined are left out, dates are timestamps whose JavaScript millisecond arithmetic we
// reproduce, and legacy ext forms of notepack 2 must still decode. Decoding must also be safe on
// hostile input: every length is checked against the bytes that remain before anything is
// allocated, and nesting depth is bounded. A general-purpose library needs custom hooks for
// almost every one of these points; the format is small enough to write directly and fuzz.
//
// Deliberate differences from notepack, where notepack loses data: whole numbers of 2^64 and
// more are written as float64 (notepack writes a wrapped-around integer), and integer
// literals above 2^53 keep their exact value (JavaScript rounds them first; JavaScript readers
// round them the same way on receipt).
//
// Nothing here panics on bad input: every decoder returns an error instead.
package wire
