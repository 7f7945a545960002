package testutil

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// LogBuffer is a log destination that the code under test writes from its goroutines and the
// test reads. Every write signals a waiting WaitLine, so that tests wait for a line instead of
// sleeping. The zero value is ready to use.
type LogBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // made on first use; capacity 1
}

func (l *LogBuffer) signal() chan struct{} {
	if l.changed == nil {
		l.changed = make(chan struct{}, 1)
	}
	return l.changed
}

// Write appends p and wakes a WaitLine.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case l.signal() <- struct{}{}:
	default:
	}
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Count returns how many times s was written.
func (l *LogBuffer) Count(s string) int { return strings.Count(l.String(), s) }

// WaitLine returns the last line that holds substr, waiting for one until timeout; it fails t
// when none comes.
func (l *LogBuffer) WaitLine(t testing.TB, substr string, timeout time.Duration) string {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	l.mu.Lock()
	changed := l.signal()
	l.mu.Unlock()
	for {
		lines := strings.Split(l.String(), "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			if strings.Contains(lines[i], substr) {
				return lines[i]
			}
		}
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("no line with %q in the log:\n%s", substr, l.String())
			return ""
		}
	}
}
