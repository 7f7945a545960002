package parser

import (
	"bytes"
	"errors"
	"testing"
)

func TestDecodeValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Packet
	}{
		{`0`, Packet{Type: Connect, Namespace: "/", ID: NoID}},
		{`0{"token":"123"}`, Packet{Type: Connect, Namespace: "/", ID: NoID, Data: []byte(`{"token":"123"}`)}},
		{`0/custom`, Packet{Type: Connect, Namespace: "/custom", ID: NoID}},
		{`0/custom,`, Packet{Type: Connect, Namespace: "/custom", ID: NoID}},
		{`0/admin,{"token":"x"}`, Packet{Type: Connect, Namespace: "/admin", ID: NoID, Data: []byte(`{"token":"x"}`)}},
		{`1`, Packet{Type: Disconnect, Namespace: "/", ID: NoID}},
		{`1/admin,`, Packet{Type: Disconnect, Namespace: "/admin", ID: NoID}},
		{`2["hey","Jude"]`, Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`["hey","Jude"]`)}},
		{`212["foo"]`, Packet{Type: Event, Namespace: "/", ID: 12, Data: []byte(`["foo"]`)}},
		{`2/admin,["bar"]`, Packet{Type: Event, Namespace: "/admin", ID: NoID, Data: []byte(`["bar"]`)}},
		{`2/admin,7[1]`, Packet{Type: Event, Namespace: "/admin", ID: 7, Data: []byte(`[1]`)}},
		{`2[42,"numeric event"]`, Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`[42,"numeric event"]`)}},
		{`2 [ "spaced" ] `, Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(` [ "spaced" ] `)}},
		{`2["connect_errors"]`, Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`["connect_errors"]`)}},
		{`3456[1,"2"]`, Packet{Type: Ack, Namespace: "/", ID: 456, Data: []byte(`[1,"2"]`)}},
		{`3/admin,13["bar"]`, Packet{Type: Ack, Namespace: "/admin", ID: 13, Data: []byte(`["bar"]`)}},
		{`30[]`, Packet{Type: Ack, Namespace: "/", ID: 0, Data: []byte(`[]`)}},
		{`30`, Packet{Type: Ack, Namespace: "/", ID: 0}},
		{`4{"message":"Not authorized"}`, Packet{Type: ConnectError, Namespace: "/", ID: NoID, Data: []byte(`{"message":"Not authorized"}`)}},
		{`4/random,{"message":"Invalid namespace"}`, Packet{Type: ConnectError, Namespace: "/random", ID: NoID, Data: []byte(`{"message":"Invalid namespace"}`)}},
		{`4"legacy"`, Packet{Type: ConnectError, Namespace: "/", ID: NoID, Data: []byte(`"legacy"`)}},
		{`2["é€😀",{"a":[true,false,null,-1.5e+3]}]`, Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`["é€😀",{"a":[true,false,null,-1.5e+3]}]`)}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			var d Decoder
			p, err := d.Decode([]byte(tt.in), false)
			if err != nil {
				t.Fatalf("Decode(%q): %v", tt.in, err)
			}
			assertPacket(t, p, &tt.want)
		})
	}
}

func TestDecodeInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want error
	}{
		{``, ErrEmpty},
		{`abc`, ErrUnknownType},
		{`7`, ErrUnknownType},
		{`9["x"]`, ErrUnknownType},
		{`/`, ErrUnknownType},
		{`0[]`, ErrBadPayload},
		{`0"x"`, ErrBadPayload},
		{`0null`, ErrBadPayload},
		{`0{`, ErrBadJSON},
		{`1{}`, ErrBadPayload},
		{`1/admin,{}`, ErrBadPayload},
		{`2`, ErrBadPayload},
		{`2{}`, ErrBadPayload},
		{`2[]`, ErrBadPayload},
		{`2[null]`, ErrBadPayload},
		{`2[{}]`, ErrBadPayload},
		{`2abc["x"]`, ErrBadJSON},
		{`2["x"]x`, ErrBadJSON},
		{`2["x",]`, ErrBadJSON},
		{`2["x"`, ErrBadJSON},
		{`2["x\q"]`, ErrBadJSON},
		{"2[\"x\ny\"]", ErrBadJSON},
		{`2[01]`, ErrBadJSON},
		{`2[1.]`, ErrBadJSON},
		{`2[-]`, ErrBadJSON},
		{`2[1e]`, ErrBadJSON},
		{`2[tru]`, ErrBadJSON},
		{`2[NaN]`, ErrBadJSON},
		{`2["connect"]`, ErrReservedEvent},
		{`2["connect_error"]`, ErrReservedEvent},
		{`2["disconnect"]`, ErrReservedEvent},
		{`2["disconnecting"]`, ErrReservedEvent},
		{`2["newListener"]`, ErrReservedEvent},
		{`2["removeListener"]`, ErrReservedEvent},
		{`2["dis\u0063onnect"]`, ErrReservedEvent},
		{`3{}`, ErrBadPayload},
		{`3"x"`, ErrBadPayload},
		{`4`, ErrBadPayload},
		{`4[]`, ErrBadPayload},
		{`4/admin,1`, ErrBadPayload},
		{`5["x"]`, ErrBadAttachments},
		{`5-["x"]`, ErrBadAttachments},
		{`50-["x"]`, ErrBadAttachments},
		{`51["x"]`, ErrBadAttachments},
		{`51`, ErrBadAttachments},
		{`511-["x",{"_placeholder":true,"num":0}]`, ErrTooManyAttachments},
		{`599999999999999999999-[]`, ErrTooManyAttachments},
		{`51-["x",{"_placeholder":true,"num":1}]`, ErrBadPlaceholder},
		{`51-["x",{"_placeholder":true,"num":-1}]`, ErrBadPlaceholder},
		{`51-["x",{"_placeholder":true,"num":0.5}]`, ErrBadPlaceholder},
		{`51-["x",{"_placeholder":true,"num":"0"}]`, ErrBadPlaceholder},
		{`51-["x",{"_placeholder":true}]`, ErrBadPlaceholder},
		{`61-{}`, ErrBadPayload},
		{`21234567890123456789["x"]`, ErrBadID},
		{"2[\"\xff\"]", ErrBadUTF8},
		{`2` + string(bytes.Repeat([]byte("["), maxDepth+1)), ErrBadJSON},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			var d Decoder
			p, err := d.Decode([]byte(tt.in), false)
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrInvalid) || p != nil {
				t.Fatalf("Decode(%q) = %v, %v; want error %v", tt.in, p, err, tt.want)
			}
			if d.Waiting() {
				t.Fatalf("decoder waits after an error")
			}
		})
	}
}

func TestDecodeBinary(t *testing.T) {
	t.Parallel()
	var d Decoder
	header := `52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`
	steps := []struct {
		data   string
		binary bool
	}{{header, false}, {"\x01\x02\x03", true}}
	for _, s := range steps {
		p, err := d.Decode([]byte(s.data), s.binary)
		if p != nil || err != nil {
			t.Fatalf("Decode(%q) = %v, %v before the last attachment", s.data, p, err)
		}
		if !d.Waiting() {
			t.Fatalf("decoder does not wait after %q", s.data)
		}
	}
	p, err := d.Decode([]byte{4, 5, 6}, true)
	if err != nil {
		t.Fatal(err)
	}
	assertPacket(t, p, &Packet{Type: BinaryEvent, Namespace: "/", ID: NoID,
		Data: []byte(header[3:]), Attachments: [][]byte{{1, 2, 3}, {4, 5, 6}}})
	if d.Waiting() {
		t.Fatal("decoder still waiting after the last attachment")
	}

	// A binary ack with an id and a namespace.
	if _, err := d.Decode([]byte(`61-/admin,789[{"_placeholder":true,"num":0}]`), false); err != nil {
		t.Fatal(err)
	}
	p, err = d.Decode([]byte{}, true)
	if err != nil {
		t.Fatal(err)
	}
	assertPacket(t, p, &Packet{Type: BinaryAck, Namespace: "/admin", ID: 789,
		Data: []byte(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{}}})
}

func TestDecodeBinaryOutOfOrder(t *testing.T) {
	t.Parallel()
	var d Decoder
	if _, err := d.Decode([]byte{1}, true); !errors.Is(err, ErrUnexpectedBinary) {
		t.Fatalf("binary without header: %v", err)
	}
	if _, err := d.Decode([]byte(`51-["x",{"_placeholder":true,"num":0}]`), false); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Decode([]byte(`2["y"]`), false); !errors.Is(err, ErrUnexpectedText) {
		t.Fatalf("text during reconstruction: %v", err)
	}
	if d.Waiting() {
		t.Fatal("decoder still waiting after an error")
	}
	// The decoder is usable again after the error.
	if p, err := d.Decode([]byte(`2["y"]`), false); err != nil || p == nil {
		t.Fatalf("after reset: %v, %v", p, err)
	}
}

func TestDecodeMaxAttachments(t *testing.T) {
	t.Parallel()
	d := Decoder{MaxAttachments: 2}
	if _, err := d.Decode([]byte(`53-["x"]`), false); !errors.Is(err, ErrTooManyAttachments) {
		t.Fatalf("3 attachments with max 2: %v", err)
	}
	if _, err := d.Decode([]byte(`52-["x"]`), false); err != nil {
		t.Fatalf("2 attachments with max 2: %v", err)
	}
}

// TestDecodePlaceholderRules pins how placeholder objects are recognised: as the reference does,
// by "_placeholder" being true; the innermost of nested placeholders is never looked at.
func TestDecodePlaceholderRules(t *testing.T) {
	t.Parallel()
	ok := []string{
		`51-["x",{"num":0,"_placeholder":true}]`,
		`51-["x",{"_placeholder":false,"num":7}]`,
		`51-["x",{"_placeholder":true,"num":0,"inner":{"_placeholder":true,"num":9}}]`,
		`51-["x",{"_placeholder":true,"num":0.0}]`,
		`51-["x",{"_placeholder":true,"num":-0}]`,
		`51-["x",{"_placeholder":true,"num":9,"num":0}]`,
		`51-["x",{"_plac\u0065holder":true,"num":0}]`,
		`51-["x"]`,
	}
	for _, in := range ok {
		var d Decoder
		if _, err := d.Decode([]byte(in), false); err != nil {
			t.Errorf("Decode(%q): %v", in, err)
		}
	}
	bad := []string{
		`51-["x",{"_placeholder":true,"num":0,"num":9}]`,
		`51-["x",{"_plac\u0065holder":true,"num":3}]`,
		`51-["x",{"a":{"_placeholder":true,"num":3}}]`,
	}
	for _, in := range bad {
		var d Decoder
		if _, err := d.Decode([]byte(in), false); !errors.Is(err, ErrBadPlaceholder) {
			t.Errorf("Decode(%q): %v, want ErrBadPlaceholder", in, err)
		}
	}
}

func TestEventName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`["hello",1]`:       "hello",
		` [ "a\"b" ]`:       `a"b`,
		`["\u00e9t\u00e9"]`: "été",
		`[42]`:              "42",
		`[-1.5e3,"x"]`:      "-1.5e3",
	} {
		got, err := EventName([]byte(in))
		if err != nil || got != want {
			t.Errorf("EventName(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{``, `{}`, `[]`, `[null]`, `[{"a":1}]`} {
		if _, err := EventName([]byte(in)); err == nil {
			t.Errorf("EventName(%s) succeeded", in)
		}
	}
}

func assertPacket(t *testing.T, got, want *Packet) {
	t.Helper()
	if got == nil {
		t.Fatalf("got no packet, want %+v", want)
	}
	if got.Type != want.Type || got.Namespace != want.Namespace || got.ID != want.ID ||
		!bytes.Equal(got.Data, want.Data) || (got.Data == nil) != (want.Data == nil) ||
		len(got.Attachments) != len(want.Attachments) {
		t.Fatalf("got %+v (data %q), want %+v (data %q)", got, got.Data, want, want.Data)
	}
	for i := range want.Attachments {
		if !bytes.Equal(got.Attachments[i], want.Attachments[i]) {
			t.Fatalf("attachment %d = %x, want %x", i, got.Attachments[i], want.Attachments[i])
		}
	}
}
