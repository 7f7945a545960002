package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

func boolPtr(b bool) *bool { return &b }

// The captures of protocol/redis-adapter.md section 11: Go must decode Node's bytes and write
// the same bytes for the same broadcast.
var broadcastVectors = []struct {
	name    string
	hex     string
	emitter bool
	want    Broadcast
}{
	{
		name: "11.1 API emit, one room",
		hex: `93a646526e2d562d83a47479706502a46461746192a96f726465723a6e657788a2696407a5746f74616ccb4029000000
000000a56974656d7392a161a162a46e6f7465c0a26f6bc3a36e6567fda3626967cf0000000100000000a3756e69a9c3
a9e282acf09f9880a36e7370a12f83a5726f6f6d7391a7757365723a7532a665786365707490a5666c61677380`,
		want: Broadcast{
			UID: "FRn-V-",
			Packet: Packet{Type: 2, Nsp: "/", Data: json.RawMessage(
				`["order:new",{"id":7,"total":12.5,"items":["a","b"],"note":null,"ok":true,"neg":-3,"big":4294967296,"uni":"é€😀"}]`)},
			Opts: BroadcastOptions{Rooms: []string{"user:u2"}, Except: []string{}},
		},
	},
	{
		name: "11.2 API emit, several rooms",
		hex: `93a646526e2d562d83a47479706502a46461746192ab6d656e753a75706461746581a17601a36e7370a12f83a5726f6f
6d7393ad72657374617572616e743a7231a7757365723a7531a7757365723a7533a665786365707490a5666c61677380`,
		want: Broadcast{
			UID:    "FRn-V-",
			Packet: Packet{Type: 2, Nsp: "/", Data: json.RawMessage(`["menu:update",{"v":1}]`)},
			Opts:   BroadcastOptions{Rooms: []string{"restaurant:r1", "user:u1", "user:u3"}, Except: []string{}},
		},
	},
	{
		name: "11.3 API emit without payload",
		hex:  `93a655707067326a83a47479706502a46461746192a470696e67c0a36e7370a12f83a5726f6f6d7391a7757365723a7531a665786365707490a5666c61677380`,
		want: Broadcast{
			UID:    "Uppg2j",
			Packet: Packet{Type: 2, Nsp: "/", Data: json.RawMessage(`["ping",null]`)},
			Opts:   BroadcastOptions{Rooms: []string{"user:u1"}, Except: []string{}},
		},
	},
	{
		name: "11.4 except",
		hex:  `93a667696766494783a47479706502a46461746192a365786301a36e7370a12f83a5726f6f6d7391ad72657374617572616e743a7231a665786365707491a7757365723a7532a5666c61677380`,
		want: Broadcast{
			UID:    "gigfIG",
			Packet: Packet{Type: 2, Nsp: "/", Data: json.RawMessage(`["exc",1]`)},
			Opts:   BroadcastOptions{Rooms: []string{"restaurant:r1"}, Except: []string{"user:u2"}},
		},
	},
	{
		name: "11.5 flags",
		hex:  `93a667696766494783a47479706502a46461746192a3616c6ca178a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677382a8766f6c6174696c65c3a8636f6d7072657373c2`,
		want: Broadcast{
			UID:    "gigfIG",
			Packet: Packet{Type: 2, Nsp: "/", Data: json.RawMessage(`["all","x"]`)},
			Opts:   BroadcastOptions{Rooms: []string{}, Except: []string{}, Flags: Flags{Volatile: true, Compress: boolPtr(false)}},
		},
	},
	{
		name:    "11.7 emitter, several rooms and except",
		emitter: true,
		hex:     `93a7656d697474657283a47479706502a46461746192af656d2d6d756c74692d65786365707402a36e7370a12f83a5726f6f6d7392ad72657374617572616e743a7231a7757365723a7533a5666c61677380a665786365707491a7757365723a7532`,
		want: Broadcast{
			UID:    "emitter",
			Packet: Packet{Type: 2, Nsp: "/", Data: json.RawMessage(`["em-multi-except",2]`)},
			Opts:   BroadcastOptions{Rooms: []string{"restaurant:r1", "user:u3"}, Except: []string{"user:u2"}},
		},
	},
}

func TestBroadcastVectors(t *testing.T) {
	t.Parallel()
	for _, c := range broadcastVectors {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			raw := unhex(t, c.hex)
			got, err := DecodeBroadcast(raw)
			if err != nil {
				t.Fatal(err)
			}
			want := c.want
			if want.Opts.Rooms == nil {
				want.Opts.Rooms = []string{}
			}
			normalizeEmpty(&got)
			normalizeEmpty(&want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded\n %#v\nwant\n %#v", got, want)
			}
			appendFn := AppendBroadcast
			if c.emitter {
				appendFn = AppendEmitterBroadcast
			}
			enc, err := appendFn(nil, c.want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, raw) {
				t.Fatalf("encoded\n %x\nwant\n %x", enc, raw)
			}
		})
	}
}

func normalizeEmpty(b *Broadcast) {
	if len(b.Opts.Rooms) == 0 {
		b.Opts.Rooms = nil
	}
	if len(b.Opts.Except) == 0 {
		b.Opts.Except = nil
	}
}

// 11.6 and the second 11.7 capture hold dates, which Socket.IO data (JSON) cannot express:
// check the decoding to what a Node node sends its clients, and the exact re-encoding of the
// decoded values.
func TestBroadcastBinaryAndDates(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, hex, data string
		atts            [][]byte
		flags           Flags
		emitter         bool
	}{
		{
			name: "11.6 adapter",
			hex: `93a667696766494783a47479706502a46461746195a362696ec404010203ffd7ff1d5353006553f100d6ff6553f100c4
020908a36e7370a12f83a5726f6f6d7391a7757365723a7531a665786365707490a5666c61677380`,
			data: `["bin",{"_placeholder":true,"num":0},"2023-11-14T22:13:20.123Z","2023-11-14T22:13:20.000Z",{"_placeholder":true,"num":1}]`,
			atts: [][]byte{{1, 2, 3, 0xff}, {9, 8}},
		},
		{
			name:    "11.7 emitter, volatile and compress",
			hex:     `93a7656d697474657283a47479706502a46461746193ab656d2d766f6c6174696c65c4026869d7ff773594006553f100a36e7370a12f83a5726f6f6d7391a7757365723a7532a5666c61677382a8766f6c6174696c65c3a8636f6d7072657373c3a665786365707490`,
			data:    `["em-volatile",{"_placeholder":true,"num":0},"2023-11-14T22:13:20.500Z"]`,
			atts:    [][]byte{[]byte("hi")},
			flags:   Flags{Volatile: true, Compress: boolPtr(true)},
			emitter: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			raw := unhex(t, c.hex)
			b, err := DecodeBroadcast(raw)
			if err != nil {
				t.Fatal(err)
			}
			if string(b.Packet.Data) != c.data {
				t.Errorf("data = %s\nwant  %s", b.Packet.Data, c.data)
			}
			if !reflect.DeepEqual(b.Packet.Attachments, c.atts) {
				t.Errorf("attachments = %x, want %x", b.Packet.Attachments, c.atts)
			}
			if !reflect.DeepEqual(b.Opts.Flags, c.flags) {
				t.Errorf("flags = %+v, want %+v", b.Opts.Flags, c.flags)
			}
			v, err := Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := Append(nil, v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, raw) {
				t.Fatalf("re-encoded\n %x\nwant\n %x", enc, raw)
			}
		})
	}
}

func TestDecodeBroadcastLeniency(t *testing.T) {
	t.Parallel()
	// nsp absent means "/", numeric rooms are names, nil rooms are empty, unknown flags ignored.
	v := []any{int64(5), Map{{"type", 2.0}, {"data", []any{"e"}}}, Map{
		{"rooms", []any{int64(42), "r"}}, {"except", nil},
		{"flags", Map{{"timeout", int64(1500)}, {"broadcast", true}, {"local", true}}},
	}}
	raw, err := Append(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	b, err := DecodeBroadcast(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := Broadcast{
		Packet: Packet{Type: 2, Nsp: "/", Data: json.RawMessage(`["e"]`)},
		Opts:   BroadcastOptions{Rooms: []string{"42", "r"}, Flags: Flags{Timeout: 1500 * time.Millisecond}},
	}
	if !reflect.DeepEqual(b, want) {
		t.Fatalf("got %#v\nwant %#v", b, want)
	}
}

// What kills a Node node must be an error here, never a panic.
func TestDecodeBroadcastRejects(t *testing.T) {
	t.Parallel()
	for name, v := range map[string]any{
		"a map":            Map{{"a", int64(1)}},
		"two elements":     []any{"u", Map{}},
		"packet not a map": []any{"u", int64(3), Map{}},
		"connect packet":   []any{"u", Map{{"type", int64(0)}, {"data", []any{"e"}}}, Map{}},
		"data not array":   []any{"u", Map{{"type", int64(2)}, {"data", "x"}}, Map{}},
		"empty data":       []any{"u", Map{{"type", int64(2)}, {"data", []any{}}}, Map{}},
		"opts missing":     []any{"u", Map{{"type", int64(2)}, {"data", []any{"e"}}}, nil},
		"rooms a string":   []any{"u", Map{{"type", int64(2)}, {"data", []any{"e"}}}, Map{{"rooms", "abc"}}},
		"rooms hold a map": []any{"u", Map{{"type", int64(2)}, {"data", []any{"e"}}}, Map{{"rooms", []any{Map{}}}}},
		"nsp not a string": []any{"u", Map{{"type", int64(2)}, {"data", []any{"e"}}, {"nsp", nil}}, Map{}},
	} {
		raw, err := Append(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeBroadcast(raw); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error = %v, want ErrMalformed", name, err)
		}
	}
	if _, err := DecodeBroadcast([]byte{0xc1}); !errors.Is(err, ErrMalformed) {
		t.Errorf("0xc1: error = %v, want ErrMalformed", err)
	}
}

func TestAppendBroadcastEncodesOnce(t *testing.T) {
	t.Parallel()
	// Repeated rooms are written once, like a JavaScript Set; binary becomes bin; placeholder
	// numbers that point nowhere are an error, never garbage on the channel.
	b := Broadcast{UID: "go", Packet: Packet{Data: json.RawMessage(`["b",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{7}}},
		Opts: BroadcastOptions{Rooms: []string{"a", "a", "b"}, Except: []string{"c"}}}
	raw, err := AppendBroadcast(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "93a2676f83a47479706502a46461746192a162c40107a36e7370a12f83a5726f6f6d7392a161a162a665786365707491a163a5666c61677380")
	if !bytes.Equal(raw, want) {
		t.Fatalf("got  %x\nwant %x", raw, want)
	}
	b.Packet.Attachments = nil
	if _, err := AppendBroadcast(nil, b); !errors.Is(err, ErrMalformed) {
		t.Fatalf("placeholder without attachment: error = %v", err)
	}
	b.Packet.Data = json.RawMessage(`{"not":"an array"}`)
	if _, err := AppendBroadcast(nil, b); err == nil {
		t.Fatal("data that is not an array was encoded")
	}
}

func TestChannels(t *testing.T) {
	t.Parallel()
	c := NewChannels("", "/")
	if c.Broadcast != "socket.io#/#" || c.Request != "socket.io-request#/#" || c.Response != "socket.io-response#/#" {
		t.Fatalf("channels %+v", c)
	}
	if got := c.ForRooms([]string{"user:u2"}); got != "socket.io#/#user:u2#" {
		t.Errorf("one room: %s", got)
	}
	if got := c.ForRooms([]string{"a", "b"}); got != "socket.io#/#" {
		t.Errorf("two rooms: %s", got)
	}
	if got := c.ForRooms([]string{"a", "a"}); got != "socket.io#/#a#" {
		t.Errorf("one room twice: %s", got)
	}
	if got := c.ForRooms(nil); got != "socket.io#/#" {
		t.Errorf("no room: %s", got)
	}
	if got := c.SpecificResponse("In9vBy"); got != "socket.io-response#/#In9vBy#" {
		t.Errorf("specific response: %s", got)
	}
	if room, ok := c.RoomOf("socket.io#/#a#b#"); !ok || room != "a#b" {
		t.Errorf("RoomOf = %q, %v", room, ok)
	}
	if room, ok := c.RoomOf("socket.io#/#"); !ok || room != "" {
		t.Errorf("RoomOf base = %q, %v", room, ok)
	}
	if _, ok := c.RoomOf("socket.io#/admin#x#"); ok {
		t.Error("RoomOf accepted another namespace")
	}
	if p := NewChannels("a*b", "/x").Pattern(); p != `a\*b#/x#*` {
		t.Errorf("pattern %s", p)
	}
	if p := NewChannels("a?b", "/x").RoomsOfLen(3); p != `a\?b#/x#???#` {
		t.Errorf("pattern of 3-byte rooms %s", p)
	}
}
