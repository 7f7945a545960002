package engineio

import "testing"

// A queue that never empties (connections readied as fast as they are delivered, a backlog
// always waiting) stays bounded, and keeps its order.
func TestDeliveryQueueStaysBoundedUnderSteadyLoad(t *testing.T) {
	var p deliveryPool
	ins := make([]*inbound, 1000)
	for i := range ins {
		ins[i] = new(inbound)
	}
	next, want := 0, 0
	add := func() {
		p.queue = append(p.queue, ins[next%len(ins)])
		next++
	}
	for range 100 { // the backlog
		add()
	}
	p.free = 1 // the one worker taking
	for range 100_000 {
		add()
		in, spawn := p.take()
		if in != ins[want%len(ins)] {
			t.Fatalf("took the wrong connection at %d", want)
		}
		want++
		if !spawn { // it was the only free worker and others wait: it must start another
			t.Fatalf("no spawn with %d waiting and no free worker", len(p.queue)-p.head)
		}
		p.free = 1 // as if the spawned worker were the one taking next
	}
	if c := cap(p.queue); c > 1024 {
		t.Errorf("queue capacity %d after 100,000 steady deliveries with a backlog of 100", c)
	}
	if n := len(p.queue) - p.head; n != 100 {
		t.Errorf("%d waiting, want 100", n)
	}
}
