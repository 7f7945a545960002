//go:build !linux

package engineio

import "net"

// sysBatch is empty where writes go through net.Buffers.
type sysBatch struct{}

func newWriteBatch() *writeBatch { return &writeBatch{frames: make(net.Buffers, 0, maxBatch)} }

// writeBatch writes wb.frames with net.Buffers: there is no raw writev here.
func (c *wsConn) writeBatch(wb *writeBatch) error { return c.writeBuffers(wb) }

// rawWrites is false: without a write that never waits, every connection has a writer
// goroutine of its own.
const rawWrites = false

func (c *wsConn) tryWriteBatch(wb *writeBatch) (bool, error) { return true, c.writeBatch(wb) }

func (c *wsConn) writeRest(*writeBatch) error { return nil }
