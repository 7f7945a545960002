// Package nodepeer runs the Node.js reference Realtime Service (server.js in this folder, socket.io
// 4.8) as a child process, for tests and for side-by-side runs of the load tool.
//
// The service needs the npm packages pinned in test/node; Config.NodePath points at their
// node_modules folder.
package nodepeer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Config says how to start the reference service. Zero values mean defaults.
type Config struct {
	// NodePath is the node_modules folder that holds socket.io and the other pinned packages
	// (test/node/node_modules). Required.
	NodePath string
	// Script is the script to run. Defaults to ScriptPath(), the reference service itself; tests
	// pass a script that requires it and adds handlers.
	Script string
	// Host is the listen address. Defaults to 127.0.0.1.
	Host string
	// Port is the listen port. Defaults to 0: a free port, reported by Process.Port.
	Port int
	// JWTSecret and InternalKey default to "secret" and "internal-key".
	JWTSecret, InternalKey string
	// Env holds extra NAME=value settings (REDIS_URL, PING_INTERVAL, NAMESPACES, ...).
	Env []string
	// Output receives the process's standard output (after the ready line) and standard error.
	// Defaults to os.Stderr.
	Output io.Writer
	// StartTimeout bounds the wait for the ready line. Defaults to 15 seconds.
	StartTimeout time.Duration
}

// Process is a running reference service.
type Process struct {
	cmd    *exec.Cmd
	port   int
	host   string
	config Config
	done   chan struct{}
	err    error
	once   sync.Once
}

// ScriptPath returns the absolute path of server.js, found next to this source file.
func ScriptPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "server.js")
}

// Start runs the service and returns once it printed "listening on <port>". The process ends
// when ctx is done or when Close is called.
func Start(ctx context.Context, cfg Config) (*Process, error) {
	if cfg.NodePath == "" {
		return nil, errors.New("nodepeer: Config.NodePath is required")
	}
	if cfg.Script == "" {
		cfg.Script = ScriptPath()
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.JWTSecret == "" {
		cfg.JWTSecret = "secret"
	}
	if cfg.InternalKey == "" {
		cfg.InternalKey = "internal-key"
	}
	if cfg.Output == nil {
		cfg.Output = os.Stderr
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 15 * time.Second
	}
	cmd := exec.CommandContext(ctx, "node", cfg.Script)
	cmd.Env = append(os.Environ(),
		"NODE_PATH="+cfg.NodePath,
		"HOST="+cfg.Host,
		"PORT="+strconv.Itoa(cfg.Port),
		"JWT_SECRET="+cfg.JWTSecret,
		"INTERNAL_SERVICE_KEY="+cfg.InternalKey,
		"REFERENCE_SERVER="+ScriptPath(),
	)
	cmd.Env = append(cmd.Env, cfg.Env...)
	// SIGTERM lets the service close its sockets and Redis clients; WaitDelay kills it if not.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stderr = cfg.Output
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("nodepeer: %w", err)
	}
	p := &Process{cmd: cmd, host: cfg.Host, config: cfg, done: make(chan struct{})}

	ready := make(chan int, 1)
	go func() {
		// Read the ready line, then copy the rest of the output so the pipe never fills up.
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "listening on "); ok {
				if port, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil {
					ready <- port
					break
				}
			}
			fmt.Fprintln(cfg.Output, line)
		}
		_, _ = io.Copy(cfg.Output, stdout)
		p.err = cmd.Wait()
		close(p.done)
	}()

	timer := time.NewTimer(cfg.StartTimeout)
	defer timer.Stop()
	select {
	case p.port = <-ready:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("nodepeer: %s exited before it was ready: %v", cfg.Script, p.err)
	case <-timer.C:
		p.Close()
		return nil, fmt.Errorf("nodepeer: %s not ready after %v", cfg.Script, cfg.StartTimeout)
	}
}

// PID returns the process id of the service, whose /proc a load run reads.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Port returns the port the service listens on.
func (p *Process) Port() int { return p.port }

// Addr returns host:port of the service.
func (p *Process) Addr() string { return net.JoinHostPort(p.host, strconv.Itoa(p.port)) }

// URL returns the service's base URL, http://host:port.
func (p *Process) URL() string { return "http://" + p.Addr() }

// JWTSecret returns the HS256 secret the service verifies tokens with.
func (p *Process) JWTSecret() string { return p.config.JWTSecret }

// InternalKey returns the key of the internal API.
func (p *Process) InternalKey() string { return p.config.InternalKey }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Close stops the service with SIGTERM (SIGKILL after five seconds) and waits for it to exit.
// It returns nil when the service exited on its own after the signal.
func (p *Process) Close() error {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	// A SIGTERM that arrives before node installed its handler ends it by the signal: that is
	// still a clean stop.
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil
		}
	}
	return p.err
}
