package packet

import (
	"bytes"
	"testing"
)

// Seeds: the packets and payloads of protocol-notes §2-6 and the suites' bad inputs.
var fuzzSeeds = []string{
	"4hello", "2", "3", "2probe", "3probe", "5", "6", "1", "abc", "",
	`0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
	"4hello\x1ebAQIDBA==", "4test1\x1e4test2\x1e4test3", "4hello\x1e2\x1e4world",
	"bAQIDBA==", "b", "b!!!!", "4a\x1e\x1e4b", "\x1e", "4é€😀", `42["message",{"a":1}]`,
}

func FuzzDecodePacket(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, b []byte, binary bool) {
		p, err := Decode(b, binary)
		if err != nil {
			if binary {
				t.Fatalf("binary frame refused: %v", err)
			}
			return
		}
		if !p.Type.Valid() || (p.Binary && p.Type != Message) || p.Binary != binary {
			t.Fatalf("bad packet %+v", p)
		}
		if binary {
			if !bytes.Equal(p.Data, b) {
				t.Fatalf("binary data changed")
			}
			return
		}
		if enc := AppendPacket(nil, p); !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding %q gives %q", b, enc)
		}
	})
}

func FuzzDecodePayload(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var ps []Packet
		err := DecodePayload(body, func(p Packet) error {
			if !p.Type.Valid() || (p.Binary && p.Type != Message) {
				t.Fatalf("bad packet %+v", p)
			}
			ps = append(ps, p)
			return nil
		})
		if err != nil {
			return
		}
		// A body that decodes re-encodes to something that decodes to the same packets.
		enc := AppendPayload(nil, ps)
		var again []Packet
		if err := DecodePayload(enc, func(p Packet) error { again = append(again, p); return nil }); err != nil {
			t.Fatalf("re-encoded %q does not decode: %v", enc, err)
		}
		if len(again) != len(ps) {
			t.Fatalf("%d packets, then %d", len(ps), len(again))
		}
		for i := range ps {
			if ps[i].Type != again[i].Type || ps[i].Binary != again[i].Binary || !bytes.Equal(ps[i].Data, again[i].Data) {
				t.Fatalf("packet %d: %+v then %+v", i, ps[i], again[i])
			}
		}
	})
}
