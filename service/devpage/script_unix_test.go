//go:build unix

package devpage

import (
	"path/filepath"
	"syscall"
	"testing"
)

// A named pipe must be refused, not opened: opening it for reading waits for a writer.
func TestLoadClientScriptRefusesANamedPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "socket.io.js")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadClientScript(fifo); err == nil {
		t.Fatal("a named pipe was loaded")
	}
}
