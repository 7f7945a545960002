//go:build !linux

package engineio

import "net"

// sysBatch is empty where writes go through net.Buffers.
type sysBatch struct{}

func newWriteBatch() *writeBatch { return &writeBatch{frames: make(net.Buffers, 0, maxBatch)} }

// writeBatch writes wb.frames with net.Buffers, a vectored write where the system has one.
func (c *wsConn) writeBatch(wb *writeBatch) error {
	wb.vec = wb.frames
	_, err := wb.vec.WriteTo(c.conn)
	return err
}

// rawWrites is false: without a write that never waits, every connection has a writer
// goroutine of its own.
const rawWrites = false

func (c *wsConn) tryWriteBatch(wb *writeBatch) (bool, error) { return true, c.writeBatch(wb) }

func (c *wsConn) writeRest(*writeBatch) error { return nil }
