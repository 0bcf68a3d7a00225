package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/templates"
	"github.com/orgid/orgid/tenancy"
)

// templatesCommands are the `orgid templates …` subcommands.
var templatesCommands = []command{
	{"templates create", "create a JWT template (prints its id and name)", runTemplatesCreate},
	{"templates list", "list JWT templates, built-in ones first", runTemplatesList},
	{"templates get", "show a JWT template: orgid templates get NAME|ID", runTemplatesGet},
	{"templates update", "change a JWT template: orgid templates update NAME|ID [flags]", runTemplatesUpdate},
	{"templates delete", "delete a JWT template: orgid templates delete NAME|ID", runTemplatesDelete},
	{"templates render", "print the claims a template would issue for a user, without signing", runTemplatesRender},
}

// templateData loads what a dry run renders for: the user with their
// organizations, and the organization with the user's membership when
// orgRef is not empty — the same data the token path renders from.
func templateData(ctx context.Context, svc *server.Services, userID, orgRef string) (templates.Data, error) {
	user, err := svc.Identity.GetUser(ctx, userID)
	if err != nil {
		return templates.Data{}, err
	}
	memberships, err := svc.Tenancy.Memberships(ctx, userID)
	if err != nil {
		return templates.Data{}, err
	}
	var org *tenancy.Claims
	if orgRef != "" {
		if org, err = svc.Tenancy.Claims(ctx, userID, orgRef); err != nil {
			return templates.Data{}, fmt.Errorf("organization %q of user %q: %w", orgRef, userID, err)
		}
	}
	return oidc.TemplateData(user, nil, memberships, org), nil
}

// templateSettingsFlags are the flags create and update share. Each
// records whether it was given (on the command line or through its
// ORGID_ twin), so that update changes only what was asked for.
type templateSettingsFlags struct {
	name, claims, algorithm optionalString
	lifetime, clockSkew     optionalSeconds
}

func (s *templateSettingsFlags) register(f *flags) {
	f.Var(&s.name, "name", "template name: 1–64 of a-z 0-9 _ -")
	f.Var(&s.claims, "claims", "claims as a JSON object, or @FILE to read them from a file")
	f.Var(&s.lifetime, "lifetime", "lifetime of minted tokens in seconds (default 60)")
	f.Var(&s.clockSkew, "clock-skew", "allowed clock skew in seconds: nbf = now − skew (default 5)")
	f.Var(&s.algorithm, "algorithm", "signing algorithm: RS256 (default) or ES256")
}

// claimsJSON returns --claims, reading @FILE when asked.
func (s *templateSettingsFlags) claimsJSON() (json.RawMessage, error) {
	v := s.claims.value
	if path, ok := strings.CutPrefix(v, "@"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--claims: %w", err)
		}
		return bytes.TrimSpace(b), nil
	}
	return json.RawMessage(v), nil
}

func runTemplatesCreate(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	var s templateSettingsFlags
	s.register(f)
	if err := f.parse(); err != nil {
		return err
	}
	if err := f.noArgs(); err != nil {
		return err
	}
	if !s.name.set || !s.claims.set {
		return errors.New("--name and --claims are required")
	}
	claims, err := s.claimsJSON()
	if err != nil {
		return err
	}
	nt := templates.NewTemplate{Name: s.name.value, Claims: claims, Algorithm: s.algorithm.value}
	if s.lifetime.set {
		nt.Lifetime = s.lifetime.value
		if nt.Lifetime == 0 {
			// 0 would mean "default" to the service; here it is a mistake.
			return errors.New("--lifetime must be at least 1 second")
		}
	}
	if s.clockSkew.set {
		nt.ClockSkew = &s.clockSkew.value
	}
	svc, base, err := openTemplates(ctx, f)
	if err != nil {
		return err
	}
	defer base.Close()
	st, err := svc.Create(ctx, nt)
	if err != nil {
		return err
	}
	return f.output(st.JSON(), st.ID+"  "+st.Name)
}

func runTemplatesList(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	if err := f.parse(); err != nil {
		return err
	}
	if err := f.noArgs(); err != nil {
		return err
	}
	svc, base, err := openTemplates(ctx, f)
	if err != nil {
		return err
	}
	defer base.Close()
	list, err := svc.List(ctx)
	if err != nil {
		return err
	}
	data := make([]templates.TemplateJSON, len(list))
	const row = "%-24s  %-28s  %8s  %6s  %-9s  %s"
	lines := []string{fmt.Sprintf(row, "NAME", "ID", "LIFETIME", "SKEW", "ALGORITHM", "UPDATED")}
	for i, st := range list {
		data[i] = st.JSON()
		updated := since(st.UpdatedAt)
		if st.Builtin {
			updated = "built-in"
		}
		lines = append(lines, fmt.Sprintf(row, st.Name, st.ID, seconds(st.Lifetime), seconds(st.ClockSkew), st.Algorithm, updated))
	}
	return f.output(map[string]any{"data": data, "total_count": len(data)}, lines...)
}

func runTemplatesGet(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	key, err := parseTemplateArg(f)
	if err != nil {
		return err
	}
	svc, base, err := openTemplates(ctx, f)
	if err != nil {
		return err
	}
	defer base.Close()
	st, err := svc.Get(ctx, key)
	if err != nil {
		return err
	}
	return f.output(st.JSON(), describeTemplate(st)...)
}

func runTemplatesUpdate(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	var s templateSettingsFlags
	s.register(f)
	key, err := parseTemplateArg(f)
	if err != nil {
		return err
	}
	var upd templates.TemplateUpdate
	if s.name.set {
		upd.Name = &s.name.value
	}
	if s.claims.set {
		if upd.Claims, err = s.claimsJSON(); err != nil {
			return err
		}
	}
	if s.lifetime.set {
		upd.Lifetime = &s.lifetime.value
	}
	if s.clockSkew.set {
		upd.ClockSkew = &s.clockSkew.value
	}
	if s.algorithm.set {
		upd.Algorithm = &s.algorithm.value
	}
	if !s.name.set && !s.claims.set && !s.lifetime.set && !s.clockSkew.set && !s.algorithm.set {
		return errors.New("nothing to change: give --name, --claims, --lifetime, --clock-skew or --algorithm")
	}
	svc, base, err := openTemplates(ctx, f)
	if err != nil {
		return err
	}
	defer base.Close()
	st, err := svc.Update(ctx, key, upd)
	if err != nil {
		return err
	}
	return f.output(st.JSON(), describeTemplate(st)...)
}

func runTemplatesDelete(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	key, err := parseTemplateArg(f)
	if err != nil {
		return err
	}
	svc, base, err := openTemplates(ctx, f)
	if err != nil {
		return err
	}
	defer base.Close()
	// Resolve first so that the output names what was deleted.
	st, err := svc.Get(ctx, key)
	if err != nil {
		return err
	}
	if err := svc.Delete(ctx, key); err != nil {
		return err
	}
	return f.output(map[string]any{"object": "jwt_template", "id": st.ID, "deleted": true},
		fmt.Sprintf("deleted %s (%s)", st.Name, st.ID))
}

func runTemplatesRender(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	var name, userID, orgID string
	f.StringVar(&name, "template", "", "template name or id (required)")
	f.StringVar(&userID, "user", "", "id of the user to render for (required)")
	f.StringVar(&orgID, "org", "", "id of the active organization (optional)")
	if err := f.parse(); err != nil {
		return err
	}
	if err := f.noArgs(); err != nil {
		return err
	}
	if name == "" || userID == "" {
		return errors.New("--template and --user are required")
	}
	base, svc, err := f.openServices(ctx)
	if err != nil {
		return err
	}
	defer base.Close()
	st, err := svc.Templates.Get(ctx, name)
	if err != nil {
		return err
	}
	data, err := templateData(ctx, svc, userID, orgID)
	if err != nil {
		return err
	}
	claims, err := st.Preview(data, base.Config.Issuer, time.Now())
	if err != nil {
		return err
	}
	// Text output is JSON too: claims are JSON, and indented JSON reads well.
	text, err := json.MarshalIndent(claims, "", "  ")
	if err != nil {
		return err
	}
	return f.output(claims, string(text))
}

// openTemplates opens the configured database and the template service.
func openTemplates(ctx context.Context, f *flags) (*templates.Service, *server.Base, error) {
	base, svc, err := f.openServices(ctx)
	if err != nil {
		return nil, nil, err
	}
	return svc.Templates, base, nil
}

// parseTemplateArg reads the flags around one NAME|ID argument; flags may
// come before or after it.
func parseTemplateArg(f *flags) (string, error) {
	if err := f.parse(); err != nil {
		return "", err
	}
	if f.NArg() == 0 {
		return "", errors.New("missing NAME|ID")
	}
	arg := f.Arg(0)
	if err := f.Parse(f.Args()[1:]); err != nil {
		return "", errUsage
	}
	if err := f.noArgs(); err != nil {
		return "", err
	}
	return arg, nil
}

// describeTemplate is the text form of one template.
func describeTemplate(st *templates.StoredTemplate) []string {
	updated := since(st.UpdatedAt)
	if st.Builtin {
		updated = "built-in"
	}
	claims := string(st.Claims)
	var indented bytes.Buffer
	if json.Indent(&indented, st.Claims, "", "  ") == nil {
		claims = indented.String()
	}
	return []string{
		"id:         " + st.ID,
		"name:       " + st.Name,
		"lifetime:   " + seconds(st.Lifetime),
		"clock skew: " + seconds(st.ClockSkew),
		"algorithm:  " + st.Algorithm,
		"updated:    " + updated,
		"claims:",
		claims,
	}
}

func seconds(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) + "s" }

// optionalString is a string flag that records whether it was set.
type optionalString struct {
	value string
	set   bool
}

func (o *optionalString) String() string { return o.value }

func (o *optionalString) Set(v string) error {
	o.value, o.set = v, true
	return nil
}

// optionalSeconds is a duration flag given in whole seconds ("90"), or
// with a unit ("90s", "2m"), that records whether it was set.
type optionalSeconds struct {
	value time.Duration
	set   bool
}

func (o *optionalSeconds) String() string {
	if !o.set {
		return ""
	}
	return strconv.FormatInt(int64(o.value/time.Second), 10)
}

func (o *optionalSeconds) Set(v string) error {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > int64(templates.MaxLifetime/time.Second) {
			return fmt.Errorf("%d seconds is out of range", n)
		}
		o.value, o.set = time.Duration(n)*time.Second, true
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("want whole seconds (90) or a duration (90s, 2m): %q", v)
	}
	o.value, o.set = d, true
	return nil
}
