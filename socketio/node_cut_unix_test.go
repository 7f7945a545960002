//go:build unix

package socketio_test

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// shutdownSockets shuts down every TCP socket of this process whose local port is port, but
// the listener: the server's connections, whoever holds their descriptors. (The clients of
// these tests run in Node.js processes, so none of their sockets is found here.)
func shutdownSockets(port int) {
	entries, _ := os.ReadDir("/proc/self/fd") // absent off Linux: closing the net.Conns did it
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if t, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || t != 0 {
			continue // not a socket, or a listener
		}
		sa, err := unix.Getsockname(fd)
		if err != nil {
			continue
		}
		var p int
		switch a := sa.(type) {
		case *unix.SockaddrInet4:
			p = a.Port
		case *unix.SockaddrInet6:
			p = a.Port
		}
		if p == port {
			unix.Shutdown(fd, unix.SHUT_RDWR)
		}
	}
}
