package wire

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tomato-code/realtime/socketio/parser"
)

// ToSocketIO converts a decoded value to Socket.IO packet data: JSON text as Node's
// socket.io-parser produces it from the same JavaScript value, with every binary value ([]byte,
// and the Buffer inside an Ext) replaced by {"_placeholder":true,"num":i} and returned as
// attachment i, in document order. Timestamps become toISOString text (null when out of
// JavaScript's range), NaN and infinities null, Undefined null in arrays and absent in maps.
// Attachments alias the value's []byte.
func ToSocketIO(v any) (json.RawMessage, [][]byte, error) {
	w := jsonWriter{}
	if err := w.value(v, 0); err != nil {
		return nil, nil, err
	}
	return w.buf, w.atts, nil
}

// ToJSON converts a value to JSON text as JSON.stringify does in Node, binary values included:
// a Buffer becomes {"type":"Buffer","data":[bytes...]}. It is how values travel inside JSON
// requests and responses (server-side emits and their acknowledgements).
func ToJSON(v any) (json.RawMessage, error) {
	w := jsonWriter{bufferJSON: true}
	if err := w.value(v, 0); err != nil {
		return nil, err
	}
	return w.buf, nil
}

type jsonWriter struct {
	buf        []byte
	atts       [][]byte
	bufferJSON bool // write binary as Buffer.toJSON instead of placeholders
}

func (w *jsonWriter) value(v any, depth int) error {
	if depth > MaxDepth {
		return fmt.Errorf("wire: cannot convert values nested deeper than %d", MaxDepth)
	}
	switch v := v.(type) {
	case nil, Undefined, bool, int64, uint64, float64:
		if _, ok := v.(Undefined); ok {
			w.buf = append(w.buf, "null"...)
			return nil
		}
		w.buf = appendScalarJSON(w.buf, v)
	case int:
		w.buf = strconv.AppendInt(w.buf, int64(v), 10)
	case float32:
		w.buf = appendScalarJSON(w.buf, float64(v))
	case string:
		w.buf = appendJSString(w.buf, v)
	case []byte:
		w.binary(v)
	case Timestamp:
		ms, ok := v.JSMillis()
		if !ok {
			w.buf = append(w.buf, "null"...)
			return nil
		}
		w.buf = append(w.buf, '"')
		w.buf = appendISOString(w.buf, ms)
		w.buf = append(w.buf, '"')
	case time.Time:
		return w.value(TimestampOf(v), depth)
	case Ext:
		w.buf = append(w.buf, '[')
		w.buf = strconv.AppendInt(w.buf, int64(v.Type), 10)
		w.buf = append(w.buf, ',')
		w.binary(v.Data)
		w.buf = append(w.buf, ']')
	case []any:
		w.buf = append(w.buf, '[')
		for i, e := range v {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			if err := w.value(e, depth+1); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, ']')
	case []string:
		w.buf = append(w.buf, '[')
		for i, s := range v {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.buf = appendJSString(w.buf, s)
		}
		w.buf = append(w.buf, ']')
	case Map:
		w.buf = append(w.buf, '{')
		first := true
		for _, e := range v {
			if _, skip := e.Value.(Undefined); skip {
				continue
			}
			if !first {
				w.buf = append(w.buf, ',')
			}
			first = false
			w.buf = appendJSString(w.buf, e.Key)
			w.buf = append(w.buf, ':')
			if err := w.value(e.Value, depth+1); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, '}')
	case map[string]any:
		m := make(Map, 0, len(v))
		for k, e := range v {
			m = append(m, Entry{k, e})
		}
		sort.Slice(m, func(i, j int) bool { return m[i].Key < m[j].Key })
		return w.value(m, depth)
	default:
		return fmt.Errorf("wire: cannot convert a value of type %T to JSON", v)
	}
	return nil
}

func (w *jsonWriter) binary(p []byte) {
	if w.bufferJSON {
		w.buf = append(w.buf, `{"type":"Buffer","data":[`...)
		for i, c := range p {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.buf = strconv.AppendUint(w.buf, uint64(c), 10)
		}
		w.buf = append(w.buf, "]}"...)
		return
	}
	w.buf = append(w.buf, `{"_placeholder":true,"num":`...)
	w.buf = strconv.AppendInt(w.buf, int64(len(w.atts)), 10)
	w.buf = append(w.buf, '}')
	w.atts = append(w.atts, p)
}

// appendJSString appends s as a JSON string the way JSON.stringify quotes it (parser.AppendString:
// only '"', '\\' and control characters are escaped). Invalid UTF-8 is first repaired the way
// Node.js decodes it, which differs from a U+FFFD per bad byte, so that the output is always valid
// JSON and matches what a Node.js node would send.
func appendJSString(dst []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = decodeUTF8([]byte(s))
	}
	return parser.AppendString(dst, s)
}
