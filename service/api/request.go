package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// httpError is an answer other than 200: its status and the message of {"message": ...}.
type httpError struct {
	status  int
	message string
}

func (e *httpError) Error() string { return e.message }

func badRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, message: fmt.Sprintf(format, args...)}
}

// readBody reads the whole body, at most limit bytes, and checks that it is UTF-8. Decoding
// only once the body is complete keeps a multi-byte character that arrived split across TCP
// reads intact.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, timeout time.Duration) ([]byte, error) {
	tooLarge := &httpError{status: http.StatusRequestEntityTooLarge, message: "request body too large: the limit is " + strconv.FormatInt(limit, 10) + " bytes"}
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	// A caller that trickles its body would hold this request open forever; the deadline is
	// lifted once the body is in, so that waiting for acknowledgements is not cut short.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(timeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		// The deadline stays: net/http reads what is left of the body before it answers, and
		// must not wait for a caller that stopped sending. The connection is not reused.
		w.Header().Set("Connection", "close")
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge
		}
		return nil, badRequest("could not read the request body")
	}
	_ = rc.SetReadDeadline(time.Time{})
	if !utf8.Valid(body) {
		return nil, badRequest("body is not valid UTF-8")
	}
	return body, nil
}

// object is a JSON object whose members are decoded one by one, so that each error can name
// the member it is about. Members the API does not know are ignored.
type object struct {
	path    string // "" at the top, "emits[3]." inside a batch
	members map[string]json.RawMessage
}

func parseObject(data []byte, path string) (object, error) {
	o := object{path: path}
	if err := json.Unmarshal(data, &o.members); err != nil || o.members == nil {
		if path == "" {
			return o, badRequest("body must be a JSON object")
		}
		return o, badRequest("%s must be a JSON object", path[:len(path)-1])
	}
	return o, nil
}

func (o object) name(member string) string { return o.path + member }

// raw returns a member's JSON text; absent and ok=false when the member is not there. An
// explicit null counts as present.
func (o object) raw(member string) (json.RawMessage, bool) {
	v, ok := o.members[member]
	return v, ok
}

// present reports a member that is there and not null.
func (o object) present(member string) bool {
	v, ok := o.members[member]
	return ok && string(v) != "null"
}

func (o object) str(member string) (string, error) {
	var s string
	if err := json.Unmarshal(o.members[member], &s); err != nil {
		return "", badRequest("%s must be a string", o.name(member))
	}
	return s, nil
}

func (o object) boolean(member string) (bool, error) {
	if !o.present(member) {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(o.members[member], &b); err != nil {
		return false, badRequest("%s must be true or false", o.name(member))
	}
	return b, nil
}

// names reads a member that holds one name or an array of names, none of them empty.
func (o object) names(member string) ([]string, error) {
	v := o.members[member]
	var one string
	if err := json.Unmarshal(v, &one); err == nil {
		if one == "" {
			return nil, badRequest("%s must not be empty", o.name(member))
		}
		return []string{one}, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(v, &list); err != nil {
		return nil, badRequest("%s must be a string or an array of strings", o.name(member))
	}
	out := make([]string, 0, len(list))
	for i, item := range list {
		var s string
		if err := json.Unmarshal(item, &s); err != nil || s == "" {
			return nil, badRequest("%s[%d] must be a non-empty string", o.name(member), i)
		}
		out = append(out, s)
	}
	return out, nil
}

// rooms reads the target rooms from `room` and `rooms` (either may be a string or an array;
// both together are merged). At least one room is required: an empty list never means
// "everyone".
func (o object) rooms() ([]string, error) {
	var out []string
	for _, m := range []string{"room", "rooms"} {
		if !o.present(m) {
			continue
		}
		r, err := o.names(m)
		if err != nil {
			return nil, err
		}
		if len(r) == 0 {
			return nil, badRequest("%s must not be empty", o.name(m))
		}
		out = append(out, r...)
	}
	if len(out) == 0 {
		return nil, badRequest("%s or %s is required (a string or an array of strings)", o.name("room"), o.name("rooms"))
	}
	return dedupe(out), nil
}

func dedupe(s []string) []string {
	seen := make(map[string]struct{}, len(s))
	out := s[:0]
	for _, v := range s {
		if _, ok := seen[v]; !ok {
			seen[v] = struct{}{}
			out = append(out, v)
		}
	}
	return out
}
