package service

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestClipCutsLongTextTheSameFromStringOrBytes(t *testing.T) {
	short := `{"id":7}`
	if got := clip(short); got != short {
		t.Errorf("clip(string) of a short text: %q", got)
	}
	if got := clip(json.RawMessage(short)); got != short {
		t.Errorf("clip(RawMessage) of a short text: %q", got)
	}
	long := `"` + strings.Repeat("x", maxLoggedPayload+10) + `"`
	want := long[:maxLoggedPayload] + "...(2060 bytes)"
	if got := clip(long); got != want {
		t.Errorf("clip(string) of %d bytes: %d bytes, ends %q", len(long), len(got), got[len(got)-20:])
	}
	if got := clip([]byte(long)); got != want {
		t.Errorf("clip([]byte) of %d bytes: %d bytes, ends %q", len(long), len(got), got[len(got)-20:])
	}
}
