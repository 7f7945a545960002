package load

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/tomato-code/realtime/bench/internal/loop"
	"github.com/tomato-code/realtime/bench/internal/procfs"
)

// The controller talks to a worker process over its standard input and output, one JSON object
// per line: first the worker's loop configuration, then requests, each answered by one reply.

type workerSetup struct {
	Targets       []netip.AddrPort `json:"targets"`
	Sources       []netip.Addr     `json:"sources"`
	Secret        string           `json:"secret"`
	UserPrefix    string           `json:"user_prefix"`
	RestaurantID  string           `json:"restaurant_id"`
	ImmediateACKs bool             `json:"immediate_acks"`
}

type workerRequest struct {
	Op    string  `json:"op"` // connect, stats, delivered, close
	From  int     `json:"from,omitempty"`
	To    int     `json:"to,omitempty"`
	Rate  float64 `json:"rate,omitempty"`
	Conc  int     `json:"conc,omitempty"`
	Phase int     `json:"phase,omitempty"`
}

type workerReply struct {
	Err   string      `json:"err,omitempty"`
	Stats *shardStats `json:"stats,omitempty"`
	N     int64       `json:"n,omitempty"`
}

// remoteShard is the controller's side of a worker process.
type remoteShard struct {
	cmd *exec.Cmd
	mu  sync.Mutex // one request at a time
	in  io.WriteCloser
	out *bufio.Reader
}

func startRemoteShard(argv []string, setup workerSetup) (*remoteShard, error) {
	if len(argv) == 0 {
		return nil, errors.New("load: no worker command")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("load: start worker: %w", err)
	}
	s := &remoteShard{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
	line, _ := json.Marshal(setup)
	if _, err := s.in.Write(append(line, '\n')); err != nil {
		s.kill()
		return nil, fmt.Errorf("load: worker setup: %w", err)
	}
	if _, err := s.call(workerRequest{Op: "stats"}); err != nil {
		s.kill()
		return nil, err
	}
	return s, nil
}

func (s *remoteShard) call(req workerRequest) (workerReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	line, _ := json.Marshal(req)
	if _, err := s.in.Write(append(line, '\n')); err != nil {
		return workerReply{}, fmt.Errorf("load: worker %s: %w", req.Op, err)
	}
	reply, err := s.out.ReadBytes('\n')
	if err != nil {
		return workerReply{}, fmt.Errorf("load: worker %s: %w", req.Op, err)
	}
	var r workerReply
	if err := json.Unmarshal(reply, &r); err != nil {
		return workerReply{}, fmt.Errorf("load: worker %s reply: %w", req.Op, err)
	}
	if r.Err != "" {
		return r, fmt.Errorf("load: worker: %s", r.Err)
	}
	return r, nil
}

func (s *remoteShard) connect(from, to int, rate float64, conc int) error {
	_, err := s.call(workerRequest{Op: "connect", From: from, To: to, Rate: rate, Conc: conc})
	return err
}

func (s *remoteShard) stats() (shardStats, error) {
	r, err := s.call(workerRequest{Op: "stats"})
	if err != nil || r.Stats == nil {
		return shardStats{}, err
	}
	return *r.Stats, nil
}

func (s *remoteShard) delivered(phase int) (int64, error) {
	r, err := s.call(workerRequest{Op: "delivered", Phase: phase})
	return r.N, err
}

func (s *remoteShard) close() error {
	_, err := s.call(workerRequest{Op: "close"})
	s.in.Close()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case werr := <-done:
		return errors.Join(err, werr)
	case <-time.After(10 * time.Second):
		s.kill()
		return errors.Join(err, errors.New("load: worker did not exit"))
	}
}

func (s *remoteShard) kill() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// RunWorker serves one controller on in and out: it is the body of a worker process, which
// cmd/load runs when started with its worker flag. It returns when the controller closes the
// shard or its input ends.
func RunWorker(in io.Reader, out io.Writer) error {
	raiseFileLimit()
	r := bufio.NewReader(in)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("load worker: setup: %w", err)
	}
	var setup workerSetup
	if err := json.Unmarshal(line, &setup); err != nil {
		return fmt.Errorf("load worker: setup: %w", err)
	}
	sh, err := newLocalShard(loop.Config{
		Targets:       setup.Targets,
		Sources:       setup.Sources,
		Secret:        []byte(setup.Secret),
		UserPrefix:    setup.UserPrefix,
		RestaurantID:  setup.RestaurantID,
		ImmediateACKs: setup.ImmediateACKs,
	})
	if err != nil {
		return err
	}
	sh.cpu = procfs.SelfCPU
	defer sh.close()
	w := bufio.NewWriter(out)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return nil // the controller went away: close everything
		}
		var req workerRequest
		var reply workerReply
		if err := json.Unmarshal(line, &req); err != nil {
			reply.Err = err.Error()
		} else {
			switch req.Op {
			case "connect":
				_ = sh.connect(req.From, req.To, req.Rate, req.Conc)
			case "stats":
				st, _ := sh.stats()
				reply.Stats = &st
			case "delivered":
				reply.N, _ = sh.delivered(req.Phase)
			case "close":
				err := sh.close()
				if err != nil {
					reply.Err = err.Error()
				}
				b, _ := json.Marshal(reply)
				w.Write(append(b, '\n'))
				return w.Flush()
			default:
				reply.Err = "unknown op " + req.Op
			}
		}
		b, _ := json.Marshal(reply)
		w.Write(append(b, '\n'))
		if err := w.Flush(); err != nil {
			return err
		}
	}
}
