package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

func sel(rooms, except []string) *BroadcastOptions {
	return &BroadcastOptions{Rooms: rooms, Except: except}
}

// The JSON requests of protocol/redis-adapter.md 11.8, byte for byte.
var requestVectors = []struct {
	name string
	text string
	req  Request
}{
	{"fetchSockets", `{"uid":"gigfIG","requestId":"akzZ9a","type":5,"opts":{"rooms":["restaurant:r1"],"except":[]}}`,
		Request{Type: TypeRemoteFetch, UID: "gigfIG", RequestID: "akzZ9a", Opts: sel([]string{"restaurant:r1"}, nil)}},
	{"allRooms", `{"uid":"gigfIG","requestId":"jYJ3vk","type":1}`,
		Request{Type: TypeAllRooms, UID: "gigfIG", RequestID: "jYJ3vk"}},
	{"socketsJoin", `{"uid":"gigfIG","type":2,"opts":{"rooms":["user:u3"],"except":[]},"rooms":["vip","vip2"]}`,
		Request{Type: TypeRemoteJoin, UID: "gigfIG", Opts: sel([]string{"user:u3"}, nil), Rooms: []string{"vip", "vip2"}}},
	{"socketsLeave", `{"uid":"gigfIG","type":3,"opts":{"rooms":["user:u3"],"except":[]},"rooms":["vip"]}`,
		Request{Type: TypeRemoteLeave, UID: "gigfIG", Opts: sel([]string{"user:u3"}, nil), Rooms: []string{"vip"}}},
	{"disconnectSockets", `{"uid":"gigfIG","type":4,"opts":{"rooms":["user:u3"],"except":[]},"close":true}`,
		Request{Type: TypeRemoteDisconnect, UID: "gigfIG", Opts: sel([]string{"user:u3"}, nil), Close: true}},
	{"serverSideEmit", `{"uid":"gigfIG","type":6,"data":["plain-servers",{"a":1},"two"]}`,
		Request{Type: TypeServerSideEmit, UID: "gigfIG", Data: json.RawMessage(`["plain-servers",{"a":1},"two"]`)}},
	{"serverSideEmitWithAck", `{"uid":"gigfIG","requestId":"mIJZzB","type":6,"data":["ping-servers",42]}`,
		Request{Type: TypeServerSideEmit, UID: "gigfIG", RequestID: "mIJZzB", Data: json.RawMessage(`["ping-servers",42]`)}},
	{"emitter socketsJoin", `{"type":2,"opts":{"rooms":["user:u1"],"except":[]},"rooms":["em-joined"]}`,
		Request{Type: TypeRemoteJoin, Opts: sel([]string{"user:u1"}, nil), Rooms: []string{"em-joined"}}},
	{"emitter disconnectSockets", `{"type":4,"opts":{"rooms":["user:u1"],"except":[]},"close":false}`,
		Request{Type: TypeRemoteDisconnect, Opts: sel([]string{"user:u1"}, nil)}},
	{"emitter serverSideEmit", `{"uid":"emitter","type":6,"data":["plain-servers","from-emitter"]}`,
		Request{Type: TypeServerSideEmit, UID: "emitter", Data: json.RawMessage(`["plain-servers","from-emitter"]`)}},
	{"legacy allSockets", `{"uid":"n","requestId":"r","type":0,"rooms":["a"]}`,
		Request{Type: TypeSockets, UID: "n", RequestID: "r", Rooms: []string{"a"}}},
	{"legacy remoteJoin", `{"uid":"n","requestId":"r","type":2,"sid":"s1","room":"a"}`,
		Request{Type: TypeRemoteJoin, UID: "n", RequestID: "r", SID: "s1", Room: "a"}},
	{"legacy remoteDisconnect", `{"uid":"n","requestId":"r","type":4,"sid":"s1","close":true}`,
		Request{Type: TypeRemoteDisconnect, UID: "n", RequestID: "r", SID: "s1", Close: true}},
}

func normalizeRequest(r Request) Request {
	if r.Opts != nil {
		o := *r.Opts
		if len(o.Rooms) == 0 {
			o.Rooms = nil
		}
		if len(o.Except) == 0 {
			o.Except = nil
		}
		r.Opts = &o
	}
	if len(r.Rooms) == 0 {
		r.Rooms = nil
	}
	return r
}

func TestRequestVectors(t *testing.T) {
	t.Parallel()
	for _, c := range requestVectors {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			enc, err := AppendRequest(nil, c.req)
			if err != nil {
				t.Fatal(err)
			}
			if string(enc) != c.text {
				t.Errorf("encoded %s\nwant    %s", enc, c.text)
			}
			got, err := DecodeRequest([]byte(c.text))
			if err != nil {
				t.Fatal(err)
			}
			if g, w := normalizeRequest(got), normalizeRequest(c.req); !reflect.DeepEqual(g, w) {
				t.Errorf("decoded %#v\nwant    %#v", g, w)
			}
		})
	}
}

// 11.9: the broadcast with acks (MessagePack) and a BROADCAST_ACK answer.
func TestBroadcastWithAckVectors(t *testing.T) {
	t.Parallel()
	reqHex := `85a3756964a6676967664947a9726571756573744964a654416a466b58a47479706507a67061636b657483a474797065
02a46461746192a561636b6d65a171a36e7370a12fa46f70747383a5726f6f6d7390a665786365707490a5666c616773
81a774696d656f7574cd07d0`
	req := Request{Type: TypeBroadcast, UID: "gigfIG", RequestID: "TAjFkX",
		Packet: Packet{Type: 2, Nsp: "/", Data: json.RawMessage(`["ackme","q"]`)},
		Opts:   &BroadcastOptions{Flags: Flags{Timeout: 2 * time.Second}}}
	enc, err := AppendRequest(nil, req)
	if err != nil {
		t.Fatal(err)
	}
	raw := unhex(t, reqHex)
	if !bytes.Equal(enc, raw) {
		t.Fatalf("encoded %x\nwant    %x", enc, raw)
	}
	got, err := DecodeRequest(raw)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := normalizeRequest(got), normalizeRequest(req); !reflect.DeepEqual(g, w) {
		t.Fatalf("decoded %#v\nwant    %#v", g, w)
	}

	ackHex := `83a47479706509a9726571756573744964a654416a466b58a67061636b6574ab61636b2d66726f6d2d7531`
	ack, err := AppendBroadcastAckResponse(nil, "TAjFkX", json.RawMessage(`"ack-from-u1"`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ack, unhex(t, ackHex)) {
		t.Fatalf("ack %x\nwant %s", ack, ackHex)
	}
	resp, err := DecodeResponse(ack)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Type != TypeBroadcastAck || resp.RequestID != "TAjFkX" || string(resp.Ack) != `"ack-from-u1"` {
		t.Fatalf("decoded ack %+v", resp)
	}
}

func TestResponseVectors(t *testing.T) {
	t.Parallel()
	check := func(name string, got []byte, want string) {
		t.Helper()
		if string(got) != want {
			t.Errorf("%s: %s\nwant %s", name, got, want)
		}
	}
	fetch, err := AppendFetchResponse(nil, "akzZ9a", nil)
	if err != nil {
		t.Fatal(err)
	}
	check("empty fetch", fetch, `{"requestId":"akzZ9a","sockets":[]}`)
	check("allRooms", AppendAllRoomsResponse(nil, "jYJ3vk", []string{"kp0SjLSSzpcPA0ZWAAAA", "user:u1", "restaurant:r1"}),
		`{"requestId":"jYJ3vk","rooms":["kp0SjLSSzpcPA0ZWAAAA","user:u1","restaurant:r1"]}`)
	sse, err := AppendServerSideEmitResponse(nil, "mIJZzB", json.RawMessage(`"pong-from-D2"`))
	if err != nil {
		t.Fatal(err)
	}
	check("serverSideEmit ack", sse, `{"type":6,"requestId":"mIJZzB","data":"pong-from-D2"}`)
	sse, _ = AppendServerSideEmitResponse(nil, "x", nil)
	check("serverSideEmit ack without argument", sse, `{"type":6,"requestId":"x"}`)
	check("client count", AppendClientCountResponse(nil, "TAjFkX", 0), `{"type":8,"requestId":"TAjFkX","clientCount":0}`)
	check("sockets", AppendSocketsResponse(nil, "r", nil), `{"requestId":"r","sockets":[]}`)
	check("legacy", AppendLegacyResponse(nil, "r"), `{"requestId":"r"}`)
	fetch, err = AppendFetchResponse(nil, "q", []SocketInfo{{ID: "s1", Rooms: []string{"s1", "user:u1"},
		Handshake: json.RawMessage(`{"auth":{"token":"t"}}`)}})
	if err != nil {
		t.Fatal(err)
	}
	check("fetch", fetch, `{"requestId":"q","sockets":[{"id":"s1","handshake":{"auth":{"token":"t"}},"rooms":["s1","user:u1"],"data":{}}]}`)
	if _, err := AppendFetchResponse(nil, "q", []SocketInfo{{ID: "s", Data: json.RawMessage(`{`)}}); err == nil {
		t.Error("invalid socket data was encoded")
	}
}

func TestDecodeResponses(t *testing.T) {
	t.Parallel()
	node := `{"requestId":"akzZ9a","sockets":[{"id":"kp0SjLSSzpcPA0ZWAAAA","handshake":{"headers":{"host":"x"},"time":"Wed Nov 25 2026","address":"127.0.0.1","xdomain":false,"secure":false,"issued":1795635920801,"url":"/socket.io/?EIO=4","query":{"EIO":"4"},"auth":{"token":"eyJ"}},"rooms":["kp0SjLSSzpcPA0ZWAAAA","user:u1"],"data":{}}]}`
	r, err := DecodeResponse([]byte(node))
	if err != nil {
		t.Fatal(err)
	}
	want := Response{Type: TypeNone, RequestID: "akzZ9a", HasSockets: true, Sockets: []SocketInfo{{
		ID:        "kp0SjLSSzpcPA0ZWAAAA",
		Handshake: json.RawMessage(`{"headers":{"host":"x"},"time":"Wed Nov 25 2026","address":"127.0.0.1","xdomain":false,"secure":false,"issued":1795635920801,"url":"/socket.io/?EIO=4","query":{"EIO":"4"},"auth":{"token":"eyJ"}}`),
		Rooms:     []string{"kp0SjLSSzpcPA0ZWAAAA", "user:u1"},
		Data:      json.RawMessage(`{}`),
	}}}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("got  %#v\nwant %#v", r, want)
	}
	r, err = DecodeResponse([]byte(`{"type":8,"requestId":"T","clientCount":3}`))
	if err != nil || r.Type != TypeBroadcastClientCount || r.ClientCount != 3 {
		t.Fatalf("client count: %+v, %v", r, err)
	}
	r, err = DecodeResponse([]byte(`{"requestId":"j","rooms":"not a list"}`))
	if err != nil || r.HasRooms {
		t.Fatalf("rooms not a list must count as an answer without content: %+v, %v", r, err)
	}
	for _, bad := range []string{`{"sockets":[]}`, `{"requestId":5}`, `[1]`, `{"requestId":"x"`, "\xc1"} {
		if _, err := DecodeResponse([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeResponse(%q) error = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestDecodeRequestEdgeCases(t *testing.T) {
	t.Parallel()
	r, err := DecodeRequest([]byte(`{"uid":"x","type":42}`))
	if err != nil || r.Type != TypeNone {
		t.Fatalf("unknown type: %+v, %v (want TypeNone, no error)", r, err)
	}
	// A uid that is not a string never matches; MessagePack requests are sniffed by first byte.
	raw, _ := Append(nil, Map{{"uid", int64(1)}, {"type", int64(1)}, {"requestId", "q"}})
	r, err = DecodeRequest(raw)
	if err != nil || r.Type != TypeAllRooms || r.UID != "" || r.RequestID != "q" {
		t.Fatalf("msgpack request: %+v, %v", r, err)
	}
	for _, bad := range []string{
		`{"type":"5"}`, `{"type":5}`, `{"type":6,"data":"x"}`, `{"type":2,"opts":3,"rooms":[]}`,
		`{"type":1,"requestId":null}`, `{"type":7,"packet":{"type":2,"data":["e"]}}`, `  {}`,
	} {
		if _, err := DecodeRequest([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeRequest(%q) error = %v, want ErrMalformed", bad, err)
		}
	}
	if _, err := AppendRequest(nil, Request{Type: TypeServerSideEmit, Data: json.RawMessage(`[`)}); err == nil {
		t.Error("invalid server-side emit data was encoded")
	}
}
