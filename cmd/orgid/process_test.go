package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/storage/storagetest"
)

// These tests run the real binary as child processes: what operators run.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// orgidBinary builds cmd/orgid once per test process.
func orgidBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "orgid-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "orgid")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// instance is the configuration of one orgid installation: the CLI and
// the server of a test share it through ORGID_ variables.
type instance struct {
	t      *testing.T
	bin    string
	env    []string
	issuer string
	listen string
}

func newInstance(t *testing.T, dbURL string, extra ...string) *instance {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	in := &instance{t: t, bin: orgidBinary(t), issuer: "http://" + addr, listen: addr}
	in.env = append(os.Environ(),
		"ORGID_DATABASE_URL="+dbURL, "ORGID_DATA_DIR="+filepath.Join(t.TempDir(), "data"),
		"ORGID_ISSUER="+in.issuer, "ORGID_LISTEN="+addr, "ORGID_SECRET=process test master secret, not for production",
		"ORGID_LOG_LEVEL=warn")
	in.env = append(in.env, extra...)
	return in
}

// run runs a CLI command and decodes its --json output into v.
func (in *instance) run(v any, args ...string) {
	in.t.Helper()
	cmd := exec.Command(in.bin, append(args, "--json")...)
	cmd.Env = in.env
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		in.t.Fatalf("orgid %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	if v != nil {
		if err := json.Unmarshal(out, v); err != nil {
			in.t.Fatalf("orgid %s: output is not JSON: %s", strings.Join(args, " "), out)
		}
	}
}

// serve starts `orgid serve` and waits until it is ready.
func (in *instance) serve() *exec.Cmd {
	in.t.Helper()
	cmd := exec.Command(in.bin, "serve")
	cmd.Env = in.env
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		in.t.Fatal(err)
	}
	go func() { // keep the pipe drained; show the log when the test fails
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			in.t.Log("orgid serve: " + sc.Text())
		}
	}()
	in.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(in.issuer + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	in.t.Fatal("orgid serve did not become ready")
	return nil
}

// A change committed by a server that is killed with SIGKILL before its
// webhook is delivered is not lost: the restarted server delivers it, with
// the same message id, once the dead process's lease expires.
func TestKilledServerStillDeliversCommittedEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs orgid")
	}
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		in := newInstance(t, dbURL, "ORGID_WEBHOOK_ALLOW_PRIVATE=true", "ORGID_WEBHOOK_LEASE=16s")

		type delivery struct {
			id   string
			body []byte
			hdr  http.Header
		}
		first := make(chan delivery, 1)
		later := make(chan delivery, 4)
		release := make(chan struct{})
		var mu sync.Mutex
		n := 0
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			d := delivery{id: r.Header.Get("webhook-id"), body: body, hdr: r.Header.Clone()}
			mu.Lock()
			n++
			count := n
			mu.Unlock()
			if count == 1 {
				first <- d
				<-release // the first attempt never answers: its server dies
				return
			}
			later <- d
		}))
		defer func() { close(release); recv.Close() }()

		var ep struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		}
		in.run(&ep, "webhooks", "create", "--url", recv.URL+"/hook", "--events", "session.created")
		var user struct {
			ID string `json:"id"`
		}
		in.run(&user, "users", "create", "--email", "crash@example.com", "--password", servertest.Password)

		server := in.serve()
		// Sign in: the server commits the session and its session.created event.
		b := servertest.NewBrowser(t)
		page := b.Get(in.issuer + "/sign-in")
		if done := b.SignIn(page, in.issuer, "crash@example.com", servertest.Password); !strings.Contains(done.Body, "crash@example.com") {
			t.Fatalf("sign-in: %v", done)
		}
		var d1 delivery
		select {
		case d1 = <-first:
		case <-time.After(30 * time.Second):
			t.Fatal("the server never attempted the delivery")
		}
		if err := server.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = server.Wait()

		in.serve()
		var d2 delivery
		select {
		case d2 = <-later:
		case <-time.After(60 * time.Second):
			t.Fatal("the restarted server did not deliver the committed event")
		}
		if d2.id != d1.id || !strings.HasPrefix(d2.id, "msg_") {
			t.Errorf("message id changed across attempts: %q then %q", d1.id, d2.id)
		}
		wh, err := standardwebhooks.NewWebhook(ep.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(d2.body, d2.hdr); err != nil {
			t.Errorf("redelivery does not verify with the Standard Webhooks library: %v", err)
		}
		var ev struct {
			Type string `json:"type"`
			Data struct {
				UserID string `json:"user_id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(d2.body, &ev); err != nil || ev.Type != "session.created" || ev.Data.UserID != user.ID {
			t.Errorf("event = %s (%v)", d2.body, err)
		}
	})
}

// `orgid serve` on an empty data directory starts in one command, migrates,
// generates keys and answers discovery; SIGTERM stops it gracefully.
func TestServeStartsOnEmptyDirectoryAndStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs orgid")
	}
	dir := t.TempDir()
	in := newInstance(t, "sqlite:"+filepath.Join(dir, "data", "orgid.db"))
	server := in.serve()
	resp, err := http.Get(in.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if doc["issuer"] != in.issuer {
		t.Errorf("discovery issuer = %v", doc["issuer"])
	}
	if err := server.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- server.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("orgid serve exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("orgid serve did not stop after SIGTERM")
	}
}
