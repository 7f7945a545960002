package redis

import (
	"strconv"
	"testing"
)

// TestInQueue: messages come out in order, a full queue refuses the next one, the handler's
// wake-up is signalled when the queue turns non-empty, and a drained queue that grew past
// inQueueKeep keeps no array (nor payloads) behind.
func TestInQueue(t *testing.T) {
	const max = 3 * inQueueKeep
	q := newInQueue(max)
	for i := range max {
		if !q.push(inbound{room: strconv.Itoa(i), payload: []byte{byte(i)}}) {
			t.Fatalf("push %d of %d refused", i, max)
		}
	}
	if q.push(inbound{room: "over"}) {
		t.Fatal("a full queue took one more")
	}
	select {
	case <-q.wake:
	default:
		t.Fatal("no wake-up after the first push")
	}
	select {
	case <-q.wake:
		t.Fatal("a second wake-up for one batch")
	default:
	}
	got := q.takeAll(nil)
	if len(got) != max {
		t.Fatalf("took %d, want %d", len(got), max)
	}
	for i, m := range got {
		if m.room != strconv.Itoa(i) {
			t.Fatalf("message %d is %q: out of order", i, m.room)
		}
	}
	if q.q != nil {
		t.Errorf("drained queue keeps an array of capacity %d", cap(q.q))
	}
	if again := q.takeAll(got[:0]); len(again) != 0 {
		t.Errorf("took %d from an empty queue", len(again))
	}
	// A small queue keeps its array, cleared.
	q.push(inbound{room: "a", payload: []byte("x")})
	q.takeAll(nil)
	if cap(q.q) == 0 || q.q[:1][0].payload != nil {
		t.Errorf("small drained queue: cap %d, first slot %+v", cap(q.q), q.q[:1][0])
	}
	if !q.push(inbound{room: "b"}) {
		t.Fatal("push after a drain refused")
	}
	select {
	case <-q.wake:
	default:
		t.Fatal("no wake-up for the first message after a drain")
	}
}
