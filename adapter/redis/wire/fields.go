package wire

import "math"

// Helpers that read fields of decoded messages with JavaScript's leniency where Node is
// lenient, and an error where Node would throw or misbehave.

// asInt returns a whole number as int64 (MessagePack may carry 2 as 0x02 or as a float64).
func asInt(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case uint64:
		return 0, false
	case float64:
		if v == math.Trunc(v) && v >= math.MinInt64 && v < math.MaxInt64 {
			return int64(v), true
		}
	}
	return 0, false
}

// asNumber returns any number as float64.
func asNumber(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// roomName converts one element of a rooms list to a room name: strings as they are, numbers
// as JavaScript writes them (a Node app may join numeric rooms).
func roomName(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case int64, uint64:
		return string(appendScalarJSON(nil, v)), true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", false
		}
		return string(appendJSNumber(nil, v)), true
	}
	return "", false
}

// roomList reads a list of rooms: absent or nil is empty (Node's new Set(undefined)), an array
// of names is the list, anything else is malformed.
func roomList(m Map, key string) ([]string, error) {
	v, ok := m.Get(key)
	if !ok || v == nil {
		return nil, nil
	}
	if _, undef := v.(Undefined); undef {
		return nil, nil
	}
	a, ok := v.([]any)
	if !ok {
		return nil, malformed("%s is a %T, not a list", key, v)
	}
	rooms := make([]string, 0, len(a))
	for _, e := range a {
		r, ok := roomName(e)
		if !ok {
			return nil, malformed("%s holds a %T", key, e)
		}
		rooms = append(rooms, r)
	}
	return dedupe(rooms), nil
}

// optionalString reads a field that is either absent (or undefined) or a string.
func optionalString(m Map, key string) (string, bool, error) {
	v, ok := m.Get(key)
	if !ok {
		return "", false, nil
	}
	switch v := v.(type) {
	case Undefined:
		return "", false, nil
	case string:
		return v, true, nil
	}
	return "", false, malformed("%s is a %T, not a string", key, v)
}

// truthy is JavaScript's ToBoolean.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil, Undefined:
		return false
	case bool:
		return v
	case int64:
		return v != 0
	case uint64:
		return v != 0
	case float64:
		return v != 0 && !math.IsNaN(v)
	case string:
		return v != ""
	}
	return true
}

// dedupe removes repeated names keeping the first of each, as building a JavaScript Set does.
// It returns rooms itself when there is nothing to remove.
func dedupe(rooms []string) []string {
	if len(rooms) < 2 {
		return rooms
	}
	if len(rooms) <= 16 {
		for i := 1; i < len(rooms); i++ {
			for j := 0; j < i; j++ {
				if rooms[i] == rooms[j] {
					return dedupeSlow(rooms)
				}
			}
		}
		return rooms
	}
	return dedupeSlow(rooms)
}

func dedupeSlow(rooms []string) []string {
	seen := make(map[string]struct{}, len(rooms))
	out := make([]string, 0, len(rooms))
	for _, r := range rooms {
		if _, dup := seen[r]; !dup {
			seen[r] = struct{}{}
			out = append(out, r)
		}
	}
	return out
}
