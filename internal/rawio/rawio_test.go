package rawio_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tomato-code/realtime/internal/rawio"
	"github.com/tomato-code/realtime/internal/testutil"
)

// pair returns a wrapped client connection and the server side of a loopback TCP connection.
func pair(t *testing.T) (wrapped, peer net.Conn) {
	t.Helper()
	nc, peer := dial(t, "tcp", "127.0.0.1:0")
	return rawio.Wrap(nc), peer
}

// dial connects to a listener on network and address and returns both ends, closed when the
// test ends.
func dial(t *testing.T, network, address string) (nc, peer net.Conn) {
	t.Helper()
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	nc, err = net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer = <-accepted
	if peer == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { nc.Close(); peer.Close() })
	return nc, peer
}

func TestWrapReadsAndWrites(t *testing.T) {
	testutil.CheckGoroutines(t)
	c, peer := pair(t)
	if runtime.GOOS == "linux" {
		if _, ok := c.(*net.TCPConn); ok {
			t.Fatal("Wrap returned the connection unwrapped on Linux")
		}
		if rawio.Wrap(c) != c {
			t.Fatal("wrapping a wrapped connection wrapped it again")
		}
		if _, ok := c.(syscall.Conn); !ok {
			t.Fatal("the wrapper hides the connection's RawConn")
		}
	}
	// Larger than the socket buffers: the write must park while the peer is not reading.
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<17) // 2 MiB
	var wg sync.WaitGroup
	wg.Add(1)
	var werr error
	go func() {
		defer wg.Done()
		var n int
		n, werr = c.Write(want)
		if werr == nil && n != len(want) {
			werr = io.ErrShortWrite
		}
	}()
	got, err := io.ReadAll(io.LimitReader(peer, int64(len(want))))
	wg.Wait()
	if err != nil || werr != nil {
		t.Fatalf("read %v, write %v", err, werr)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the peer read other bytes than were written")
	}

	if _, err := peer.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, err := io.ReadAtLeast(c, buf, 5)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if n, err := c.Read(nil); n != 0 || err != nil {
		t.Fatalf("an empty read returned %d, %v", n, err)
	}

	peer.Close()
	if n, err := c.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("after the peer closed: %d, %v; want 0, io.EOF", n, err)
	}
}

func TestWrapKeepsDeadlinesAndClose(t *testing.T) {
	testutil.CheckGoroutines(t)
	c, _ := pair(t)
	buf := make([]byte, 16)

	if err := c.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	_, err := c.Read(buf)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past its deadline returned %v; want a timeout", err)
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "read" {
		t.Fatalf("error %v is not a read *net.OpError", err)
	}

	if err := c.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(buf)
		done <- err
	}()
	// Close must end a Read parked on the runtime's poller. Whether the Read parked before
	// the Close or came after it, it returns net.ErrClosed.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("a read ended by Close returned %v; want net.ErrClosed", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("a write after Close returned %v; want net.ErrClosed", err)
	}
}

func TestWrapLeavesOtherConnsAlone(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if rawio.Wrap(a) != a {
		t.Fatal("a net.Pipe end (no RawConn) was wrapped")
	}
}

func TestWrapDoesNotAllocate(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("raw system calls on Linux only")
	}
	c, peer := pair(t)
	msg := []byte("0123456789")
	buf := make([]byte, len(msg))
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(peer, buf); err != nil {
			t.Fatal(err)
		}
		if _, err := peer.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("a write and a read through the wrapper allocated %.1f times; want 0", allocs)
	}
}

func TestWrapUnixSocket(t *testing.T) {
	testutil.CheckGoroutines(t)
	nc, peer := dial(t, "unix", t.TempDir()+"/s")
	c := rawio.Wrap(nc)
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(peer, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("peer read %q, %v", buf, err)
	}
	_ = c.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past its deadline on a Unix socket returned %v", err)
	}
}
