package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
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

// readBody reads the whole body, at most MaxBody bytes, and checks that it is UTF-8. Decoding
// only once the body is complete keeps a multi-byte character that arrived split across TCP
// reads intact. The body is never reused: the values parsed from it, the payload that goes
// to the sockets among them, are slices of it.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := h.cfg.MaxBody
	if r.ContentLength > limit {
		return nil, h.tooLarge
	}
	// A caller that trickles its body would hold this request open forever; the deadline is
	// lifted once the body is in, so that waiting for acknowledgements is not cut short.
	setReadDeadline(w, time.Now().Add(h.cfg.BodyTimeout))
	var body []byte
	var err error
	if r.ContentLength >= 0 {
		// The length is known and within the limit: one buffer of the right size.
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	}
	if err != nil {
		// The deadline stays: net/http reads what is left of the body before it answers, and
		// must not wait for a caller that stopped sending. The connection is not reused.
		w.Header().Set("Connection", "close")
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, h.tooLarge
		}
		return nil, badRequest("could not read the request body")
	}
	setReadDeadline(w, time.Time{})
	if !utf8.Valid(body) {
		return nil, badRequest("body is not valid UTF-8")
	}
	return body, nil
}

// readDeadliner is what net/http's own ResponseWriter offers; asking it directly spares the
// ResponseController's search through wrappers on every request.
type readDeadliner interface {
	SetReadDeadline(time.Time) error
}

func setReadDeadline(w http.ResponseWriter, t time.Time) {
	if d, ok := w.(readDeadliner); ok {
		_ = d.SetReadDeadline(t)
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(t)
}

// object is a JSON object whose members are read one by one, so that each error can name the
// member it is about. Members the API does not know are ignored.
type object struct {
	// path names the object in messages: "" at the top, "ack" or "emits" inside a body.
	path string
	// index, when not negative, is the object's position in the array path names (emits[3]).
	index int
	// vals holds the text of each member the API reads (nil when absent); when a name comes
	// twice the last one counts, as encoding/json does.
	vals [numMembers][]byte
	// one, when not nil, is storage for one name (capacity one) that names uses, once, for
	// a member holding a single name, instead of allocating a list for it.
	one []string
}

// parse reads data, which must be one JSON object, into o; path and index name it in errors.
func (o *object) parse(data []byte, path string, index int) error {
	*o = object{path: path, index: index}
	s := begin(data)
	if s.next() != '{' || !s.object(o) || !s.end() {
		if path == "" {
			return badRequest("body must be a JSON object")
		}
		return badRequest("%s must be a JSON object", o.prefix())
	}
	return nil
}

// set records a member; key is its name as a JSON string literal.
func (o *object) set(key []byte, plain bool, value []byte) {
	i := -1
	if plain {
		i = memberIndex(string(key[1 : len(key)-1]))
	} else if name, ok := stringValue(key); ok {
		i = memberIndex(name)
	}
	if i >= 0 {
		o.vals[i] = value
	}
}

// prefix is the object's own name: "", "ack", "emits[3]", "emits[3].ack".
func (o *object) prefix() string {
	if o.index < 0 {
		return o.path
	}
	return o.path + "[" + strconv.Itoa(o.index) + "]"
}

// name is a member's name in messages: "event", "emits[3].event".
func (o *object) name(member int) string {
	if p := o.prefix(); p != "" {
		return p + "." + memberNames[member]
	}
	return memberNames[member]
}

// raw returns a member's JSON text; ok=false when the member is not there. An explicit null
// counts as present.
func (o *object) raw(member int) (json.RawMessage, bool) {
	v := o.vals[member]
	return v, v != nil
}

// present reports a member that is there and not null.
func (o *object) present(member int) bool {
	v := o.vals[member]
	return v != nil && string(v) != "null"
}

func (o *object) str(member int) (string, error) {
	s, ok := stringValue(o.vals[member])
	if !ok {
		return "", badRequest("%s must be a string", o.name(member))
	}
	return s, nil
}

func (o *object) boolean(member int) (bool, error) {
	if !o.present(member) {
		return false, nil
	}
	switch string(o.vals[member]) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, badRequest("%s must be true or false", o.name(member))
}

// names reads a member that holds one name or an array of names, none of them empty. The
// member must be present and not null.
func (o *object) names(member int) ([]string, error) {
	v := o.vals[member]
	if one, ok := stringValue(v); ok {
		if one == "" {
			return nil, badRequest("%s must not be empty", o.name(member))
		}
		if o.one != nil {
			// Handed out once: a second single name (room and except, say) must not
			// overwrite the first.
			out := append(o.one[:0:1], one)
			o.one = nil
			return out, nil
		}
		return []string{one}, nil
	}
	list, ok := parseArray(v)
	if !ok {
		return nil, badRequest("%s must be a string or an array of strings", o.name(member))
	}
	out := make([]string, 0, len(list))
	for i, item := range list {
		s, ok := stringValue(item)
		if !ok || s == "" {
			return nil, badRequest("%s[%d] must be a non-empty string", o.name(member), i)
		}
		out = append(out, s)
	}
	return out, nil
}

// rooms reads the target rooms from `room` and `rooms` (either may be a string or an array;
// both together are merged). At least one room is required: an empty list never means
// "everyone".
func (o *object) rooms() ([]string, error) {
	var out []string
	for _, m := range [...]int{mRoom, mRooms} {
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
		if out == nil {
			out = r
		} else {
			out = append(out, r...)
		}
	}
	if len(out) == 0 {
		return nil, badRequest("%s or %s is required (a string or an array of strings)", o.name(mRoom), o.name(mRooms))
	}
	return dedupe(out), nil
}

// dedupe drops repeated names in place, keeping the first of each. Lists are short: up to
// dedupeScan names are compared with those kept so far, which costs less than a map.
func dedupe(s []string) []string {
	const dedupeScan = 16
	if len(s) <= dedupeScan {
		out := s[:0]
		for _, v := range s {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		return out
	}
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
