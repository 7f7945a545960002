package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func addSeeds(f *testing.F) {
	for _, c := range broadcastVectors {
		f.Add(unhex(f, c.hex))
	}
	for _, c := range requestVectors {
		f.Add([]byte(c.text))
	}
	for _, h := range []string{"d40000", "d7000000018bcfe56800", "c7030001ff02", "c70cffffffffff0000000000000001",
		"83a3616263a178d920616161616161616161616161616161616161616161616161616161616161616101c0a17a", "c1", "dc0010"} {
		f.Add(unhex(f, h))
	}
}

// FuzzDecode: any input either fails with ErrMalformed or decodes to a value that converts to
// Socket.IO data and encodes again, and the encoding decodes.
func FuzzDecode(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not ErrMalformed: %v", err)
			}
			return
		}
		text, _, err := ToSocketIO(v)
		if err != nil {
			t.Fatalf("ToSocketIO: %v", err)
		}
		if !json.Valid(text) {
			t.Fatalf("ToSocketIO produced invalid JSON %q", text)
		}
		enc, err := Append(nil, v)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		if _, err := Decode(enc); err != nil {
			t.Fatalf("Decode(Append(v)): %v", err)
		}
	})
}

// FuzzFromJSON: the parser accepts exactly the documents encoding/json accepts (below the
// depth limit), and what it reads converts back to equivalent JSON.
func FuzzFromJSON(f *testing.F) {
	for _, c := range requestVectors {
		f.Add([]byte(c.text))
	}
	for _, s := range []string{`[1,2.5e3,"\u00e9",{"a":null}]`, `{"a":1,"a":2}`, `-0`, `"\ud800"`, `[1e400]`, `{"__proto__":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := FromJSON(b)
		valid := json.Valid(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not ErrMalformed: %v", err)
			}
			if valid && !strings.Contains(err.Error(), "nesting") {
				t.Fatalf("rejected valid JSON %q: %v", b, err)
			}
			return
		}
		if !valid {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		out, err := ToJSON(v)
		if err != nil {
			t.Fatalf("ToJSON: %v", err)
		}
		if !utf8.Valid(b) {
			return // repaired as Node repairs it (WHATWG), not as encoding/json does
		}
		var x, y any
		if json.Unmarshal(b, &x) != nil {
			return // numbers out of float64 range: encoding/json refuses them, JavaScript does not
		}
		if err := json.Unmarshal(out, &y); err != nil {
			t.Fatalf("ToJSON produced %q: %v", out, err)
		}
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("%q became %q", b, out)
		}
	})
}

// FuzzFromSocketIO: packet data with attachments never panics, and what it accepts encodes.
func FuzzFromSocketIO(f *testing.F) {
	f.Add([]byte(`["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), 2)
	f.Add([]byte(`["e",{"_placeholder":true,"num":5}]`), 1)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		atts := make([][]byte, min(max(n, 0), 8))
		for i := range atts {
			atts[i] = []byte{byte(i)}
		}
		v, err := FromSocketIO(b, atts)
		if err != nil {
			return
		}
		if _, err := Append(nil, v); err != nil {
			t.Fatalf("Append: %v", err)
		}
	})
}

// FuzzDecodeBroadcast: a decoded broadcast encodes again and decodes to the same message.
func FuzzDecodeBroadcast(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeBroadcast(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not ErrMalformed: %v", err)
			}
			return
		}
		enc, err := AppendBroadcast(nil, m)
		if err != nil {
			t.Fatalf("AppendBroadcast: %v", err)
		}
		again, err := DecodeBroadcast(enc)
		if err != nil {
			t.Fatalf("DecodeBroadcast(AppendBroadcast(m)): %v", err)
		}
		if again.UID != m.UID || again.Packet.Nsp != m.Packet.Nsp || !bytes.Equal(again.Packet.Data, m.Packet.Data) ||
			!reflect.DeepEqual(again.Packet.Attachments, m.Packet.Attachments) ||
			strings.Join(again.Opts.Rooms, "\x00") != strings.Join(m.Opts.Rooms, "\x00") ||
			strings.Join(again.Opts.Except, "\x00") != strings.Join(m.Opts.Except, "\x00") ||
			again.Opts.Flags.Volatile != m.Opts.Flags.Volatile {
			t.Fatalf("round trip changed the message:\n %+v\n %+v", m, again)
		}
	})
}

// FuzzDecodeRequest: never panics; a decoded request of a known type encodes again.
func FuzzDecodeRequest(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRequest(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not ErrMalformed: %v", err)
			}
			return
		}
		if r.Type < TypeSockets || r.Type > TypeBroadcast {
			return
		}
		enc, err := AppendRequest(nil, r)
		if err != nil {
			t.Fatalf("AppendRequest(%+v): %v", r, err)
		}
		again, err := DecodeRequest(enc)
		if err != nil {
			t.Fatalf("DecodeRequest(AppendRequest(r)) of %q: %v", enc, err)
		}
		if again.Type != r.Type || again.UID != r.UID || again.RequestID != r.RequestID {
			t.Fatalf("round trip changed the request:\n %+v\n %+v", r, again)
		}
	})
}

// FuzzDecodeResponse: never panics.
func FuzzDecodeResponse(f *testing.F) {
	addSeeds(f)
	f.Add([]byte(`{"requestId":"q","sockets":[{"id":"s","handshake":{},"rooms":["s"],"data":{}}]}`))
	f.Add([]byte(`{"type":8,"requestId":"T","clientCount":3}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := DecodeResponse(b); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error not ErrMalformed: %v", err)
		}
	})
}

// FuzzSkip: skip accepts and refuses exactly what value does, with the same error, and ends
// where value ends.
func FuzzSkip(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		skipLikeValue(t, b)
	})
}

// FuzzPeekBroadcast is the differential test of the early drop: whenever DecodeBroadcast
// accepts a message (so that a node would deliver it), PeekBroadcast accepts it too with the
// same uid and options, so that a node never drops, on the strength of the options alone, a
// message it would have delivered. Whatever PeekBroadcast refuses, DecodeBroadcast refuses;
// whatever it accepts is valid MessagePack.
func FuzzPeekBroadcast(f *testing.F) {
	addSeeds(f)
	for _, v := range []any{
		[]any{"u", Map{{"type", int64(2)}, {"data", []any{"e"}}}, Map{{"rooms", []any{"a", int64(3), 2.5, "a"}}, {"except", nil}}, "x"},
		[]any{int64(1), Map{{"type", 2.0}, {"data", []any{"e", []byte{1}}}, {"nsp", "/x"}}, Map{{"rooms", Undefined{}}, {"flags", Map{{"timeout", int64(5)}}}}},
		[]any{"u", Map{{"type", int64(2)}, {"data", []any{"e"}}}, Map{{"rooms", []any{"a"}}, {"rooms", []any{"b"}}, {"__proto__", int64(1)}}},
	} {
		raw, err := Append(nil, v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		full, ferr := DecodeBroadcast(b)
		uid, opts, perr := PeekBroadcast(b)
		if perr != nil && !errors.Is(perr, ErrMalformed) {
			t.Fatalf("error not ErrMalformed: %v", perr)
		}
		if ferr == nil {
			if perr != nil {
				t.Fatalf("DecodeBroadcast accepts what PeekBroadcast refuses: %v", perr)
			}
			if uid != full.UID || !reflect.DeepEqual(opts, full.Opts) {
				t.Fatalf("peeked %q %#v, decoded %q %#v", uid, opts, full.UID, full.Opts)
			}
			// The uid-only read agrees too: a node must never drop another node's message
			// as its own.
			if u, ok := BroadcastUID(b); (ok && u != full.UID) || (full.UID != "" && !ok) {
				t.Fatalf("BroadcastUID %q %v, decoded %q", u, ok, full.UID)
			}
		}
		if perr == nil {
			if _, err := Decode(b); err != nil {
				t.Fatalf("PeekBroadcast accepts MessagePack that Decode refuses: %v", err)
			}
		}
	})
}
