package packet

import (
	"bytes"
	"errors"
	"testing"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		binary bool
		want   Packet
		err    error
	}{
		{"message", "4hello", false, Packet{Type: Message, Data: []byte("hello")}, nil},
		{"ping", "2", false, Packet{Type: Ping, Data: []byte{}}, nil},
		{"probe", "2probe", false, Packet{Type: Ping, Data: []byte("probe")}, nil},
		{"upgrade", "5", false, Packet{Type: Upgrade, Data: []byte{}}, nil},
		{"utf8", "4é€😀", false, Packet{Type: Message, Data: []byte("é€😀")}, nil},
		{"binary frame", "\x01\x02\x03", true, Packet{Type: Message, Data: []byte{1, 2, 3}, Binary: true}, nil},
		{"empty binary frame", "", true, Packet{Type: Message, Data: []byte{}, Binary: true}, nil},
		{"empty", "", false, Packet{}, ErrEmpty},
		{"unknown type", "abc", false, Packet{}, ErrUnknownType},
		{"type 7", "7", false, Packet{}, ErrUnknownType},
		{"base64 in a text frame", "bAQID", false, Packet{}, ErrUnknownType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.in), tt.binary)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("err %v does not wrap ErrInvalid", err)
				}
				return
			}
			if got.Type != tt.want.Type || got.Binary != tt.want.Binary || !bytes.Equal(got.Data, tt.want.Data) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecodePayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []Packet
		err  error
	}{
		{"one", "4hello", []Packet{{Type: Message, Data: []byte("hello")}}, nil},
		{"several", "4test1\x1e4test2\x1e4test3", []Packet{
			{Type: Message, Data: []byte("test1")},
			{Type: Message, Data: []byte("test2")},
			{Type: Message, Data: []byte("test3")},
		}, nil},
		{"text and binary", "4hello\x1ebAQIDBA==", []Packet{
			{Type: Message, Data: []byte("hello")},
			{Type: Message, Data: []byte{1, 2, 3, 4}, Binary: true},
		}, nil},
		{"pong and close", "3\x1e1", []Packet{{Type: Pong, Data: []byte{}}, {Type: Close, Data: []byte{}}}, nil},
		{"empty binary", "b", []Packet{{Type: Message, Data: []byte{}, Binary: true}}, nil},
		{"empty body", "", nil, ErrEmpty},
		{"empty record", "4a\x1e\x1e4b", []Packet{{Type: Message, Data: []byte("a")}}, ErrEmpty},
		{"trailing separator", "4a\x1e", []Packet{{Type: Message, Data: []byte("a")}}, ErrEmpty},
		{"invalid", "abc", nil, ErrUnknownType},
		{"bad base64", "4a\x1eb!!!!", []Packet{{Type: Message, Data: []byte("a")}}, ErrBadBase64},
		{"short base64", "bAQI", nil, ErrBadBase64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Packet
			err := DecodePayload([]byte(tt.in), func(p Packet) error {
				got = append(got, p)
				return nil
			})
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d packets %+v, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				if got[i].Type != tt.want[i].Type || got[i].Binary != tt.want[i].Binary || !bytes.Equal(got[i].Data, tt.want[i].Data) {
					t.Errorf("packet %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestDecodePayloadStopsOnCallbackError(t *testing.T) {
	t.Parallel()
	stop := errors.New("stop")
	n := 0
	err := DecodePayload([]byte("4a\x1e4b\x1e4c"), func(Packet) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Fatalf("err = %v after %d packets, want stop after 2", err, n)
	}
}

func TestEncode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ps   []Packet
		want string
	}{
		{"message", []Packet{{Type: Message, Data: []byte("hello")}}, "4hello"},
		{"ping", []Packet{{Type: Ping}}, "2"},
		{"binary", []Packet{{Type: Message, Data: []byte{1, 2, 3, 4}, Binary: true}}, "bAQIDBA=="},
		{"mixed", []Packet{{Type: Message, Data: []byte("hello")}, {Type: Message, Data: []byte{1, 2, 3, 4}, Binary: true}}, "4hello\x1ebAQIDBA=="},
		{"open", []Packet{{Type: Open, Data: []byte(`{"sid":"x"}`)}}, `0{"sid":"x"}`},
		{"three", []Packet{{Type: Message, Data: []byte("a")}, {Type: Ping}, {Type: Noop}}, "4a\x1e2\x1e6"},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendPayload([]byte("x"), tt.ps)
			if string(got) != "x"+tt.want {
				t.Errorf("AppendPayload = %q, want %q", got, "x"+tt.want)
			}
			if len(tt.ps) == 1 && EncodedLen(tt.ps[0]) != len(tt.want) {
				t.Errorf("EncodedLen = %d, want %d", EncodedLen(tt.ps[0]), len(tt.want))
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	ps := []Packet{
		{Type: Message, Data: []byte("héllo")},
		{Type: Message, Data: []byte{0, 0x1e, 0xff}, Binary: true},
		{Type: Pong, Data: []byte("probe")},
		{Type: Close, Data: []byte{}},
	}
	var got []Packet
	if err := DecodePayload(AppendPayload(nil, ps), func(p Packet) error { got = append(got, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ps) {
		t.Fatalf("got %d packets, want %d", len(got), len(ps))
	}
	for i := range ps {
		if got[i].Type != ps[i].Type || got[i].Binary != ps[i].Binary || !bytes.Equal(got[i].Data, ps[i].Data) {
			t.Errorf("packet %d = %+v, want %+v", i, got[i], ps[i])
		}
	}
}

func TestTypeString(t *testing.T) {
	t.Parallel()
	names := map[Type]string{Open: "open", Close: "close", Ping: "ping", Pong: "pong", Message: "message", Upgrade: "upgrade", Noop: "noop", 'x': "unknown"}
	for typ, want := range names {
		if got := typ.String(); got != want {
			t.Errorf("%q.String() = %q, want %q", byte(typ), got, want)
		}
	}
}
