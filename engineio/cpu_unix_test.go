//go:build unix

package engineio

import "syscall"

// processCPU returns the CPU time (user and system) the process has used so far, in
// nanoseconds: steadier than wall time on a shared machine.
func processCPU() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
