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

// Sample is the memory and CPU of a set of processes at one moment.
type Sample struct {
	At     time.Time
	RSSKiB int64
	CPU    time.Duration
}

// Read samples the processes pids together (sums). With no pids it returns a zero sample with
// the time set, so that callers need no special case when the server is not observed.
func Read(pids []int) (Sample, error) {
	s := Sample{At: time.Now()}
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
	}
	return s, nil
}
