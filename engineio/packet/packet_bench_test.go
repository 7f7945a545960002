package packet

import (
	"bytes"
	"testing"
)

var benchText = []byte(`42["order:update",{"id":"64f1c2","status":"preparing","eta":1200,"items":[1,2,3]}]`)

func BenchmarkDecode(b *testing.B) {
	frame := append([]byte{'4'}, benchText...)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(frame, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePayload(b *testing.B) {
	ps := make([]Packet, 0, 10)
	for range 9 {
		ps = append(ps, Packet{Type: Message, Data: benchText})
	}
	ps = append(ps, Packet{Type: Message, Data: bytes.Repeat([]byte{7}, 64), Binary: true})
	body := AppendPayload(nil, ps)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := DecodePayload(body, func(Packet) error { n++; return nil }); err != nil || n != 10 {
			b.Fatal(err, n)
		}
	}
}

func BenchmarkAppendPacket(b *testing.B) {
	p := Packet{Type: Message, Data: benchText}
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(benchText) + 1))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendPacket(buf[:0], p)
	}
}

func BenchmarkAppendPayload(b *testing.B) {
	ps := []Packet{{Type: Message, Data: benchText}, {Type: Ping}, {Type: Message, Data: bytes.Repeat([]byte{7}, 64), Binary: true}}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendPayload(buf[:0], ps)
	}
}
