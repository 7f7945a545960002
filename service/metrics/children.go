package metrics

import (
	"maps"
	"sync"
	"sync/atomic"
)

// children caches the children of a metric vector by label value. A vector's
// WithLabelValues hashes the label values and takes a lock on every call, which the emit path
// paid several times per request; a child found here costs one map read without a lock. The
// map is copied on each new entry: the labels cached (namespaces, API routes, status codes)
// are few and known early, so copies stop after the first requests.
type children[K comparable, V any] struct {
	mu       sync.Mutex
	m        atomic.Pointer[map[K]V]
	newChild func(K) V
}

func newChildren[K comparable, V any](newChild func(K) V) *children[K, V] {
	return &children[K, V]{newChild: newChild}
}

func (c *children[K, V]) get(k K) V {
	if m := c.m.Load(); m != nil {
		if v, ok := (*m)[k]; ok {
			return v
		}
	}
	return c.add(k)
}

func (c *children[K, V]) add(k K) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil {
		if v, ok := (*old)[k]; ok {
			return v
		}
	}
	var next map[K]V
	if old != nil {
		next = maps.Clone(*old)
	} else {
		next = make(map[K]V, 1)
	}
	v := c.newChild(k)
	next[k] = v
	c.m.Store(&next)
	return v
}
