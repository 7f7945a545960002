package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

// seeds are packets from the protocol notes and the official test suite, valid and invalid.
var seeds = []string{
	`0`, `0{"token":"123"}`, `0/custom`, `0/admin,{"token":"x"}`, `1`, `1/admin,`, `2["hey","Jude"]`,
	`212["foo"]`, `2/admin,["bar"]`, `3/admin,13["bar"]`, `3456[1,"2"]`, `4{"message":"Not authorized"}`,
	`52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`,
	`62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`,
	`abc`, `2{}`, `2abc["x"]`, `5-[]`, `51-{"_placeholder":true,"num":0}`, `2["connect"]`,
	`2[1,{"a":[true,null,-1.5e3]}]`, `2["\u00e9\ud83d\ude00"]`,
}

// FuzzDecode feeds one message, then (when the packet waits for attachments) empty binary
// messages. Whatever the input: no panic, errors wrap ErrInvalid, and an accepted packet encodes
// back to text that decodes to the same packet.
func FuzzDecode(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s), false)
	}
	f.Add([]byte{1, 2, 3}, true)
	f.Fuzz(func(t *testing.T, data []byte, binary bool) {
		var d Decoder
		p, err := d.Decode(data, binary)
		for i := 0; err == nil && p == nil && d.Waiting(); i++ {
			if i > DefaultMaxAttachments {
				t.Fatal("decoder waits for more attachments than allowed")
			}
			p, err = d.Decode(nil, true)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if p == nil {
			t.Fatal("no packet and no error")
		}
		if p.Data != nil && (!json.Valid(p.Data) || !utf8.Valid(p.Data)) {
			t.Fatalf("accepted invalid JSON %q", p.Data)
		}
		text, att := Encode(p)
		var d2 Decoder
		q, err := d2.Decode(text, false)
		for i := 0; err == nil && i < len(att); i++ {
			q, err = d2.Decode(att[i], true)
		}
		if err != nil {
			t.Fatalf("re-decoding %q (from %q): %v", text, data, err)
		}
		if q.Type != p.Type || q.Namespace != p.Namespace || q.ID != p.ID || !bytes.Equal(q.Data, p.Data) {
			t.Fatalf("round trip of %q: %+v != %+v", data, q, p)
		}
	})
}

// FuzzValid checks the scanner against encoding/json.
func FuzzValid(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s[1:]))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := Valid(data), json.Valid(data); got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", data, got, want)
		}
		if phs, err := AppendPlaceholders(nil, data); err == nil {
			end := 0
			for _, ph := range phs {
				if ph.Start < end || ph.End > len(data) || data[ph.Start] != '{' || data[ph.End-1] != '}' {
					t.Fatalf("bad placeholder span %+v in %q", ph, data)
				}
				end = ph.End
			}
		}
		// MemberReader agrees with encoding/json on which inputs are objects, and on their members.
		found, err := members(data)
		var obj map[string]json.RawMessage
		isObject := json.Valid(data) && bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{"))
		if (err == nil) != isObject {
			t.Fatalf("members(%q): %v, but object = %v", data, err, isObject)
		}
		if err == nil && json.Unmarshal(data, &obj) == nil {
			last := map[string]string{}
			for _, m := range found {
				var k string
				if json.Unmarshal(m[0], &k) != nil || !json.Valid(m[1]) {
					t.Fatalf("member %q:%q of %q", m[0], m[1], data)
				}
				last[k] = string(m[1])
				if !KeyIs(m[0], k) {
					t.Fatalf("KeyIs(%q, %q) = false", m[0], k)
				}
				if m[1][0] == '"' {
					var want string
					json.Unmarshal(m[1], &want)
					if got, ok := Unquote(m[1]); !ok || got != want {
						t.Fatalf("Unquote(%q) = %q, %v; encoding/json %q", m[1], got, ok, want)
					}
				}
			}
			if len(last) != len(obj) {
				t.Fatalf("members(%q) found %d distinct keys, encoding/json %d", data, len(last), len(obj))
			}
			for k, v := range obj {
				if last[k] != string(v) {
					t.Fatalf("members(%q)[%q] = %q, encoding/json %q", data, k, last[k], v)
				}
			}
		}
	})
}
