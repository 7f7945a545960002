//go:build !linux

package loop

import "errors"

// Set is unavailable outside Linux.
type Set struct{}

// New fails outside Linux: the connection loop is built on epoll.
func New(Config) (*Set, error) {
	return nil, errors.New("loop: the load tool's connection loop needs Linux (epoll); run it on Linux")
}

// Open does nothing outside Linux.
func (s *Set) Open(from, to int) {}

// InFlight returns 0 outside Linux.
func (s *Set) InFlight() int64 { return 0 }

// Stats returns nothing outside Linux.
func (s *Set) Stats() Stats { return Stats{} }

// Close does nothing outside Linux.
func (s *Set) Close() error { return nil }

// Delivered returns 0 outside Linux.
func (s *Set) Delivered(phase int) int64 { return 0 }
