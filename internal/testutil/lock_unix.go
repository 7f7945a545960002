//go:build unix

package testutil

import (
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive lock (flock) on the file or folder at path, waiting while
// another process holds it; the function it returns releases it. The kernel releases it too
// when the process exits, so a test binary that dies holding it blocks nobody. It opens path
// read-only: a lock needs no more, and any user who can read the folder can take it.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
