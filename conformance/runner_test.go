package conformance

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// harness is one run of the runner against a fake provider.
type harness struct {
	op  *fakeOP
	cfg Config
	ln  net.Listener
	// noRotate leaves the runner without a way to rotate keys.
	noRotate bool
}

func newHarness(t *testing.T, style loginStyle, faults ...fault) *harness {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	redirect := "http://" + ln.Addr().String() + "/callback"
	op := newFakeOP(t, redirect, style, faults...)
	cfg := Config{
		Issuer:      op.issuer,
		RedirectURI: redirect,
		Clients: Clients{
			SecretBasic: Client{ClientID: "basic-client", ClientSecret: "basic-secret"},
			SecretPost:  Client{ClientID: "post-client", ClientSecret: "post-secret"},
			Public:      Client{ClientID: "public-client"},
		},
		User: User{Identifier: fakeLogin, Password: fakePassword, Claims: map[string]any{
			"email": fakeLogin, "email_verified": true, "given_name": "Ada", "family_name": "Lovelace",
			"name": "Ada Lovelace", "phone_number": "+44 20 7946 0000",
			"address": map[string]any{"formatted": "12 St James's Square, London", "country": "GB"},
		}},
		// A provider that never notifies must not stall the tests.
		LogoutWait: Duration(2 * time.Second),
	}
	if style == styleCustom {
		cfg.Login = LoginForm{
			URLPattern:        `/u/login\?`,
			IdentifierField:   "username",
			PasswordField:     "pass",
			ExtraFields:       map[string]string{"remember": "yes"},
			Submit:            Button{Name: "op", Value: "signin"},
			Consent:           Button{Name: "decision", Value: "approve"},
			OrganizationField: "org",
		}
	}
	return &harness{op: op, cfg: cfg, ln: ln}
}

// run runs plans (only the named modules, if any) on the fake clock.
func (h *harness) run(t *testing.T, plans []Plan, only ...string) (*Report, string) {
	t.Helper()
	var out bytes.Buffer
	r := &Runner{
		Config:   h.cfg,
		Out:      &out,
		Listener: h.ln,
		Now:      h.op.clock.Now,
		Sleep: func(_ context.Context, d time.Duration) error {
			h.op.clock.advance(d)
			return nil
		},
		Only:       only,
		RotateKeys: h.op.rotateKeys,
	}
	if h.noRotate {
		r.RotateKeys = nil
	}
	report, err := r.Run(context.Background(), plans)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return report, out.String()
}

// results maps "plan/module" to its report.
func results(r *Report) map[string]ModuleReport {
	m := map[string]ModuleReport{}
	for _, p := range r.Plans {
		for _, res := range p.Results {
			m[p.Name+"/"+res.Module] = res
		}
	}
	return m
}

func statuses(r *Report) map[string]Status {
	m := map[string]Status{}
	for k, v := range results(r) {
		m[k] = v.Status
	}
	return m
}

func planByName(t *testing.T, name string) Plan {
	t.Helper()
	plans, err := SelectPlans(Plans(), name)
	if err != nil {
		t.Fatal(err)
	}
	return plans[0]
}

func TestPlansPassAgainstCorrectProvider(t *testing.T) {
	h := newHarness(t, styleOrgid)
	report, out := h.run(t, Plans())
	want := map[string]Status{}
	for _, p := range Plans() {
		for _, m := range p.Modules {
			want[p.Name+"/"+m.Name] = StatusPass
		}
	}
	if diff := cmp.Diff(want, statuses(report)); diff != "" {
		t.Errorf("statuses against a correct provider (-want +got):\n%s\noutput:\n%s", diff, out)
	}
	for name, res := range results(report) {
		if len(res.Warnings) > 0 {
			t.Errorf("%s: warnings against a correct provider: %q", name, res.Warnings)
		}
	}
	total := len(want)
	if got, wantLine := lastLine(out), "119 passed, 0 failed, 0 skipped"; total != 119 || got != wantLine {
		t.Errorf("modules = %d, summary line = %q; want 119 modules (2 config + 2×38 basic + 26 dynamic + 11 rp-logout + 2 front-channel + 2 back-channel) and %q", total, got, wantLine)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
