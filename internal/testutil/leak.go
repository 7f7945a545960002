// Package testutil holds helpers shared by the tests of several packages: a goroutine leak
// check and a runner for the Node.js packages pinned in test/node.
package testutil

import (
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// CheckGoroutines records the goroutines running now and registers a cleanup that fails t when,
// after the test, goroutines that were not there before are still running. Goroutines take a
// moment to unwind after their connections close, so the check polls for up to five seconds
// before it reports; it reads the runtime's own state, it does not sleep as synchronisation.
//
// Call it first in a test, before anything that starts goroutines, so that its cleanup runs
// last (cleanups run in reverse order).
func CheckGoroutines(t testing.TB) {
	t.Helper()
	before := goroutineSet()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		var leaked []string
		for {
			leaked = leaked[:0]
			for id, stack := range goroutineStacks() {
				if _, ok := before[id]; !ok && !ignorable(stack) {
					leaked = append(leaked, stack)
				}
			}
			if len(leaked) == 0 || time.Now().After(deadline) {
				break
			}
			runtime.Gosched()
			time.Sleep(20 * time.Millisecond) // polling interval while waiting for goroutines to end
		}
		if len(leaked) > 0 {
			sort.Strings(leaked)
			t.Errorf("%d goroutine(s) leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
	})
}

func goroutineSet() map[string]struct{} {
	set := make(map[string]struct{})
	for id := range goroutineStacks() {
		set[id] = struct{}{}
	}
	return set
}

// goroutineStacks returns every goroutine's stack keyed by its "goroutine N" header line.
func goroutineStacks() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	stacks := make(map[string]string)
	for _, g := range strings.Split(string(buf), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		id, _, _ := strings.Cut(header, " [")
		stacks[id] = g
	}
	return stacks
}

// ignorable reports goroutines owned by the runtime, the test framework or the idle keep-alive
// pool of http.DefaultTransport, which come and go on their own schedule.
func ignorable(stack string) bool {
	for _, s := range []string{
		"testing.(*T).Run(",
		"testing.tRunner(",
		"testing.(*M).",
		"signal.signal_recv",
		"runtime.ensureSigM",
		"net/http.(*persistConn)",
	} {
		if strings.Contains(stack, s) {
			return true
		}
	}
	return false
}
