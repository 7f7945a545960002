package engineio

import (
	"net"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tomato-code/realtime/internal/rawio"
)

// sysBatch is the state of one writev through the connection's RawConn. net.Buffers would do
// the same, but the runtime then keeps, per connection, an iovec array as long as the longest
// batch ever written (2 KiB after a batch of maxBatch frames): here it belongs to the pooled
// batch instead.
type sysBatch struct {
	iovecs  []unix.Iovec          // backing array, kept
	iov     []unix.Iovec          // what remains to write
	fn      func(fd uintptr) bool // wb.writev bound once
	err     error
	nowait  bool // a full socket ends the write rather than waiting
	blocked bool // the last write ended on a full socket
}

// rawWrites tells that the writer pool can write without waiting (tryWriteBatch).
const rawWrites = true

func newWriteBatch() *writeBatch {
	wb := &writeBatch{frames: make(net.Buffers, 0, maxBatch)}
	wb.sys.iovecs = make([]unix.Iovec, 0, maxBatch)
	wb.sys.fn = wb.writev
	return wb
}

// writeBatch writes wb.frames, all of them unless an error comes first. Through the RawConn
// the descriptor stays open during the write, and writes of other goroutines (pong, close
// frame) wait for it: frames never interleave.
func (c *wsConn) writeBatch(wb *writeBatch) error {
	if c.rc == nil {
		return c.writeBuffers(wb)
	}
	wb.prepare()
	return c.writeRest(wb)
}

// tryWriteBatch writes wb.frames as far as the socket takes them without waiting. done is
// false when the socket filled up: writeRest writes the rest.
func (c *wsConn) tryWriteBatch(wb *writeBatch) (done bool, err error) {
	wb.prepare()
	wb.sys.nowait = true
	err = c.rc.Write(wb.sys.fn)
	wb.sys.nowait = false
	if err == nil && wb.sys.blocked {
		return false, nil
	}
	return true, wb.finish(err)
}

// writeRest writes what remains of the batch, waiting for the socket as needed.
func (c *wsConn) writeRest(wb *writeBatch) error {
	return wb.finish(c.rc.Write(wb.sys.fn))
}

func (wb *writeBatch) prepare() {
	iov := wb.sys.iovecs[:0]
	for _, f := range wb.frames {
		var v unix.Iovec
		v.Base = unsafe.SliceData(f)
		v.SetLen(len(f))
		iov = append(iov, v)
	}
	wb.sys.iovecs, wb.sys.iov, wb.sys.err, wb.sys.blocked = iov, iov, nil, false
}

func (wb *writeBatch) finish(err error) error {
	clear(wb.sys.iovecs) // drop the pointers to the frames
	if err != nil {
		return err
	}
	return wb.sys.err
}

// writev runs in RawConn.Write: it writes until everything is written or the socket is full,
// in which case it returns false and the runtime parks the goroutine until it is writable.
func (wb *writeBatch) writev(fd uintptr) bool {
	for len(wb.sys.iov) > 0 {
		iov := wb.sys.iov
		n, e := rawio.Writev(fd, iov)
		switch e {
		case 0:
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			wb.sys.blocked = true
			return wb.sys.nowait
		default:
			wb.sys.err = e
			return true
		}
		wb.consume(int(n))
	}
	return true
}

// consume drops the first n bytes of the frames being written.
func (wb *writeBatch) consume(n int) {
	iov := wb.sys.iov
	for len(iov) > 0 && n >= int(iov[0].Len) {
		n -= int(iov[0].Len)
		iov = iov[1:]
	}
	if len(iov) > 0 && n > 0 {
		iov[0].Base = (*byte)(unsafe.Add(unsafe.Pointer(iov[0].Base), n))
		iov[0].SetLen(int(iov[0].Len) - n)
	}
	wb.sys.iov = iov
}
