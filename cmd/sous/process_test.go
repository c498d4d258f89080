//go:build linux

package main

// Process tests: a real cluster of processes — nats-server, MinIO, `sous
// coordinator`, `sous worker` — whose members are killed and restarted while a
// run goes on. Each process logs to a file in the test's temporary directory;
// the end of every log is printed when a test fails. The servers are found as
// miniotest finds MinIO; without them the tests are skipped (failed under CI).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sous-ml/sous/artifacts/s3"
	"github.com/sous-ml/sous/artifacts/s3/miniotest"
	"github.com/sous-ml/sous/proto"
)

// procAckWait is the ack wait of the test workers: a job whose worker died is
// redelivered after it. Heartbeats go at a third of it.
const procAckWait = 2 * time.Second

var procBin struct {
	once      sync.Once
	dir, path string
	err       error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if procBin.dir != "" {
		os.RemoveAll(procBin.dir)
	}
	os.Exit(code)
}

// sousBinary builds the sous binary once per test binary (without the race
// detector: the processes run real steps, and two builds of the world would
// double the time the race detector already costs the in-process tests).
func sousBinary(t *testing.T) string {
	t.Helper()
	procBin.once.Do(func() {
		procBin.dir, procBin.err = os.MkdirTemp("", "sous-proc-")
		if procBin.err != nil {
			return
		}
		procBin.path = filepath.Join(procBin.dir, "sous")
		gobin := "go"
		if p, err := exec.LookPath("go"); err == nil {
			gobin = p
		} else if root := os.Getenv("GOROOT"); root != "" {
			gobin = filepath.Join(root, "bin", "go")
		}
		out, err := exec.Command(gobin, "build", "-o", procBin.path, ".").CombinedOutput()
		if err != nil {
			procBin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if procBin.err != nil {
		t.Fatal(procBin.err)
	}
	return procBin.path
}

// serverBinary finds a server binary in $GOBIN, $GOPATH/bin or $PATH.
func serverBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := miniotest.LookupBinary(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("no %s binary (make tools installs it); CI must run the process tests", name)
	}
	t.Skipf("no %s binary (make tools installs it); skipping process tests", name)
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// proc is a process of the cluster, logging to a file.
type proc struct {
	t       *testing.T
	name    string
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// startProc starts bin with args and env (added to an environment cleared
// of SOUS_, AWS_ and MINIO_ variables). Its output is appended to
// <tempdir>/<name>.log; it is killed when the test ends.
func startProc(t *testing.T, logDir, name string, env []string, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, logPath: filepath.Join(logDir, name+".log")}
	p.start(env, bin, args...)
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("---- %s (%s), last 12 KiB:\n%s", name, strings.Join(args, " "), tail(p.log(), 12<<10))
		}
	})
	return p
}

func (p *proc) start(env []string, bin string, args ...string) {
	p.t.Helper()
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SOUS_") && !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "MINIO_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(done)
	}()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
}

// exitCode is the exit status of the process, -1 while it runs.
func (p *proc) exitCode() int {
	if p.running() {
		return -1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.ProcessState.ExitCode()
}

func (p *proc) running() bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the process to end.
func (p *proc) kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	_ = cmd.Process.Kill()
	<-done
}

// term sends SIGTERM and waits for the process to end (SIGKILL after 20 s).
func (p *proc) term() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		p.t.Errorf("%s did not stop within 20s of SIGTERM; killing it", p.name)
		p.kill()
	}
}

func (p *proc) log() string {
	data, _ := os.ReadFile(p.logPath)
	return string(data)
}

// entries returns the JSON log lines of the process whose msg is msg.
func (p *proc) entries(msg string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(p.log()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte(msg)) {
			continue
		}
		var m map[string]any
		if json.Unmarshal(line, &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// cluster is nats-server, MinIO, a coordinator and workers, as processes.
type cluster struct {
	t      *testing.T
	dir    string // logs and server data
	bin    string
	natsBn string
	minBn  string

	natsPort int
	natsURL  string
	nats     *proc

	minioAddr string
	minio     *proc

	prefix string
	env    []string // for sous processes: SOUS_NATS_URL, SOUS_STORE, AWS_*

	coord   *proc
	workers []*proc
}

// newCluster starts nats-server and MinIO (with its bucket); coordinators and
// workers are started by the test.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("process tests start real servers; skipped with -short")
	}
	c := &cluster{t: t, dir: t.TempDir()}
	c.natsBn = serverBinary(t, "nats-server")
	c.minBn = serverBinary(t, "minio")
	c.bin = sousBinary(t)

	c.natsPort = freePort(t)
	c.natsURL = fmt.Sprintf("nats://127.0.0.1:%d", c.natsPort)
	c.startNATS()

	c.minioAddr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	c.startMinio()
	srv := miniotest.Server{URL: "http://" + c.minioAddr, AccessKey: miniotest.DefaultAccessKey, SecretKey: miniotest.DefaultSecretKey, Bucket: miniotest.DefaultBucket}
	cfg := srv.Config("")
	cfg.CreateBucket = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := s3.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	c.prefix = "proc/"
	c.env = append(srv.Env(), "SOUS_NATS_URL="+c.natsURL, "SOUS_STORE="+srv.StoreURL(c.prefix))
	return c
}

// store opens the cluster's store, for assertions.
func (c *cluster) store() *s3.Store {
	c.t.Helper()
	srv := miniotest.Server{URL: "http://" + c.minioAddr, AccessKey: miniotest.DefaultAccessKey, SecretKey: miniotest.DefaultSecretKey, Bucket: miniotest.DefaultBucket}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := s3.New(ctx, srv.Config(c.prefix))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = st.Close() })
	return st
}

// startNATS starts (or restarts, on the same port and store directory) nats-server.
func (c *cluster) startNATS() {
	c.t.Helper()
	args := []string{"-js", "-a", "127.0.0.1", "-p", fmt.Sprint(c.natsPort), "-sd", filepath.Join(c.dir, "nats")}
	if c.nats == nil {
		c.nats = startProc(c.t, c.dir, "nats-server", nil, c.natsBn, args...)
	} else {
		c.nats.start(nil, c.natsBn, args...)
	}
	waitFor(c.t, 30*time.Second, "nats-server ready", func() bool {
		nc, err := nats.Connect(c.natsURL, nats.Timeout(500*time.Millisecond))
		if err != nil {
			return false
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err = js.AccountInfo(ctx)
		return err == nil
	})
}

// startMinio starts (or restarts, on the same address and data directory) MinIO.
func (c *cluster) startMinio() {
	c.t.Helper()
	args := []string{"server", filepath.Join(c.dir, "minio"), "--address", c.minioAddr,
		"--console-address", fmt.Sprintf("127.0.0.1:%d", freePort(c.t)), "--quiet"}
	env := []string{"MINIO_ROOT_USER=" + miniotest.DefaultAccessKey, "MINIO_ROOT_PASSWORD=" + miniotest.DefaultSecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=on"}
	if c.minio == nil {
		c.minio = startProc(c.t, c.dir, "minio", env, c.minBn, args...)
	} else {
		c.minio.start(env, c.minBn, args...)
	}
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	waitFor(c.t, 60*time.Second, "minio live", func() bool {
		resp, err := client.Get("http://" + c.minioAddr + "/minio/health/live")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// startCoordinator starts (or restarts) the coordinator and waits until it serves.
func (c *cluster) startCoordinator(extra ...string) *proc {
	c.t.Helper()
	args := append([]string{"coordinator", "--log-level", "info"}, extra...)
	if c.coord == nil {
		c.coord = startProc(c.t, c.dir, "coordinator", c.env, c.bin, args...)
	} else {
		c.coord.start(c.env, c.bin, args...)
	}
	p := c.coord
	n := len(p.entries("coordinator serving"))
	waitFor(c.t, 60*time.Second, "coordinator serving", func() bool {
		return len(p.entries("coordinator serving")) > n || !p.running()
	})
	if !p.running() {
		c.t.Fatalf("coordinator exited:\n%s", tail(p.log(), 4<<10))
	}
	return p
}

// startWorker starts a worker with 2 slots and a short ack wait; faults is SOUS_FAULTS.
func (c *cluster) startWorker(id, faults string, extra ...string) *proc {
	c.t.Helper()
	env := append([]string{}, c.env...)
	if faults != "" {
		env = append(env, faultsEnv+"="+faults)
	}
	tmp := filepath.Join(c.dir, "tmp-"+id)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		c.t.Fatal(err)
	}
	args := append([]string{"worker", "--log-level", "info", "--id", id, "--slots", "2",
		"--ack-wait", procAckWait.String(), "--shutdown-timeout", "5s", "--temp-dir", tmp}, extra...)
	p := startProc(c.t, c.dir, "worker-"+id, env, c.bin, args...)
	c.workers = append(c.workers, p)
	waitFor(c.t, 60*time.Second, "worker "+id+" started", func() bool {
		return len(p.entries("worker started")) > 0 || !p.running()
	})
	if !p.running() {
		c.t.Fatalf("worker %s exited:\n%s", id, tail(p.log(), 4<<10))
	}
	return p
}

// sous runs the CLI with the cluster's environment.
func (c *cluster) sous(timeout time.Duration, args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SOUS_") && !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, c.env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		c.t.Fatalf("sous %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		c.t.Fatalf("sous %s: still running after %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), timeout, o.String(), e.String())
	}
	return code, o.String(), e.String()
}

// submit submits a run with --detach and returns its id.
func (c *cluster) submit(dir string, extra ...string) string {
	c.t.Helper()
	code, out, errOut := c.sous(2*time.Minute, append([]string{"run", "-C", dir, "--detach"}, extra...)...)
	if code != 0 {
		c.t.Fatalf("sous run --detach: exit %d\n%s%s", code, out, errOut)
	}
	return strings.TrimSpace(out)
}

// watch follows a run to its end with `sous runs watch -o json` and returns
// the exit code and the final state.
func (c *cluster) watch(id string, timeout time.Duration) (int, runReport, string) {
	c.t.Helper()
	code, out, errOut := c.sous(timeout, "runs", "watch", id, "-o", "json")
	var rep runReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		c.t.Fatalf("runs watch %s -o json: exit %d, not JSON: %v\n%s\nstderr: %s", id, code, err, out, errOut)
	}
	return code, rep, errOut
}

// started counts the "step started" log lines of every worker, per step.
func (c *cluster) started() map[string]int {
	n := map[string]int{}
	for _, w := range c.workers {
		for _, e := range w.entries("step started") {
			n[fmt.Sprint(e["step"])]++
		}
	}
	return n
}

// runningStep waits until a worker logs that it started step and returns that worker.
func (c *cluster) runningStep(step string, timeout time.Duration) *proc {
	c.t.Helper()
	var found *proc
	waitFor(c.t, timeout, "a worker starts "+step, func() bool {
		for _, w := range c.workers {
			for _, e := range w.entries("step started") {
				if e["step"] == step {
					found = w
					return true
				}
			}
		}
		return false
	})
	return found
}

// js connects to the cluster's NATS for assertions.
func (c *cluster) js() jetstream.JetStream {
	c.t.Helper()
	nc, err := nats.Connect(c.natsURL, nats.MaxReconnects(-1))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		c.t.Fatal(err)
	}
	return js
}

// queued returns the number of messages in SOUS_JOBS.
func (c *cluster) queued(js jetstream.JetStream) uint64 {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, proto.StreamJobs)
	if err != nil {
		c.t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	return info.State.Msgs
}

// count returns the number of objects under prefix whose name ends in suffix.
func count(t *testing.T, st *s3.Store, prefix, suffix string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	infos, err := st.List(ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, info := range infos {
		if strings.HasSuffix(info.Name, suffix) {
			n++
		}
	}
	return n
}

// waitFor polls cond every 50 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wantSucceeded fails the test unless the run succeeded with every training step ran or cached.
func wantSucceeded(t *testing.T, code int, rep runReport, stderr string) {
	t.Helper()
	if code != 0 || rep.Status != proto.StatusSucceeded {
		t.Fatalf("run %s: exit %d, status %s, error %q\n%s", rep.RunID, code, rep.Status, rep.Error, stderr)
	}
	for _, s := range rep.Steps {
		if s.Status != proto.StatusRan && s.Status != proto.StatusCached {
			t.Fatalf("run %s: step %s %s", rep.RunID, s.Name, s.Status)
		}
	}
}
