package conformance

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSelectPlans(t *testing.T) {
	all := Plans()
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"all", []string{"config", "basic", "formpost", "dynamic", "rp-logout", "frontchannel-logout", "backchannel-logout"}, false},
		{"dynamic,backchannel-logout", []string{"dynamic", "backchannel-logout"}, false},
		{"oidcc-rp-initiated-logout-certification-test-plan", []string{"rp-logout"}, false},
		{"basic", []string{"basic"}, false},
		{"formpost, config", []string{"formpost", "config"}, false},
		{"oidcc-basic-certification-test-plan", []string{"basic"}, false},
		{"session-management", nil, true},
		{"", nil, true},
	}
	for _, tc := range tests {
		got, err := SelectPlans(all, tc.in)
		if (err != nil) != tc.err {
			t.Errorf("SelectPlans(%q) error = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if names := planNames(got); strings.Join(names, ",") != strings.Join(tc.want, ",") {
			t.Errorf("SelectPlans(%q) = %v, want %v", tc.in, names, tc.want)
		}
	}
}

func TestPlansHaveUniqueNamedModules(t *testing.T) {
	for _, p := range Plans() {
		seen := map[string]bool{}
		for _, m := range p.Modules {
			if m.Name == "" || m.Description == "" || m.Run == nil {
				t.Errorf("%s: module %q lacks a name, description or Run", p.Name, m.Name)
			}
			if seen[m.Name] {
				t.Errorf("%s: module %q twice", p.Name, m.Name)
			}
			seen[m.Name] = true
		}
	}
	if n := len(BasicPlan().Modules); n != 38 {
		t.Errorf("basic plan has %d modules, want the 38 of oidcc-basic-certification-test-plan", n)
	}
}

func TestRunnerWithoutDiscovery(t *testing.T) {
	h := newHarness(t, styleOrgid)
	h.op.srv.Close() // nobody answers at the issuer
	report, out := h.run(t, []Plan{ConfigPlan(), BasicPlan()}, "oidcc-discovery-endpoint-verification", "oidcc-server")
	for name, res := range results(report) {
		if res.Status != StatusFail {
			t.Errorf("%s without a reachable provider: %s, want FAIL\n%s", name, res.Status, out)
		}
	}
	if got := results(report)["basic/oidcc-server"].Reason; !strings.Contains(got, "discovery") {
		t.Errorf("oidcc-server reason = %q, want it to name discovery", got)
	}
}

func TestRunnerContainsModuleDefects(t *testing.T) {
	h := newHarness(t, styleOrgid)
	plan := Plan{Name: "p", Modules: []Module{
		{Name: "panics", Description: "d", Run: func(context.Context, *Env) Result { panic("boom") }},
		{Name: "after", Description: "d", Run: func(context.Context, *Env) Result { return Pass() }},
	}}
	report, _ := h.run(t, []Plan{plan})
	got := statuses(report)
	if got["p/panics"] != StatusFail || got["p/after"] != StatusPass {
		t.Errorf("statuses = %v; want the panic reported as FAIL and the next module run", got)
	}
}

func TestRunnerPlanSetupFailure(t *testing.T) {
	h := newHarness(t, styleOrgid)
	plan := Plan{Name: "p",
		Setup:   func(context.Context, *Env) error { return os.ErrPermission },
		Modules: []Module{{Name: "m", Description: "d", Run: func(context.Context, *Env) Result { return Pass() }}}}
	report, _ := h.run(t, []Plan{plan})
	if res := results(report)["p/m"]; res.Status != StatusFail || !strings.Contains(res.Reason, "setup") {
		t.Errorf("module after a failed setup: %s %q, want FAIL naming the setup", res.Status, res.Reason)
	}
}

func TestRunnerRefusesBadStart(t *testing.T) {
	t.Run("invalid config", func(t *testing.T) {
		r := &Runner{Config: Config{Issuer: "nope"}}
		if _, err := r.Run(context.Background(), Plans()); err == nil {
			t.Errorf("Run with an invalid config = nil error")
		}
	})
	t.Run("redirect port taken", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		cfg := validConfig()
		cfg.RedirectURI = "http://" + ln.Addr().String() + "/callback"
		r := &Runner{Config: cfg}
		if _, err := r.Run(context.Background(), Plans()); err == nil || !strings.Contains(err.Error(), "listen") {
			t.Errorf("Run with the redirect port in use = %v, want a listen error", err)
		}
	})
}

func TestReportJSON(t *testing.T) {
	h := newHarness(t, styleOrgid, faultNoKid)
	report, out := h.run(t, []Plan{BasicPlan()}, "oidcc-server", "oidcc-idtoken-signature", "oidcc-refresh-token")
	if !strings.Contains(out, "PASS basic/oidcc-server\n") || !strings.Contains(out, "FAIL basic/oidcc-idtoken-signature: the ID token header has no kid") {
		t.Errorf("text output:\n%s\nwant PASS and FAIL lines", out)
	}
	if got, want := lastLine(out), "2 passed, 1 failed, 0 skipped"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	path := filepath.Join(t.TempDir(), "report.json")
	if err := report.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Object  string `json:"object"`
		Passed  int    `json:"passed"`
		Failed  int    `json:"failed"`
		Started int64  `json:"started_at"`
		Plans   []struct {
			Name    string `json:"name"`
			Title   string `json:"title"`
			Results []struct {
				Module string `json:"module"`
				Status string `json:"status"`
				Reason string `json:"reason"`
			} `json:"results"`
		} `json:"plans"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("report JSON: %v", err)
	}
	if doc.Object != "conformance_report" || doc.Passed != 2 || doc.Failed != 1 || doc.Started == 0 ||
		len(doc.Plans) != 1 || doc.Plans[0].Title != "oidcc-basic-certification-test-plan" || len(doc.Plans[0].Results) != 3 {
		t.Errorf("report JSON = %s", b)
	}
}

func TestModuleResultLine(t *testing.T) {
	m := ModuleResult{Plan: "basic", Module: "m", Result: Result{Status: StatusFail, Reason: "a\nb  c", Warnings: []string{"w\n1"}}}
	if got, want := m.Line(), "FAIL basic/m: a b c\n    warning: w 1"; got != want {
		t.Errorf("Line() = %q, want %q", got, want)
	}
}

func TestReasonsDoNotLeakRequestValues(t *testing.T) {
	h := newHarness(t, styleOrgid)
	plan := BasicPlan()
	plan.Setup = func(context.Context, *Env) error { h.op.srv.Close(); return nil } // the provider dies after discovery
	report, _ := h.run(t, []Plan{plan}, "oidcc-server", "oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported")
	for name, res := range results(report) {
		if res.Status != StatusFail || !strings.Contains(res.Reason, "connection refused") {
			t.Errorf("%s against a dead provider: %s %q, want FAIL with the transport error", name, res.Status, res.Reason)
		}
		for _, leak := range []string{"state=", "nonce=", "request=", "client_id="} {
			if strings.Contains(res.Reason, leak) {
				t.Errorf("%s: reason %q repeats the request's %s", name, res.Reason, leak)
			}
		}
	}
}
