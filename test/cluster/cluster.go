// Package cluster holds what the Redis cluster tests share: the Node.js scripts of this folder
// (a socket.io server with @socket.io/redis-adapter, socket.io-client clients, the
// @socket.io/redis-emitter) run as child processes that speak JSON lines, a private
// redis-server for tests that kill Redis, and per-test Redis key prefixes.
package cluster

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/testutil"
)

// Line is one JSON line a script printed.
type Line map[string]any

// Str returns the string field k ("" when absent or not a string).
func (l Line) Str(k string) string {
	s, _ := l[k].(string)
	return s
}

// Proc is a running script of this folder.
type Proc struct {
	t      testing.TB
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr bytes.Buffer // written by exec's copying goroutine; read after exit only

	mu      sync.Mutex
	lines   []Line                // every line without an id, in order
	changed chan struct{}         // closed and replaced when lines grows or the process ends
	replies map[float64]chan Line // pending commands by id
	nextID  float64
	exited  bool
	exitErr error
	done    chan struct{} // closed when the process has exited and stdout is drained
}

// Dir returns the absolute path of this folder.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Start runs script (a file of this folder) with node and the pinned npm packages. The process
// is killed when the test ends; a process that exits on its own before that is reported by
// Alive and by Wait and Call failing.
func Start(t testing.TB, script string, env []string, args ...string) *Proc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := testutil.NodeCommand(ctx, t, filepath.Join(Dir(), script), env, args...)
	p := &Proc{t: t, name: script, cmd: cmd, changed: make(chan struct{}), replies: make(map[float64]chan Line), done: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &p.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", script, err)
	}
	go p.read(stdout)
	t.Cleanup(func() {
		p.stdin.Close() // the scripts exit when stdin closes
		select {
		case <-p.done:
		case <-time.After(3 * time.Second):
		}
		cancel()
		<-p.done
	})
	return p
}

func (p *Proc) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			l = Line{"raw": sc.Text()}
		}
		p.mu.Lock()
		if id, ok := l["id"].(float64); ok && p.replies[id] != nil {
			p.replies[id] <- l
			delete(p.replies, id)
		} else {
			p.lines = append(p.lines, l)
		}
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	}
	err := p.cmd.Wait()
	p.mu.Lock()
	p.exited, p.exitErr = true, err
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
	close(p.done)
}

// Alive reports whether the process is still running.
func (p *Proc) Alive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.exited
}

// Stderr returns what the process wrote to standard error; call it after the process ended.
func (p *Proc) Stderr() string {
	select {
	case <-p.done:
		return p.stderr.String()
	default:
		return "(still running)"
	}
}

func (p *Proc) failExited() {
	p.t.Helper()
	<-p.done
	p.t.Fatalf("%s exited: %v\nstderr:\n%s", p.name, p.exitErr, p.stderr.String())
}

// Call sends a command (an id is added) and returns its answer line, which holds "result" or
// "error".
func (p *Proc) Call(cmd map[string]any, timeout time.Duration) Line {
	p.t.Helper()
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	ch := make(chan Line, 1)
	p.replies[id] = ch
	p.mu.Unlock()
	cmd["id"] = id
	b, _ := json.Marshal(cmd)
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		p.failExited()
	}
	select {
	case l := <-ch:
		return l
	case <-p.done:
		p.failExited()
	case <-time.After(timeout):
		p.t.Fatalf("%s: no answer to %s within %v", p.name, b, timeout)
	}
	return nil
}

// Wait returns the first line (in order of arrival, from the start) for which match is true,
// waiting up to timeout for it.
func (p *Proc) Wait(timeout time.Duration, what string, match func(Line) bool) Line {
	p.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		for _, l := range p.lines {
			if match(l) {
				p.mu.Unlock()
				return l
			}
		}
		changed, exited := p.changed, p.exited
		p.mu.Unlock()
		if exited {
			p.failExited()
		}
		select {
		case <-changed:
		case <-deadline.C:
			p.t.Fatalf("%s: no line with %s within %v; lines:\n%s", p.name, what, timeout, p.dump())
		}
	}
}

// Count returns how many lines so far match.
func (p *Proc) Count(match func(Line) bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.lines {
		if match(l) {
			n++
		}
	}
	return n
}

// Lines returns a copy of the lines so far.
func (p *Proc) Lines() []Line {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Line(nil), p.lines...)
}

func (p *Proc) dump() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b bytes.Buffer
	for i, l := range p.lines {
		if i >= 200 {
			fmt.Fprintf(&b, "... %d more\n", len(p.lines)-i)
			break
		}
		j, _ := json.Marshal(l)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// Key returns a Redis key prefix no other test or test run uses, so that tests sharing one
// Redis never see each other's channels.
func Key(t testing.TB) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "t" + hex.EncodeToString(b[:]) + "-socket.io"
}
