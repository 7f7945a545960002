package testutil

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	npmOnce sync.Once
	npmErr  error
)

// NodeDir returns the absolute path of test/node, the folder whose package-lock.json pins the
// npm packages the tests use. It runs `npm ci` there once per test binary when node_modules is
// missing, and skips t when node is not installed.
func NodeDir(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "test", "node")
	npmOnce.Do(func() {
		// go test runs the test binaries of several packages at once: without a lock
		// between processes, two could run npm ci in one folder together, or one could
		// find the other's half-installed node_modules and use it. The folder itself is
		// the lock: nothing to create, and other checkouts are not held up.
		unlock, err := lockFile(dir)
		if err != nil {
			npmErr = err
			return
		}
		defer unlock()
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "socket.io-client")); err == nil {
			return
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			npmErr = &npmError{err: err, out: out}
		}
	})
	if npmErr != nil {
		t.Fatalf("npm ci in %s: %v", dir, npmErr)
	}
	return dir
}

type npmError struct {
	err error
	out []byte
}

func (e *npmError) Error() string { return e.err.Error() + "\n" + string(e.out) }

// NodeCommand returns a command that runs `node script args...` with the packages of test/node
// resolvable (NODE_PATH) and the given extra environment. script may be a path or "-" for stdin.
// The command is killed when ctx ends.
func NodeCommand(ctx context.Context, t testing.TB, script string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	dir := NodeDir(t)
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// RunNode runs a Node.js script given as source text and returns its standard output. It fails t
// with the script's standard error when the script exits non-zero.
func RunNode(ctx context.Context, t testing.TB, source string, env ...string) []byte {
	t.Helper()
	cmd := NodeCommand(ctx, t, "-", env)
	cmd.Stdin = bytes.NewBufferString(source)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node script failed: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	return stdout.Bytes()
}
