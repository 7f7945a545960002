package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tomato-code/realtime/bench/internal/load"
)

// serverSpec says how to start one server under test.
type serverSpec struct {
	name string
	argv []string
	env  []string
}

func nodeSpec(repo string, profile bool) serverSpec {
	argv := []string{"node"}
	if profile {
		// Lets perf name the functions V8 compiled (it writes /tmp/perf-<pid>.map).
		argv = append(argv, "--perf-basic-prof")
	}
	return serverSpec{
		name: "node",
		argv: append(argv, filepath.Join(repo, "bench", "peers", "node", "server.js")),
		env:  []string{"NODE_PATH=" + filepath.Join(repo, "test", "node", "node_modules")},
	}
}

func goSpec(bin string) serverSpec {
	return serverSpec{
		name: "go",
		argv: []string{bin},
		// The load tool has closed its connections when the server is stopped: no drain needed.
		env: []string{"LOG_LEVEL=warn", "DRAIN_DURATION=1s"},
	}
}

// goBuild builds pkg into dir/name.
func goBuild(ctx context.Context, repo, dir, pkg, name string) (string, error) {
	out := filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = repo
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return out, nil
}

// pinned prefixes argv with taskset when cpus is set.
func pinned(cpus string, argv []string) []string {
	if cpus == "" {
		return argv
	}
	return append([]string{"taskset", "-c", cpus}, argv...)
}

// serverProcess is a running server.
type serverProcess struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
	log  *os.File
}

// startServer runs spec on a free loopback port and waits until GET /health answers 200.
// taskset execs the server, so the process id is the server's own.
func startServer(ctx context.Context, spec serverSpec, cpus string, env []string, logPath string) (*serverProcess, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	argv := pinned(cpus, spec.argv)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), spec.env...)
	cmd.Env = append(cmd.Env, env...)
	cmd.Env = append(cmd.Env, "HOST=127.0.0.1", fmt.Sprintf("PORT=%d", port))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", spec.name, err)
	}
	p := &serverProcess{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan struct{}), log: logFile}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(p.url + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited before it was ready; see %s", spec.name, logPath)
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s not ready after 30s; see %s", spec.name, logPath)
		}
	}
}

// stop ends the server: SIGTERM, then SIGKILL after 15 seconds.
func (p *serverProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.log.Close()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// runLoad runs the load tool and decodes its JSON result line; its progress goes to standard
// error with the label in front.
func runLoad(ctx context.Context, cpus, bin string, args []string, label string) (*load.Result, error) {
	argv := pinned(cpus, append([]string{bin}, args...))
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		prefix(os.Stderr, stderr, "["+label+"] ")
	}()
	<-copied
	werr := cmd.Wait()
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	last := lines[len(lines)-1]
	if last == "" {
		return nil, errors.Join(errors.New("the load tool printed no result"), werr)
	}
	var res load.Result
	if err := json.Unmarshal([]byte(last), &res); err != nil {
		return nil, fmt.Errorf("load result: %w", err)
	}
	if werr != nil {
		return &res, fmt.Errorf("load tool: %w (notes: %v)", werr, res.Notes)
	}
	return &res, nil
}

func prefix(w io.Writer, r io.Reader, p string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fmt.Fprintln(w, p+sc.Text())
	}
}

// startProfile records the processes pids with perf until the returned function is called,
// which then writes the hottest symbols to base.perf.txt.
//
// With the servers pinned (cpus not empty) it records those CPUs and keeps the servers'
// samples at report time: `perf record -p` only attaches to the threads that exist when it
// starts, and the Go runtime creates most of its threads later, under load.
func startProfile(pids []string, cpus, base string) (func(), error) {
	data := base + ".perf.data"
	args := []string{"record", "-e", "cpu-clock", "-F", "499", "-g", "-o", data}
	if cpus != "" {
		args = append(args, "-C", cpus)
	} else {
		args = append(args, "-p", strings.Join(pids, ","))
	}
	cmd := exec.Command("perf", args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("perf record: %w", err)
	}
	return func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		var b strings.Builder
		for _, args := range [][]string{
			// Where the time goes: kernel, the server's binary, libraries.
			{"--sort", "dso", "--no-children", "--percent-limit", "1"},
			// Which functions it goes through, the kernel time they cause included.
			{"--sort", "symbol", "--children", "--percent-limit", "4"},
		} {
			report := exec.Command("perf", append([]string{"report", "-i", data, "--stdio", "-g", "none", "--percentage", "relative", "--pid", strings.Join(pids, ",")}, args...)...)
			out, err := report.Output()
			if err != nil {
				logf("perf report: %v", err)
				return
			}
			// Keep the table; drop perf's empty IPC columns and the padding before them.
			for _, line := range strings.Split(string(out), "\n") {
				if line = strings.TrimRight(line, " -"); line != "" && line[0] != '#' {
					b.WriteString(line)
					b.WriteByte('\n')
				}
			}
			b.WriteByte('\n')
		}
		if err := os.WriteFile(base+".perf.txt", []byte(b.String()), 0o644); err != nil {
			logf("perf report: %v", err)
		}
		_ = os.Remove(data)
	}, nil
}
