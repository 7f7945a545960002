//go:build !linux

package engineio

import "log/slog"

// pollerGroup has no poller off Linux: every connection is read with ReadGoroutine.
type pollerGroup struct{ log *slog.Logger }

// poller is never instantiated off Linux; its methods exist for the shared code to compile.
type poller struct{}

func (g *pollerGroup) newInbound(*wsConn) *inbound { return nil }
func (g *pollerGroup) attach(*inbound, []byte)     {}
func (p *poller) add(*inbound) error               { return nil }
func (p *poller) del(*inbound)                     {}
func (p *poller) release(*inbound)                 {}

// rawSock exists on Linux only (rawsock_linux.go): elsewhere a connection keeps its net.Conn.
type rawSock struct{}
