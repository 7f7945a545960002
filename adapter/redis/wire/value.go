package wire

import (
	"math"
	"sort"
	"strconv"
	"time"
)

// Undefined is JavaScript's undefined. Node's notepack writes it as nil in arrays and leaves
// the property out in objects; legacy notepack 2 wrote it as fixext 1 type 0.
type Undefined struct{}

// Map is a MessagePack map, that is a JavaScript object: an ordered list of entries. The
// encoder writes the entries in the order of the slice and leaves out entries whose value is
// Undefined, as notepack does for undefined properties.
type Map []Entry

// Entry is one key and value of a Map.
type Entry struct {
	Key   string
	Value any
}

// Get returns the value of key and whether the key is present (last entry wins).
func (m Map) Get(key string) (any, bool) {
	for i := len(m) - 1; i >= 0; i-- {
		if m[i].Key == key {
			return m[i].Value, true
		}
	}
	return nil, false
}

// Ext is a MessagePack extension value of a type Node has no meaning for. Node decodes it to
// the array [type, Buffer], and that is how it is converted to Socket.IO data.
type Ext struct {
	Type int8
	Data []byte
}

// Timestamp is a MessagePack timestamp (extension type -1), a JavaScript Date on Node. It
// keeps the wire's seconds and nanoseconds so that the JavaScript millisecond value can be
// computed exactly as Node computes it. Nsec may exceed 999,999,999 in a timestamp 96 (Node
// does not check it either).
type Timestamp struct {
	Sec  int64
	Nsec uint32
}

// TimestampOf returns the Timestamp of t.
func TimestampOf(t time.Time) Timestamp {
	return Timestamp{Sec: t.Unix(), Nsec: uint32(t.Nanosecond())}
}

// Time returns the timestamp as a time.Time in UTC.
func (ts Timestamp) Time() time.Time {
	return time.Unix(ts.Sec, int64(ts.Nsec)).UTC()
}

// maxJSMillis is the largest magnitude of a JavaScript Date's time value (ECMAScript TimeClip).
const maxJSMillis = 8.64e15

// JSMillis returns the time value of the JavaScript Date that Node decodes from ts, and false
// when that Date is invalid (out of JavaScript's range), in which case JSON.stringify writes
// null. The float arithmetic is notepack's own, so rounding matches Node's.
func (ts Timestamp) JSMillis() (int64, bool) {
	ms := float64(ts.Sec)*1e3 + float64(ts.Nsec)/1e6
	if math.IsNaN(ms) || math.Abs(ms) > maxJSMillis {
		return 0, false
	}
	return int64(ms), true // int64 conversion truncates toward zero, as TimeClip does
}

// isArrayIndex reports whether a property name is a JavaScript array index ("0" to
// "4294967294" without leading zeros), the keys that JavaScript objects order first.
func isArrayIndex(k string) (uint32, bool) {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return 0, false // the usual case, decided without strconv's error allocation
		}
	}
	n, err := strconv.ParseUint(k, 10, 32)
	if err != nil || n == math.MaxUint32 {
		return 0, false
	}
	return uint32(n), true
}

// objectBuilder collects entries with JavaScript property semantics: a repeated key keeps its
// first position and takes the last value; array-index keys are ordered first, ascending.
type objectBuilder struct {
	m     Map
	index map[string]int // built once the map grows, so repeated keys stay O(1) to find
}

func (b *objectBuilder) set(k string, v any) {
	if b.index != nil {
		if i, ok := b.index[k]; ok {
			b.m[i].Value = v
			return
		}
	} else {
		for i := range b.m {
			if b.m[i].Key == k {
				b.m[i].Value = v
				return
			}
		}
	}
	b.m = append(b.m, Entry{Key: k, Value: v})
	if b.index == nil && len(b.m) > 16 {
		b.index = make(map[string]int, 2*len(b.m))
		for i := range b.m {
			b.index[b.m[i].Key] = i
		}
	} else if b.index != nil {
		b.index[k] = len(b.m) - 1
	}
}

func (b *objectBuilder) done() Map {
	m := b.m
	if m == nil {
		return Map{}
	}
	first := 0 // array-index keys are moved to the front, keeping the others' relative order
	for i := range m {
		if _, ok := isArrayIndex(m[i].Key); ok {
			first++
		}
	}
	if first == 0 {
		return m
	}
	out := make(Map, 0, len(m))
	for _, e := range m {
		if _, ok := isArrayIndex(e.Key); ok {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, _ := isArrayIndex(out[i].Key)
		c, _ := isArrayIndex(out[j].Key)
		return a < c
	})
	for _, e := range m {
		if _, ok := isArrayIndex(e.Key); !ok {
			out = append(out, e)
		}
	}
	return out
}
