package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/psveval/psveval/eval/llm"
	"github.com/psveval/psveval/eval/rundir"
	"github.com/psveval/psveval/eval/store"
)

// A Server is a model server psveval started for a point, in its own
// process group.
type Server struct {
	URL  string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// ServersFile records the process groups of the servers a sweep started,
// so that the next start stops any that a crash left running.
const ServersFile = rundir.ServersFile

type serverRecord struct {
	PGID    int    `json:"pgid"`
	Command string `json:"command"`
}

// Start starts the serve command on a free loopback port, with {port} and
// {model} substituted, in its own process group, its output going to
// logPath; it records the group in dir's servers file.
func Start(dir, command, model, logPath string) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	line := strings.NewReplacer("{port}", port, "{model}", model).Replace(command)
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("/bin/sh", "-c", line)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("serve command %q: %w", line, err)
	}
	f.Close()
	s := &Server{URL: "http://127.0.0.1:" + port + "/v1", cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	if err := record(dir, func(rs []serverRecord) []serverRecord {
		return append(rs, serverRecord{cmd.Process.Pid, line})
	}); err != nil {
		s.Stop(time.Second)
		return nil, err
	}
	return s, nil
}

// OtherNameWait is how long Ready waits, once the server answers GET
// /models without the model, before it gives up: a server that is up
// and serves another name will not start serving this one.
var OtherNameWait = 30 * time.Second

// Ready waits until GET /models lists model, the server exits, or timeout
// passes, or, once the server is up and lists other models only,
// OtherNameWait. An early exit or a timeout gives an error that names the
// models the server lists and quotes the end of its log.
func (s *Server) Ready(ctx context.Context, model string, timeout time.Duration) error {
	c := llm.New(llm.Config{Name: "model", BaseURL: s.URL})
	deadline := time.Now().Add(timeout)
	var listed []string
	for {
		ids, err := c.Models(ctx)
		if err == nil && slices.Contains(ids, model) {
			return nil
		}
		if err == nil && len(ids) > 0 {
			if listed == nil {
				if d := time.Now().Add(OtherNameWait); d.Before(deadline) {
					deadline = d
				}
			}
			listed = ids
		}
		select {
		case <-s.done:
			return fmt.Errorf("the serve command exited before serving %q (%v); the end of %s:\n%s", model, s.err, s.log, Tail(s.log, 20))
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			if listed != nil {
				return fmt.Errorf("the server is up but lists %s, not %q: give the point's model as the server names it (or its serve command the name, e.g. vllm serve --served-model-name); the end of %s:\n%s", strings.Join(listed, ", "), model, s.log, Tail(s.log, 20))
			}
			return fmt.Errorf("the server did not list %q within %s (--serve-timeout); the end of %s:\n%s", model, timeout, s.log, Tail(s.log, 20))
		}
	}
}

// Stop sends the server's process group SIGTERM, then SIGKILL after
// grace, and waits for it.
func (s *Server) Stop(grace time.Duration) {
	pgid := s.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(grace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-s.done
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // children that outlived the shell
}

// Forget drops the server from dir's servers file once it is stopped.
func (s *Server) Forget(dir string) error {
	return record(dir, func(rs []serverRecord) []serverRecord {
		return slices.DeleteFunc(rs, func(r serverRecord) bool { return r.PGID == s.cmd.Process.Pid })
	})
}

// CleanOrphans kills the process groups that dir's servers file records:
// servers a psveval killed mid-sweep left running. It returns how many it
// found alive.
func CleanOrphans(dir string) (int, error) {
	n := 0
	err := record(dir, func(rs []serverRecord) []serverRecord {
		for _, r := range rs {
			if syscall.Kill(-r.PGID, 0) == nil {
				n++
				_ = syscall.Kill(-r.PGID, syscall.SIGKILL)
			}
		}
		return nil
	})
	return n, err
}

func record(dir string, change func([]serverRecord) []serverRecord) error {
	path := filepath.Join(dir, ServersFile)
	var rs []serverRecord
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &rs); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	rs = change(rs)
	if rs == nil {
		rs = []serverRecord{}
	}
	return store.WriteJSON(path, rs)
}

// Tail returns the last n lines of the file at path.
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
