// Package procfs reads the memory and CPU time of processes from Linux's /proc, which is how the
// load tool measures the server under test without its cooperation.
package procfs

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// ClockTicks is USER_HZ, the unit of the CPU times in /proc/<pid>/stat. It is 100 on every Linux
// architecture Go supports; reading it would need cgo (sysconf).
const ClockTicks = 100

// RSS returns the resident set size of process pid in KiB (VmRSS of /proc/<pid>/status).
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseRSS(b)
}

func parseRSS(status []byte) (int64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("procfs: unexpected VmRSS line %q", line)
		}
		return strconv.ParseInt(string(f[0]), 10, 64)
	}
	return 0, fmt.Errorf("procfs: no VmRSS in status")
}

// CPU returns the CPU time process pid has used so far, user plus system, over all its threads
// (utime + stime of /proc/<pid>/stat). Its resolution is 1/ClockTicks s.
func CPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

func parseStatCPU(stat []byte) (time.Duration, error) {
	// The command name (field 2) is in parentheses and may hold spaces or parentheses itself:
	// the fields after it start after the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("procfs: malformed stat")
	}
	f := bytes.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("procfs: short stat")
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("procfs: bad utime/stime %q %q", f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / ClockTicks, nil
}

// ThreadsCPU returns the CPU time of process pid's live threads, summed from
// /proc/<pid>/task/*/schedstat: nanosecond resolution, where /proc/<pid>/stat counts in 10 ms
// ticks. Threads that have exited are missing from the sum, so it is only compared with
// itself over short windows (see Sample.CPUSince).
func ThreadsCPU(pid int) (time.Duration, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
		if err != nil {
			if os.IsNotExist(err) {
				continue // the thread just exited
			}
			return 0, err
		}
		f := bytes.Fields(b)
		if len(f) < 1 {
			return 0, fmt.Errorf("procfs: malformed schedstat %q", b)
		}
		ns, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("procfs: malformed schedstat %q", b)
		}
		sum += time.Duration(ns)
	}
	return sum, nil
}

// Sample is the memory and CPU of a set of processes at one moment.
type Sample struct {
	At     time.Time
	RSSKiB int64
	// CPU is the processes' CPU time from /proc/<pid>/stat (10 ms resolution, complete);
	// ThreadsCPU the same from the live threads' schedstat (1 ns resolution), zero when the
	// kernel does not provide it.
	CPU        time.Duration
	ThreadsCPU time.Duration
}

// threadExitTolerance is how far the per-thread figure may fall below the tick-based one before
// it is taken for a sign that a thread exited: the ticks round down by up to one tick per
// process, and by the time between the two reads.
const threadExitTolerance = 3 * time.Second / ClockTicks

// CPUSince returns the CPU time used between earlier and s: the precise per-thread figure,
// unless a thread exited in between (then it falls short of the tick-based figure by more than
// the ticks' rounding) or it is unavailable.
func (s Sample) CPUSince(earlier Sample) time.Duration {
	ticks := s.CPU - earlier.CPU
	precise := s.ThreadsCPU - earlier.ThreadsCPU
	if s.ThreadsCPU == 0 || earlier.ThreadsCPU == 0 || precise < ticks-threadExitTolerance {
		return ticks
	}
	return precise
}

// Read samples the processes pids together (sums). With no pids it returns a zero sample with
// the time set, so that callers need no special case when the server is not observed.
func Read(pids []int) (Sample, error) {
	s := Sample{At: time.Now()}
	precise := true
	for _, pid := range pids {
		rss, err := RSS(pid)
		if err != nil {
			return s, err
		}
		cpu, err := CPU(pid)
		if err != nil {
			return s, err
		}
		s.RSSKiB += rss
		s.CPU += cpu
		tcpu, err := ThreadsCPU(pid)
		precise = precise && err == nil && tcpu > 0
		s.ThreadsCPU += tcpu
	}
	if !precise {
		s.ThreadsCPU = 0 // one process without schedstat: use the tick figures for all
	}
	return s, nil
}
