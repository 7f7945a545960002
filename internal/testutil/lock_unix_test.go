//go:build unix

package testutil

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"
)

// lockFile's lock keeps out every other open descriptor of the file (as another test
// binary's would be) until it is released, and a second lockFile waits for it.
func TestLockFileExcludesOthers(t *testing.T) {
	path := t.TempDir() // a folder, as NodeDir locks
	unlock, err := lockFile(path)
	if err != nil {
		t.Fatal(err)
	}
	other, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("another descriptor took the lock while it was held: %v", err)
	}

	got := make(chan func(), 1)
	go func() {
		u, err := lockFile(path)
		if err != nil {
			t.Error(err)
			u = func() {}
		}
		got <- u
	}()
	select {
	case u := <-got:
		u()
		t.Fatal("a second lockFile returned while the first held the lock")
	default:
	}
	unlock()
	select {
	case u := <-got:
		u()
	case <-time.After(10 * time.Second):
		t.Fatal("the second lockFile did not get the lock once it was released")
	}
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatalf("the lock was not released: %v", err)
	}
}
