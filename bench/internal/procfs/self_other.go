//go:build !linux

package procfs

import (
	"runtime"
	"time"
)

// SelfCPU returns 0: the load tool only measures itself on Linux.
func SelfCPU() time.Duration { return 0 }

// AllowedCPUs returns the number of CPUs.
func AllowedCPUs() int { return runtime.NumCPU() }
