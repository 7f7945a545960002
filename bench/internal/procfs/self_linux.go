package procfs

import (
	"time"

	"golang.org/x/sys/unix"
)

// SelfCPU returns the CPU time this process has used, user plus system, with the microsecond
// resolution of getrusage.
func SelfCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// AllowedCPUs returns how many CPUs this process may run on (its affinity mask), which is what
// "the load client used a whole core" is measured against.
func AllowedCPUs() int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil || set.Count() == 0 {
		return 1
	}
	return set.Count()
}
