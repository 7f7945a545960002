package wsframe

import (
	"bytes"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := map[string]Kind{
		``:                        KindOther,
		`0{"sid":"x"}`:            KindOpen,
		`1`:                       KindClose,
		`2`:                       KindPing,
		`3`:                       KindOther,
		`4`:                       KindOther,
		`40{"sid":"abc"}`:         KindConnect,
		`41`:                      KindDisconnect,
		`42["bench",{}]`:          KindEvent,
		`43[1]`:                   KindOther,
		`44{"message":"Invalid"}`: KindConnectError,
		`6`:                       KindOther,
	}
	for in, want := range tests {
		if got := Classify([]byte(in)); got != want {
			t.Errorf("Classify(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestStamp(t *testing.T) {
	tests := []struct {
		in    string
		phase int
		sent  int64
		ok    bool
	}{
		{`42["bench",{"bp":3,"bt":1732568000123456}]`, 3, 1732568000123456, true},
		{`42["bench",{"bt":1732568000123456,"bp":3}]`, 3, 1732568000123456, true}, // keys reordered
		{`42["bench",{"bp": 2, "bt": 17}]`, 2, 17, true},                          // re-serialised with spaces
		{`42["bench",{"bp":1,"bt":1732568000123456,"pad":"xx"}]`, 1, 1732568000123456, true},
		{`42["bench",{"bp":1}]`, 0, 0, false},
		{`42["bench",{"bt":5}]`, 0, 0, false},
		{`42["bench",{"bp":1,"bt":"5"}]`, 0, 0, false},
		{`42["bench",{"bp":1,"bt":1234567890123456789}]`, 0, 0, false}, // 19 digits: not ours
		{`42["bench",{"bp":-1,"bt":5}]`, 0, 0, false},
		{`42["other",1]`, 0, 0, false},
	}
	for _, tt := range tests {
		phase, sent, ok := Stamp([]byte(tt.in))
		if ok != tt.ok || phase != tt.phase || sent != tt.sent {
			t.Errorf("Stamp(%s) = %d, %d, %v; want %d, %d, %v", tt.in, phase, sent, ok, tt.phase, tt.sent, tt.ok)
		}
	}
}

func TestAppendStampRoundTrip(t *testing.T) {
	for _, c := range []struct {
		phase int
		sent  int64
	}{{0, 0}, {9, 1}, {15, 1732568000123456}} {
		p := []byte(`42["e",{`)
		p = AppendStamp(p, c.phase, c.sent)
		p = append(p, "}]"...)
		phase, sent, ok := Stamp(p)
		if !ok || phase != c.phase || sent != c.sent {
			t.Errorf("%s: Stamp = %d, %d, %v", p, phase, sent, ok)
		}
	}
}

func TestStampDoesNotAllocate(t *testing.T) {
	p := []byte(`42["bench",{"bp":3,"bt":1732568000123456,"pad":"xxxxxxxxxxxxxxxxxxxxxxxx"}]`)
	allocs := testing.AllocsPerRun(100, func() {
		if Classify(p) != KindEvent {
			t.Fatal("not an event")
		}
		if _, _, ok := Stamp(p); !ok {
			t.Fatal("no stamp")
		}
	})
	if allocs != 0 {
		t.Fatalf("Classify+Stamp allocate %v times per frame", allocs)
	}
}

func TestUpgrade(t *testing.T) {
	req := AppendUpgradeRequest(nil, "127.0.0.1:3000", [16]byte{1, 2, 3})
	for _, want := range []string{
		"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n",
		"Host: 127.0.0.1:3000\r\n",
		"Upgrade: websocket\r\n",
		"Sec-WebSocket-Key: AQIDAAAAAAAAAAAAAAAAAA==\r\n",
	} {
		if !bytes.Contains(req, []byte(want)) {
			t.Errorf("request lacks %q:\n%s", want, req)
		}
	}
	if !bytes.HasSuffix(req, []byte("\r\n\r\n")) {
		t.Error("request head not terminated")
	}

	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x012"
	if _, _, ok := ParseUpgradeResponse([]byte(resp[:20])); ok {
		t.Error("incomplete head reported complete")
	}
	n, status, ok := ParseUpgradeResponse([]byte(resp))
	if !ok || status != 101 || resp[n:] != "\x81\x012" {
		t.Errorf("ParseUpgradeResponse = %d, %d, %v", n, status, ok)
	}
	if _, status, ok := ParseUpgradeResponse([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")); !ok || status != 400 {
		t.Errorf("400 response: status %d ok %v", status, ok)
	}
	if _, status, ok := ParseUpgradeResponse([]byte("garbage\r\n\r\n")); !ok || status != 0 {
		t.Errorf("garbage: status %d ok %v", status, ok)
	}
}

func FuzzScan(f *testing.F) {
	f.Add([]byte{0x81, 5, '4', '2', '[', ']', '1'})
	f.Add([]byte(`42["bench",{"bp":3,"bt":1732568000123456}]`))
	f.Add([]byte("HTTP/1.1 101 OK\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, ok, err := ParseHeader(b); ok && (err != nil || h.Length < 0 || h.Size > MaxHeaderSize) {
			t.Fatalf("bad header %+v", h)
		}
		Classify(b)
		if phase, sent, ok := Stamp(b); ok && (phase < 0 || sent < 0) {
			t.Fatalf("negative stamp %d %d", phase, sent)
		}
		if n, _, ok := ParseUpgradeResponse(b); ok && n > len(b) {
			t.Fatalf("head length %d beyond %d", n, len(b))
		}
	})
}
