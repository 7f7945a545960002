package parser

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestAppendText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    Packet
		want string
	}{
		{Packet{Type: Connect, ID: NoID, Data: []byte(`{"sid":"abc"}`)}, `0{"sid":"abc"}`},
		{Packet{Type: Connect, Namespace: "/custom", ID: NoID, Data: []byte(`{"sid":"abc"}`)}, `0/custom,{"sid":"abc"}`},
		{Packet{Type: Disconnect, Namespace: "/", ID: NoID}, `1`},
		{Packet{Type: Disconnect, Namespace: "/admin", ID: NoID}, `1/admin,`},
		{Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`["auth",{}]`)}, `2["auth",{}]`},
		{Packet{Type: Event, Namespace: "/admin", ID: 12, Data: []byte(`["x"]`)}, `2/admin,12["x"]`},
		{Packet{Type: Ack, Namespace: "/", ID: 456, Data: []byte(`[1,"2",{"3":[false]}]`)}, `3456[1,"2",{"3":[false]}]`},
		{Packet{Type: Ack, Namespace: "/", ID: 0, Data: []byte(`[]`)}, `30[]`},
		{Packet{Type: ConnectError, Namespace: "/random", ID: NoID, Data: []byte(`{"message":"Invalid namespace"}`)}, `4/random,{"message":"Invalid namespace"}`},
		{Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), Attachments: [][]byte{{1}, {2}}},
			`52-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`},
		{Packet{Type: Ack, Namespace: "/", ID: 789, Data: []byte(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1}}},
			`61-789[{"_placeholder":true,"num":0}]`},
		{Packet{Type: BinaryEvent, Namespace: "/", ID: NoID, Data: []byte(`["x"]`)}, `2["x"]`},
		{Packet{Type: BinaryAck, Namespace: "/", ID: 3, Data: []byte(`[]`)}, `33[]`},
	}
	for _, tt := range tests {
		got := AppendText([]byte("4"), &tt.p)
		if string(got) != "4"+tt.want {
			t.Errorf("AppendText(%+v) = %q, want %q", tt.p, got, "4"+tt.want)
		}
		if n := TextLen(&tt.p); n != len(tt.want) {
			t.Errorf("TextLen(%+v) = %d, want %d", tt.p, n, len(tt.want))
		}
		text, att := Encode(&tt.p)
		if string(text) != tt.want || len(att) != len(tt.p.Attachments) {
			t.Errorf("Encode(%+v) = %q, %d attachments", tt.p, text, len(att))
		}
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	in := []Packet{
		{Type: Event, Namespace: "/chat", ID: 99, Data: []byte(`["e",{"k":"v"},[1,2.50,1e400]]`)},
		{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`["bin",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`), Attachments: [][]byte{{0xff}, {}}},
		{Type: Connect, Namespace: "/x", ID: NoID},
	}
	for _, p := range in {
		text, att := Encode(&p)
		var d Decoder
		got, err := d.Decode(text, false)
		for i := 0; err == nil && i < len(att); i++ {
			if got != nil {
				t.Fatalf("packet complete before attachment %d", i)
			}
			got, err = d.Decode(att[i], true)
		}
		if err != nil {
			t.Fatalf("decode %q: %v", text, err)
		}
		want := p
		if len(p.Attachments) > 0 {
			want.Type = BinaryEvent
		}
		assertPacket(t, got, &want)
	}
}

func TestAppendPlaceholders(t *testing.T) {
	t.Parallel()
	data := []byte(`[{"_placeholder":true,"num":0},{"a":[{"num":1,"_placeholder":true}]},{"_placeholder":true,"num":2,"x":{"_placeholder":true,"num":5}}]`)
	phs, err := AppendPlaceholders(nil, data)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		text      string
		num       int
		canonical bool
	}{
		{`{"_placeholder":true,"num":0}`, 0, true},
		{`{"num":1,"_placeholder":true}`, 1, false},
		{`{"_placeholder":true,"num":2,"x":{"_placeholder":true,"num":5}}`, 2, false},
	}
	if len(phs) != len(want) {
		t.Fatalf("got %d placeholders %+v, want %d", len(phs), phs, len(want))
	}
	for i, w := range want {
		if got := string(data[phs[i].Start:phs[i].End]); got != w.text || phs[i].Num != w.num || phs[i].Canonical != w.canonical {
			t.Errorf("placeholder %d = %q num %d canonical %v; want %q %d %v", i, got, phs[i].Num, phs[i].Canonical, w.text, w.num, w.canonical)
		}
	}
}

func TestElements(t *testing.T) {
	t.Parallel()
	got, err := Elements(nil, []byte(` [ "a" , 1,{"b" : [2]} ,null ] `))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`"a"`, `1`, `{"b" : [2]}`, `null`}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("element %d = %s, want %s", i, got[i], want[i])
		}
	}
	if got, err := Elements(nil, []byte(`[]`)); err != nil || len(got) != 0 {
		t.Errorf("empty array: %q, %v", got, err)
	}
	for _, bad := range []string{``, `{}`, `[`, `[1,]`, `[1 2]`, `[1]x`, `"a"`} {
		if _, err := Elements(nil, []byte(bad)); err == nil {
			t.Errorf("Elements(%q) succeeded", bad)
		}
	}
}

// TestValidMatchesEncodingJSON compares the scanner with encoding/json on tricky inputs.
func TestValidMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	inputs := []string{
		`0`, `-0`, `-`, `01`, `1.`, `.1`, `1e5`, `1E+5`, `1e-5`, `1e`, `-1.5e-3`, `"\u00e9"`, `"\u00g9"`,
		`"\/"`, `"\x"`, `"a` + "\t" + `b"`, `[1,[2,[3]]]`, `{"a":1,}`, `{,}`, `{"a" 1}`, `{1:2}`,
		` true `, `truee`, `nul`, `[] []`, ``, ` `, `{"a":{"b":{}}}`, `"\ud800"`, `[-]`, `[--1]`,
	}
	for _, in := range inputs {
		if got, want := Valid([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Errorf("Valid(%q) = %v, encoding/json says %v", in, got, want)
		}
	}
	if Valid(append(bytes.Repeat([]byte("["), maxDepth+1), bytes.Repeat([]byte("]"), maxDepth+1)...)) {
		t.Error("nesting deeper than maxDepth accepted")
	}
	if !Valid(append(bytes.Repeat([]byte("["), maxDepth), bytes.Repeat([]byte("]"), maxDepth)...)) {
		t.Error("nesting of maxDepth refused")
	}
}

// members reads every member of object with a MemberReader, as [key, value] pairs.
func members(object []byte) ([][2][]byte, error) {
	var all [][2][]byte
	r := ReadMembers(object)
	for {
		key, value, err := r.Next()
		if err != nil || key == nil {
			return all, err
		}
		all = append(all, [2][]byte{key, value})
	}
}

func TestMemberReader(t *testing.T) {
	t.Parallel()
	got, err := members([]byte(` { "a" : [1, {"x":2}] ,"b\u0062":"s", "a":null } `))
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{`"a"`, `[1, {"x":2}]`}, {`"b\u0062"`, `"s"`}, {`"a"`, `null`}}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i, w := range want {
		if string(got[i][0]) != w[0] || string(got[i][1]) != w[1] {
			t.Errorf("member %d = %s:%s, want %s:%s", i, got[i][0], got[i][1], w[0], w[1])
		}
	}
	if got, err := members([]byte(`{}`)); err != nil || len(got) != 0 {
		t.Errorf("empty object: %q, %v", got, err)
	}
	for _, bad := range []string{``, `[]`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{a:1}`, `{"a":1 "b":2}`, `{"a":1}x`, `null`} {
		if _, err := members([]byte(bad)); err == nil {
			t.Errorf("members(%q) succeeded", bad)
		}
	}
}
