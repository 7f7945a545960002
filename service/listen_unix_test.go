//go:build unix

package service

import (
	"net"
	"syscall"
	"testing"
)

// keepAliveOf returns the SO_KEEPALIVE option of the server side of a connection accepted by ln.
func keepAliveOf(t *testing.T, ln net.Listener) int {
	t.Helper()
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rc, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var optErr error
	if err := rc.Control(func(fd uintptr) {
		v, optErr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
	}); err != nil {
		t.Fatal(err)
	}
	if optErr != nil {
		t.Fatal(optErr)
	}
	return v
}

// TestListenWithoutTCPKeepAlive: the service's listeners leave TCP keep-alive off, where Go's
// default listener turns it on (checked too, so that the test sees the option at all).
func TestListenWithoutTCPKeepAlive(t *testing.T) {
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if v := keepAliveOf(t, plain); v == 0 {
		t.Fatal("Go's default listener no longer turns keep-alive on: this test cannot tell")
	}
	ours, err := listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if v := keepAliveOf(t, ours); v != 0 {
		t.Errorf("SO_KEEPALIVE = %d on a connection accepted by listen, want 0", v)
	}
}
