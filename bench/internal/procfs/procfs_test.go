package procfs

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// The command name may hold spaces and parentheses.
	stat := []byte("1234 (node (my) app) S 1 1234 1234 0 -1 4194560 9000 0 12 0 250 75 0 0 20 0 11 0 100 1000000 5000 18446744073709551615\n")
	got, err := parseStatCPU(stat)
	if err != nil || got != 3250*time.Millisecond {
		t.Fatalf("parseStatCPU = %v, %v; want 3.25s", got, err)
	}
	if _, err := parseStatCPU([]byte("1234 (x) S 1")); err == nil {
		t.Fatal("short stat accepted")
	}
	if _, err := parseStatCPU([]byte("no parens")); err == nil {
		t.Fatal("malformed stat accepted")
	}
}

func TestParseRSS(t *testing.T) {
	status := []byte("Name:\tnode\nVmPeak:\t  900 kB\nVmRSS:\t   51234 kB\nThreads:\t11\n")
	got, err := parseRSS(status)
	if err != nil || got != 51234 {
		t.Fatalf("parseRSS = %d, %v", got, err)
	}
	if _, err := parseRSS([]byte("Name:\tx\n")); err == nil {
		t.Fatal("status without VmRSS accepted")
	}
}

func TestReadSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	// Burn a little CPU so that the tick-based counters move.
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) {
	}
	s, err := Read([]int{os.Getpid()})
	if err != nil {
		t.Fatal(err)
	}
	if s.RSSKiB <= 0 || s.CPU <= 0 {
		t.Fatalf("own process: RSS %d KiB, CPU %v", s.RSSKiB, s.CPU)
	}
	if s.ThreadsCPU <= 0 {
		t.Fatalf("own process: threads CPU %v", s.ThreadsCPU)
	}
	deadline = time.Now().Add(30 * time.Millisecond)
	for time.Now().Before(deadline) {
	}
	s2, err := Read([]int{os.Getpid()})
	if err != nil {
		t.Fatal(err)
	}
	if d := s2.CPUSince(s); d <= 0 || d > 10*time.Second {
		t.Fatalf("CPU since the first sample: %v", d)
	}
	if SelfCPU() <= 0 || AllowedCPUs() < 1 {
		t.Fatalf("SelfCPU %v, AllowedCPUs %d", SelfCPU(), AllowedCPUs())
	}
	if _, err := Read([]int{1 << 30}); err == nil {
		t.Fatal("reading a process that does not exist succeeded")
	}
}

func TestCPUSinceFallsBackWhenAThreadExited(t *testing.T) {
	a := Sample{CPU: time.Second, ThreadsCPU: 1234 * time.Millisecond}
	b := Sample{CPU: 2 * time.Second, ThreadsCPU: 2230 * time.Millisecond} // 996 ms: fine
	if got := b.CPUSince(a); got != 996*time.Millisecond {
		t.Fatalf("precise delta %v", got)
	}
	c := Sample{CPU: 2 * time.Second, ThreadsCPU: 1500 * time.Millisecond} // a thread with 700 ms left
	if got := c.CPUSince(a); got != time.Second {
		t.Fatalf("delta after a thread exit %v, want the tick figure", got)
	}
	d := Sample{CPU: 2 * time.Second} // no schedstat
	if got := d.CPUSince(a); got != time.Second {
		t.Fatalf("delta without schedstat %v", got)
	}
}
