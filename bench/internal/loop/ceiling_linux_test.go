package loop

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tomato-code/realtime/bench/internal/procfs"
	"github.com/tomato-code/realtime/bench/internal/wsframe"
)

// blasterEnv makes the test binary a blaster: a fake Socket.IO server that does nothing but
// accept connections and write event frames to all of them as fast as it can. It runs in its own
// process, on its own core, so that BenchmarkClientReceive measures the client alone.
const blasterEnv = "REALTIME_BENCH_BLASTER"

func TestMain(m *testing.M) {
	if os.Getenv(blasterEnv) == "1" {
		if err := runBlaster(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "blaster:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func serverFrame(dst []byte, payload []byte) []byte {
	return append(wsframe.AppendHeader(dst, wsframe.OpText, len(payload)), payload...)
}

// runBlaster prints its address, then serves "blast <rounds> <frames per write>" commands
// from in, answering "done" after each.
func runBlaster(in io.Reader, out io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	conns := make(chan net.Conn, 1<<16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				// Upgrade, open packet, read the CONNECT, accept it.
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						c.Close()
						return
					}
					if line == "\r\n" {
						break
					}
				}
				var b []byte
				b = append(b, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"...)
				b = serverFrame(b, []byte(`0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))
				c.Write(b)
				buf := make([]byte, 4096)
				if _, err := br.Read(buf); err != nil {
					c.Close()
					return
				}
				c.Write(serverFrame(nil, []byte(`40{"sid":"x"}`)))
				conns <- c
			}()
		}
	}()
	fmt.Fprintln(out, ln.Addr().String())
	var all []net.Conn
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != "blast" {
			return fmt.Errorf("bad command %q", sc.Text())
		}
		rounds, _ := strconv.Atoi(f[1])
		perWrite, _ := strconv.Atoi(f[2])
	drain:
		for {
			select {
			case c := <-conns:
				all = append(all, c)
			default:
				break drain
			}
		}
		var batch []byte
		for sent := 0; sent < rounds; sent += perWrite {
			batch = batch[:0]
			now := time.Now().UnixMicro()
			for range perWrite {
				p := wsframe.AppendStamp([]byte(`42["bench",{`), 1, now)
				batch = serverFrame(batch, append(p, "}]"...))
			}
			for _, c := range all {
				if _, err := c.Write(batch); err != nil {
					return err
				}
			}
		}
		fmt.Fprintln(out, "done")
	}
	return nil
}

// BenchmarkClientReceive measures the load client's ceiling: the CPU time it spends per
// delivered event, and the deliveries per second it sustains, with the server in another
// process that only writes frames. perWrite frames reach each connection per server write, as
// when a server coalesces what is pending for a socket.
//
//	go test -run X -bench ClientReceive -benchtime 2000000x ./bench/internal/loop
func BenchmarkClientReceive(b *testing.B) {
	if runtime.NumCPU() < 2 {
		b.Skip("needs two CPUs: one for the blaster, one for the client")
	}
	for _, perWrite := range []int{1, 8} {
		b.Run(fmt.Sprintf("frames-per-write=%d", perWrite), func(b *testing.B) {
			benchReceive(b, 2000, perWrite)
		})
	}
}

func benchReceive(b *testing.B, conns, perWrite int) {
	// Client on CPU 1, blaster on CPU 0: as the comparison pins the load tool and the server.
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		b.Fatal(err)
	}
	var one unix.CPUSet
	one.Set(1)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		b.Skip("cannot pin:", err)
	}
	defer unix.SchedSetaffinity(0, &old)

	cmd := exec.Command("taskset", "-c", "0", os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), blasterEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdoutPipe, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Skip("cannot start the blaster:", err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	stdout := bufio.NewReader(stdoutPipe)
	addrLine, err := stdout.ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	set, err := New(Config{
		Targets: []netip.AddrPort{netip.MustParseAddrPort(strings.TrimSpace(addrLine))},
		Secret:  []byte("s"),
		Loops:   1,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer set.Close()
	set.Open(0, conns)
	for st := set.Stats(); st.Connected+st.Failed < int64(conns); st = set.Stats() {
		time.Sleep(time.Millisecond)
	}
	if st := set.Stats(); st.Connected != int64(conns) {
		b.Fatalf("%d of %d connected: %v", st.Connected, conns, st.Errors)
	}
	rounds := (b.N/conns/perWrite + 1) * perWrite
	want := int64(rounds * conns)
	cpu0 := procfs.SelfCPU()
	blaster0, blasterErr := procfs.ThreadsCPU(cmd.Process.Pid)
	b.ResetTimer()
	start := time.Now()
	fmt.Fprintf(stdin, "blast %d %d\n", rounds, perWrite)
	for set.Delivered(1) < want {
		time.Sleep(200 * time.Microsecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := procfs.SelfCPU() - cpu0
	blaster1, blasterErr1 := procfs.ThreadsCPU(cmd.Process.Pid)
	if line, _ := stdout.ReadString('\n'); !bytes.Equal([]byte(line), []byte("done\n")) {
		b.Fatalf("blaster said %q", line)
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(want), "client-ns/delivery")
	b.ReportMetric(float64(want)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(cpu.Seconds()/elapsed.Seconds(), "client-cores")
	if blasterErr == nil && blasterErr1 == nil {
		// The blaster is the leanest possible server: pre-built frames, one write per
		// connection and round, nothing else. Its CPU per delivery is the floor that the
		// kernel's loopback TCP path sets for any server on this machine.
		b.ReportMetric(float64((blaster1-blaster0).Nanoseconds())/float64(want), "writer-ns/delivery")
	}
}
