package webhook_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/webhook"
)

// crashDBEnv carries the database URL to the helper process.
const crashDBEnv = "ORGID_WEBHOOK_CRASH_DB"

// A process that committed a change with its event and was killed with
// SIGKILL before delivering loses nothing: a worker started afterwards
// delivers the event.
func TestCrashAfterCommitIsDelivered(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a child process")
	}
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		db := storagetest.OpenURL(t, dbURL)
		e := onRealClock(t, db)
		r := newReceiver(t)
		r.checkTimestamp = true
		ep := e.endpoint(t, r, "/hook")

		child := startEmitterProcess(t, dbURL)
		child.waitFor("committed")
		child.kill()

		if n := len(r.Requests()); n != 0 {
			t.Fatalf("receiver got %d requests before any worker ran, want 0", n)
		}
		// The restarted side: a fresh worker on a fresh handle.
		restarted := e.newWorker(t, storagetest.OpenURL(t, dbURL), realClock)
		if n, err := restarted.RunOnce(e.ctx); err != nil || n != 1 {
			t.Fatalf("RunOnce after the crash = %d, %v; want 1", n, err)
		}
		reqs := r.Requests()
		if len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), `"id":"user_crash"`) {
			t.Fatalf("receiver got %d requests, want the child's user.created", len(reqs))
		}
		if d := onlyDelivery(t, e, ep.ID); d.Status != webhook.StatusSucceeded {
			t.Errorf("delivery %s, want succeeded", d.Status)
		}
	})
}

// TestCrashHelper is the child of TestCrashAfterCommitIsDelivered: it
// commits a change with its event, says so, and waits to be killed.
func TestCrashHelper(t *testing.T) {
	dbURL := os.Getenv(crashDBEnv)
	if dbURL == "" {
		t.Skip("helper process for TestCrashAfterCommitIsDelivered")
	}
	ctx := context.Background()
	db, err := storage.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	outbox := webhook.NewOutbox(db, nil)
	if err := storage.InTx(ctx, db, func(ctx context.Context) error {
		return outbox.Emit(ctx, "user.created", user{Object: "user", ID: "user_crash", FirstName: "Crash"})
	}); err != nil {
		t.Fatal(err)
	}
	fmt.Println("committed")
	// Wait for SIGKILL; the bound only stops an orphan.
	<-time.After(2 * time.Minute)
	t.Fatal("helper was not killed")
}

// childProcess is an orgid process the test kills. Today it is this test
// binary running TestCrashHelper; once `orgid serve` exists it can be a
// server that commits a change through its API (same waitFor and kill).
type childProcess struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines *bufio.Scanner
}

func startEmitterProcess(t *testing.T, dbURL string) *childProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDBEnv+"="+dbURL)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return &childProcess{t: t, cmd: cmd, lines: bufio.NewScanner(out)}
}

// waitFor reads the child's output until a line equals want.
func (c *childProcess) waitFor(want string) {
	c.t.Helper()
	found := make(chan bool, 1)
	go func() {
		for c.lines.Scan() {
			if strings.TrimSpace(c.lines.Text()) == want {
				found <- true
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if !ok {
			c.t.Fatalf("child exited before printing %q", want)
		}
	case <-time.After(60 * time.Second):
		c.t.Fatalf("child did not print %q", want)
	}
}

// kill sends SIGKILL and waits for the child to die of it.
func (c *childProcess) kill() {
	c.t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		c.t.Fatal(err)
	}
	err := c.cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		c.t.Fatalf("child ended with %v, want killed by SIGKILL", err)
	}
}
