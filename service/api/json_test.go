package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestKeyHeaderIsCanonical(t *testing.T) {
	if got := http.CanonicalHeaderKey(KeyHeader); got != keyHeader {
		t.Fatalf("keyHeader %q, net/http stores %q", keyHeader, got)
	}
}

// checkAgainstEncodingJSON parses data with the scanner and with encoding/json (what the API
// used before) and fails when they disagree: on acceptance, on the members the API reads, or
// on the string and integer values decoded from them.
func checkAgainstEncodingJSON(t *testing.T, data []byte) {
	t.Helper()
	var want map[string]json.RawMessage
	wantOK := json.Unmarshal(data, &want) == nil && want != nil
	var o object
	gotOK := o.parse(data, "", -1) == nil
	if gotOK != wantOK {
		t.Fatalf("%q: scanner accepts %v, encoding/json %v", data, gotOK, wantOK)
	}
	if !gotOK {
		return
	}
	for i, name := range memberNames {
		w, inWant := want[name]
		g, inGot := o.raw(i)
		if inWant != inGot || !bytes.Equal(w, g) {
			t.Fatalf("%q: member %s is %q (%v), encoding/json has %q (%v)", data, name, g, inGot, w, inWant)
		}
		var ws string
		wsErr := json.Unmarshal(w, &ws)
		gs, gsOK := stringValue(g)
		if inWant && (wsErr == nil && w[0] == '"') != gsOK || gsOK && gs != ws {
			t.Fatalf("%q: string %s decodes to %q (%v), encoding/json %q (%v)", data, name, gs, gsOK, ws, wsErr)
		}
		var wi int64
		wiErr := json.Unmarshal(w, &wi)
		gi, giOK := intValue(g)
		if inWant && (wiErr == nil && string(w) != "null") != giOK || giOK && gi != wi {
			t.Fatalf("%q: integer %s decodes to %d (%v), encoding/json %d (%v)", data, name, gi, giOK, wi, wiErr)
		}
		var wl []json.RawMessage
		wlErr := json.Unmarshal(w, &wl)
		gl, glOK := parseArray(g)
		if inWant && (wlErr == nil && string(w) != "null") != glOK || glOK && len(gl) != len(wl) {
			t.Fatalf("%q: array %s has %d elements (%v), encoding/json %d (%v)", data, name, len(gl), glOK, len(wl), wlErr)
		}
	}
}

func TestScannerAgreesWithEncodingJSON(t *testing.T) {
	for _, body := range scannerSeeds {
		checkAgainstEncodingJSON(t, []byte(body))
	}
	deep := strings.Repeat(`{"a":`, maxDepth-1) + `[]` + strings.Repeat(`}`, maxDepth-1)
	checkAgainstEncodingJSON(t, []byte(deep))
	tooDeep := strings.Repeat(`{"a":`, maxDepth) + `[]` + strings.Repeat(`}`, maxDepth)
	checkAgainstEncodingJSON(t, []byte(tooDeep))
}

var scannerSeeds = []string{
	``, ` `, `{`, `}`, `{}`, ` { } `, `[]`, `null`, `"x"`, `1`, `{} x`, `{},`, `{"a":1,}`, `{"a" 1}`, `{a:1}`,
	`{"event":"e","room":"r","payload":{"id":7,"s":"ready","l":[1,2.5,-3e2,true,false,null]}}`,
	`{"event":"a","event":"b"}`, `{"ev\u0065nt":"x","room":"\u00e9\ud800"}`, `{"event":"\ud83c\udf45 é"}`,
	`{"payload":"tab	inside"}`, `{"payload":"\x"}`, `{"payload":"\u12"}`, `{"payload":01}`, `{"payload":-}`,
	`{"payload":1.}`, `{"payload":.5}`, `{"payload":1e}`, `{"payload":1E+5}`, `{"payload":-0.0e-0}`,
	`{"payload":tru}`, `{"payload":nul}`, `{"payload":[1 2]}`, `{"payload":[1,]}`, `{"payload":[,1]}`,
	`{"ack":{"timeoutMs":100}}`, `{"timeoutMs":1.5}`, `{"timeoutMs":1e3}`, `{"timeoutMs":-0}`,
	`{"timeoutMs":99999999999999999999}`, `{"timeoutMs":"5"}`, `{"timeoutMs":null}`,
	`{"rooms":["a","b"],"except":"c"}`, `{"rooms":[]}`, `{"rooms":null}`, `{"emits":[{"event":"a"},5]}`,
	"{\"event\":\"\xff\"}", "\t{\"close\":true}\r\n", `{"close":true}}`, `{"":1,"x":{"y":[{}]}}`,
}

func FuzzParseObject(f *testing.F) {
	for _, s := range scannerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkAgainstEncodingJSON)
}
