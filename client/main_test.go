package client_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	nodepeer "github.com/tomato-code/realtime/bench/peers/node"
	"github.com/tomato-code/realtime/client"
	"github.com/tomato-code/realtime/internal/testutil"
)

// shared is the Node.js reference service with the test handlers of testdata/server.js, started
// once for the package in TestMain so that the tests' goroutine checks do not see its output
// goroutine. It is nil when node or the npm packages are missing.
var shared *nodepeer.Process

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		return m.Run() // fuzz workers run only the fuzz target: no need for Node
	}
	if p, err := startNode(context.Background(), nil); err != nil {
		fmt.Fprintln(os.Stderr, "client tests: Node.js reference service not started:", err)
	} else {
		shared = p
		defer p.Close()
	}
	return m.Run()
}

// nodeModules returns test/node/node_modules, or "" when node or the packages are missing.
// (TestMain has no testing.TB for testutil.NodeDir; the tests that start their own server use it.)
func nodeModules() string {
	if _, err := exec.LookPath("node"); err != nil {
		return ""
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "test", "node", "node_modules")
	if _, err := os.Stat(filepath.Join(dir, "socket.io")); err != nil {
		return ""
	}
	return dir
}

func testScript() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "server.js")
}

func startNode(ctx context.Context, env []string) (*nodepeer.Process, error) {
	dir := nodeModules()
	if dir == "" {
		return nil, fmt.Errorf("node or test/node/node_modules missing (run npm ci in test/node)")
	}
	return nodepeer.Start(ctx, nodepeer.Config{
		NodePath: dir,
		Script:   testScript(),
		Env:      append([]string{"NAMESPACES=/orders"}, env...),
		Output:   os.Stderr,
	})
}

// server returns the shared service, skipping t when it could not be started.
func server(t *testing.T) *nodepeer.Process {
	t.Helper()
	if shared == nil {
		testutil.NodeDir(t) // skips when node is missing, fails when npm ci fails
		t.Skip("the Node.js reference service did not start (see the output above)")
	}
	return shared
}

// ownServer starts a service of t's own, for tests that change its settings or stop it.
func ownServer(t *testing.T, env ...string) *nodepeer.Process {
	t.Helper()
	testutil.NodeDir(t)
	p, err := startNode(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// token mints an HS256 token for user id with extra claims.
func token(t *testing.T, p *nodepeer.Process, id string, extra jwt.MapClaims) string {
	t.Helper()
	claims := jwt.MapClaims{"_id": id, "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range extra {
		claims[k] = v
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(p.JWTSecret()))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func auth(tok string) map[string]any { return map[string]any{"token": tok} }

// transports lists the ways the tests connect.
var transports = []struct {
	name   string
	dialer func() *client.Dialer
	want   string // transport in use once connected and settled
}{
	{"websocket", func() *client.Dialer { return &client.Dialer{} }, client.TransportWebSocket},
	{"polling", func() *client.Dialer { return &client.Dialer{Transport: client.TransportPolling} }, client.TransportPolling},
	{"upgrade", func() *client.Dialer {
		return &client.Dialer{Transport: client.TransportPolling, Upgrade: true}
	}, client.TransportWebSocket},
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// recv waits for a value on ch.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}
