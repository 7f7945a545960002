package load

import (
	"encoding/json"
	"strings"

	"github.com/tomato-code/realtime/bench/internal/httpsend"
	"github.com/tomato-code/realtime/bench/internal/loop"
	"github.com/tomato-code/realtime/bench/internal/wsframe"
)

// stampDigits is the width of a send time in microseconds since the Unix epoch (16 digits from
// 2001 to 2286), so that the time can be written into a pre-built request in place.
const stampDigits = 16

// request is a pre-built internal API request whose rooms and send times are patched in place
// before each send, so that sending allocates nothing and builds no JSON.
type request struct {
	b      []byte
	rooms  []int // offsets of the loop.UserDigits-wide connection indices of user:{id} rooms
	stamps []int // offsets of the stampDigits-wide send times
}

func (r *request) clone() *request {
	return &request{
		b:      append([]byte(nil), r.b...),
		rooms:  append([]int(nil), r.rooms...),
		stamps: append([]int(nil), r.stamps...),
	}
}

// patch sets every send time to now and every user room to one chosen by pick.
func (r *request) patch(nowMicros int64, pick func() int) {
	for _, off := range r.rooms {
		httpsend.PutDigits(r.b[off:off+loop.UserDigits], int64(pick()))
	}
	for _, off := range r.stamps {
		httpsend.PutDigits(r.b[off:off+stampDigits], nowMicros)
	}
}

// requestBuilder writes an emit body while noting where the slots are.
type requestBuilder struct {
	body   []byte
	rooms  []int
	stamps []int
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// emit appends one emit object. userRoom selects a user:{id} room with a slot; otherwise room
// is used as given.
func (w *requestBuilder) emit(event, userPrefix string, userRoom bool, room string, phase, pad int) {
	w.body = append(w.body, `{"event":`...)
	w.body = append(w.body, jsonString(event)...)
	w.body = append(w.body, `,"room":`...)
	if userRoom {
		w.body = append(w.body, jsonString("user:"+userPrefix)...)
		w.body = w.body[:len(w.body)-1] // reopen the string to add the digits
		w.rooms = append(w.rooms, len(w.body))
		w.body = append(w.body, strings.Repeat("0", loop.UserDigits)...)
		w.body = append(w.body, '"')
	} else {
		w.body = append(w.body, jsonString(room)...)
	}
	w.body = append(w.body, `,"payload":{`...)
	w.body = wsframe.AppendStamp(w.body, phase, 0)
	// AppendStamp wrote a one-digit time: widen it to the slot.
	w.body = w.body[:len(w.body)-1]
	w.stamps = append(w.stamps, len(w.body))
	w.body = append(w.body, strings.Repeat("0", stampDigits)...)
	if pad > 0 {
		w.body = append(w.body, `,"pad":"`...)
		w.body = append(w.body, strings.Repeat("x", pad)...)
		w.body = append(w.body, '"')
	}
	w.body = append(w.body, "}}"...)
}

// build wraps the body into a POST request and moves the slot offsets with it.
func (w *requestBuilder) build(host, path, key string) *request {
	b := httpsend.Post(host, path, key, w.body)
	head := len(b) - len(w.body)
	r := &request{b: b}
	for _, off := range w.rooms {
		r.rooms = append(r.rooms, head+off)
	}
	for _, off := range w.stamps {
		r.stamps = append(r.stamps, head+off)
	}
	return r
}

const (
	pathEmit  = "/api/v1/internal/emit"
	pathBatch = "/api/v1/internal/emit/batch"
)

// singleEmit is a request for one emit to a user room (userRoom) or to room.
func singleEmit(host, key, event, userPrefix string, userRoom bool, room string, phase, pad int) *request {
	var w requestBuilder
	w.emit(event, userPrefix, userRoom, room, phase, pad)
	return w.build(host, pathEmit, key)
}

// batchEmit is a batch request of n emits, each to a user room.
func batchEmit(host, key, event, userPrefix string, n, phase, pad int) *request {
	var w requestBuilder
	w.body = append(w.body, `{"emits":[`...)
	for i := range n {
		if i > 0 {
			w.body = append(w.body, ',')
		}
		w.emit(event, userPrefix, true, "", phase, pad)
	}
	w.body = append(w.body, "]}"...)
	return w.build(host, pathBatch, key)
}
