package wire

import (
	"encoding/json"
	"testing"
)

var benchBroadcast = Broadcast{
	UID: "g1abcdefgh",
	Packet: Packet{Nsp: "/", Data: json.RawMessage(
		`["order:update",{"id":"o-123456","status":"preparing","eta":1200,"items":[{"sku":"a1","qty":2},{"sku":"b7","qty":1}],"total":31.5},{"_placeholder":true,"num":0}]`),
		Attachments: [][]byte{make([]byte, 64)}},
	Opts: BroadcastOptions{Rooms: []string{"restaurant:r1", "user:u7"}, Except: []string{"user:u9"}},
}

// benchBroadcastText is the usual broadcast: JSON arguments, no binary.
var benchBroadcastText = Broadcast{
	UID: "g1abcdefgh",
	Packet: Packet{Nsp: "/", Data: json.RawMessage(
		`["order:update",{"id":"o-123456","status":"preparing","eta":1200,"items":[{"sku":"a1","qty":2},{"sku":"b7","qty":1}],"total":31.5,"note":"ring \"twice\""}]`)},
	Opts: BroadcastOptions{Rooms: []string{"user:u7"}},
}

// BenchmarkAppendBroadcast is the publishing cost of one broadcast: Socket.IO JSON to
// MessagePack.
func BenchmarkAppendBroadcast(b *testing.B) {
	benchAppend(b, AppendBroadcast, benchBroadcast)
}

// BenchmarkAppendBroadcastText is the same without attachments.
func BenchmarkAppendBroadcastText(b *testing.B) {
	benchAppend(b, AppendBroadcast, benchBroadcastText)
}

// BenchmarkAppendBroadcastValues is BenchmarkAppendBroadcast through the values, as every
// broadcast was encoded before the direct path.
func BenchmarkAppendBroadcastValues(b *testing.B) {
	benchAppend(b, func(dst []byte, m Broadcast) ([]byte, error) { return appendBroadcastValues(dst, m, false) }, benchBroadcast)
}

func benchAppend(b *testing.B, encode func([]byte, Broadcast) ([]byte, error), m Broadcast) {
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = encode(buf[:0], m); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

// benchMessage is benchBroadcast encoded, for the receiving side's benchmarks, which report
// allocations and bytes per message.
func benchMessage(b *testing.B) []byte {
	msg, err := AppendBroadcast(nil, benchBroadcast)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	return msg
}

// BenchmarkDecodeBroadcast is the receiving cost: MessagePack to Socket.IO JSON.
func BenchmarkDecodeBroadcast(b *testing.B) {
	msg := benchMessage(b)
	for b.Loop() {
		if _, err := DecodeBroadcast(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPeekBroadcast is what a node pays to read the rooms of the same message and drop
// it when it holds none of them; compare with BenchmarkDecodeBroadcast.
func BenchmarkPeekBroadcast(b *testing.B) {
	msg := benchMessage(b)
	for b.Loop() {
		if _, _, err := PeekBroadcast(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBroadcastUID is what a node pays to recognise its own broadcast come back.
func BenchmarkBroadcastUID(b *testing.B) {
	msg := benchMessage(b)
	for b.Loop() {
		if _, ok := BroadcastUID(msg); !ok {
			b.Fatal("no uid")
		}
	}
}
