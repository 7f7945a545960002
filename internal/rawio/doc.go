// Package rawio makes the system calls of nonblocking socket I/O without telling the Go
// runtime that a system call is in progress.
//
// Why: the runtime's monitor thread (sysmon) goes to sleep when every P is idle, and the
// first system call made through syscall.Syscall after that wakes it (a futex wake, then a
// few 20 µs naps and a futex wait before it sleeps again). A server that is idle between
// messages — an API call every half millisecond, a Redis message per broadcast — pays that for
// every message: on one core at 2,000 emits/s the wakes were 1.2 futex and nanosleep calls and
// one extra context switch per emit, about a tenth of the server's CPU (docs/performance.md).
// A read, write or writev on a nonblocking socket returns at once (EAGAIN when it would
// block), so the bookkeeping buys nothing there: the runtime's own network poller calls
// epoll_wait the same way.
//
// The price: while a busy process makes only raw calls, the monitor may sleep until the next
// timer is due (while websockets are open, the heartbeat wheel ticks at least every 100 ms)
// instead of checking every 10-20 ms, so it preempts a goroutine that runs without yielding
// for that long later than usual. The server's goroutines yield between sessions and between
// messages.
//
// Wrap gives a net.Conn whose Read and Write go through the connection's syscall.RawConn with
// raw system calls, so deadlines, closing and parking while the socket is not ready behave as
// they do for the wrapped connection. On systems other than Linux, and for connections that
// are not sockets, Wrap returns the connection unchanged.
package rawio
