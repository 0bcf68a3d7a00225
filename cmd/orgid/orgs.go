package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/tenancy"
)

// orgsCommands are the `orgid orgs …`, `orgid roles …` and
// `orgid permissions …` subcommands. They act as the operator: every
// permission check passes, every change emits its webhook event.
var orgsCommands = []command{
	{"orgs create", "create an organization owned by a user (prints its id and slug)", runOrgsCreate},
	{"orgs list", "list organizations, newest first", runOrgsList},
	{"orgs get", "show one organization: orgid orgs get ORG (id or slug)", runOrgsGet},
	{"orgs delete", "delete an organization with its memberships and invitations: orgid orgs delete ORG", runOrgsDelete},
	{"orgs members add", "add a user to an organization with a role", runOrgsMembersAdd},
	{"orgs members set-role", "change a member's role", runOrgsMembersSetRole},
	{"orgs members remove", "remove a member from an organization", runOrgsMembersRemove},
	{"orgs members list", "list an organization's members", runOrgsMembersList},
	{"orgs invite", "invite an email address to an organization (prints the invitation id and accept URL)", runOrgsInvite},
	{"permissions create", "define a custom permission org:<feature>:<action>", runPermissionsCreate},
	{"permissions list", "list permissions", runPermissionsList},
	{"permissions delete", "delete a custom permission: orgid permissions delete KEY", runPermissionsDelete},
	{"roles create", "define a custom role org:<name> with permissions", runRolesCreate},
	{"roles grant", "give a role a permission", runRolesGrant},
	{"roles revoke", "take a permission from a role", runRolesRevoke},
	{"roles list", "list roles and their permissions", runRolesList},
	{"roles delete", "delete a custom role no member holds: orgid roles delete KEY", runRolesDelete},
}

// orgServices are the services an organizations command needs, on one base.
type orgServices struct {
	base  *server.Base
	users *identity.Service
	roles *rbac.Service
	orgs  *tenancy.Service
}

func (s *orgServices) Close() { s.base.Close() }

// openOrgServices opens the configured database and the services.
func openOrgServices(ctx context.Context, f *flags) (*orgServices, error) {
	base, svc, err := f.openServices(ctx)
	if err != nil {
		return nil, err
	}
	return &orgServices{base: base, users: svc.Identity, roles: svc.RBAC, orgs: svc.Tenancy}, nil
}

// withOrgs parses the flags (with one positional argument named argName
// when it is not ""), runs check (when not nil) before touching the
// database, opens the services and runs fn.
func withOrgs(ctx context.Context, f *flags, argName string, check func() error, fn func(s *orgServices, arg string) error) error {
	var arg string
	if argName == "" {
		if err := f.parse(); err != nil {
			return err
		}
		if err := f.noArgs(); err != nil {
			return err
		}
	} else {
		var err error
		if arg, err = parseOrgsArg(f, argName); err != nil {
			return err
		}
	}
	if check != nil {
		if err := check(); err != nil {
			return err
		}
	}
	s, err := openOrgServices(ctx, f)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s, arg)
}

// parseOrgsArg parses flags around exactly one positional argument, so
// that both `get --json ORG` and `get ORG --json` work.
func parseOrgsArg(f *flags, name string) (string, error) {
	if err := f.parse(); err != nil {
		return "", err
	}
	if f.NArg() == 0 {
		return "", fmt.Errorf("missing %s", name)
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

func required(pairs ...string) error {
	var missing []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			missing = append(missing, "--"+pairs[i])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s required", strings.Join(missing, ", "))
	}
	return nil
}

func runOrgsCreate(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	var in tenancy.NewOrganization
	f.StringVar(&in.Name, "name", "", "organization name (required)")
	f.StringVar(&in.CreatedBy, "owner", "", "id of the user who becomes its org:owner (required)")
	f.StringVar(&in.Slug, "slug", "", "slug; generated from the name when omitted")
	f.StringVar(&in.ImageURL, "image-url", "", "logo URL")
	f.IntVar(&in.MaxAllowedMemberships, "max-allowed-memberships", 0, "member limit (0: unlimited)")
	return withOrgs(ctx, f, "", func() error { return required("name", in.Name, "owner", in.CreatedBy) }, func(s *orgServices, _ string) error {
		o, err := s.orgs.CreateOrganization(ctx, tenancy.Operator(), in)
		if err != nil {
			return err
		}
		return f.output(o.JSON(), o.ID+" "+o.Slug)
	})
}

func orgLine(o *tenancy.Organization) string {
	members := "-"
	if o.Counts != nil {
		members = fmt.Sprint(o.Counts.Members)
	}
	return fmt.Sprintf("%-26s  %-24s  %-28s  %7s  %s", o.ID, o.Slug, o.Name, members, since(o.CreatedAt))
}

func runOrgsList(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	var p tenancy.ListOrganizationsParams
	f.IntVar(&p.Limit, "limit", 100, "how many organizations to show (at most 500)")
	f.IntVar(&p.Offset, "offset", 0, "skip this many")
	f.StringVar(&p.Query, "query", "", "match part of a name or slug, or a whole id")
	return withOrgs(ctx, f, "", nil, func(s *orgServices, _ string) error {
		orgs, total, err := s.orgs.ListOrganizations(ctx, tenancy.Operator(), p)
		if err != nil {
			return err
		}
		data := make([]tenancy.OrganizationJSON, len(orgs))
		lines := []string{fmt.Sprintf("%-26s  %-24s  %-28s  %7s  %s", "ID", "SLUG", "NAME", "MEMBERS", "CREATED")}
		for i, o := range orgs {
			data[i] = o.JSON()
			lines = append(lines, orgLine(o))
		}
		lines = append(lines, fmt.Sprintf("%d of %d organizations", len(orgs), total))
		return f.output(map[string]any{"data": data, "total_count": total}, lines...)
	})
}

func runOrgsGet(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	return withOrgs(ctx, f, "ORG", nil, func(s *orgServices, ref string) error {
		o, err := s.orgs.GetOrganization(ctx, tenancy.Operator(), ref)
		if err != nil {
			return err
		}
		limit := "unlimited"
		if o.MaxAllowedMemberships > 0 {
			limit = fmt.Sprint(o.MaxAllowedMemberships)
		}
		return f.output(o.JSON(),
			"id:          "+o.ID,
			"name:        "+o.Name,
			"slug:        "+o.Slug,
			"members:     "+fmt.Sprintf("%d (limit %s), %d pending invitations", o.Counts.Members, limit, o.Counts.PendingInvitations),
			"created by:  "+o.CreatedBy,
			"created:     "+since(o.CreatedAt),
		)
	})
}

func runOrgsDelete(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	return withOrgs(ctx, f, "ORG", nil, func(s *orgServices, ref string) error {
		o, err := s.orgs.GetOrganization(ctx, tenancy.Operator(), ref)
		if err != nil {
			return err
		}
		if err := s.orgs.DeleteOrganization(ctx, tenancy.Operator(), o.ID); err != nil {
			return err
		}
		return f.output(map[string]any{"object": "organization", "id": o.ID, "deleted": true}, "deleted "+o.ID)
	})
}

// memberFlags registers --org, --user and, when withRole, --role with
// the given default ("" makes it required).
func memberFlags(f *flags, withRole bool, roleDefault string) (org, user, role *string) {
	org = f.String("org", "", "organization id or slug (required)")
	user = f.String("user", "", "user id (required)")
	role = new(string)
	if withRole {
		f.StringVar(role, "role", roleDefault, "role key, org:<name>")
	}
	return org, user, role
}

func memberLine(m *tenancy.Membership) string {
	email := ""
	if m.PublicUserData != nil {
		email = m.PublicUserData.Identifier
	}
	return fmt.Sprintf("%-27s  %-32s  %-14s  %s", m.UserID, email, m.Role, since(m.CreatedAt))
}

func runOrgsMembersAdd(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	org, user, role := memberFlags(f, true, rbac.RoleMember)
	return withOrgs(ctx, f, "", func() error { return required("org", *org, "user", *user, "role", *role) }, func(s *orgServices, _ string) error {
		m, err := s.orgs.AddMembership(ctx, tenancy.Operator(), *org, *user, *role)
		if err != nil {
			return err
		}
		return f.output(m.JSON(), m.ID+" "+m.Role)
	})
}

func runOrgsMembersSetRole(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	org, user, role := memberFlags(f, true, "")
	return withOrgs(ctx, f, "", func() error { return required("org", *org, "user", *user, "role", *role) }, func(s *orgServices, _ string) error {
		m, err := s.orgs.SetMembershipRole(ctx, tenancy.Operator(), *org, *user, *role)
		if err != nil {
			return err
		}
		return f.output(m.JSON(), m.ID+" "+m.Role)
	})
}

func runOrgsMembersRemove(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	org, user, _ := memberFlags(f, false, "")
	return withOrgs(ctx, f, "", func() error { return required("org", *org, "user", *user) }, func(s *orgServices, _ string) error {
		if err := s.orgs.RemoveMembership(ctx, tenancy.Operator(), *org, *user); err != nil {
			return err
		}
		return f.output(map[string]any{"object": "organization_membership", "user_id": *user, "deleted": true}, "removed "+*user)
	})
}

func runOrgsMembersList(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	org := f.String("org", "", "organization id or slug (required)")
	var p tenancy.ListParams
	f.IntVar(&p.Limit, "limit", 100, "how many members to show (at most 500)")
	f.IntVar(&p.Offset, "offset", 0, "skip this many")
	return withOrgs(ctx, f, "", func() error { return required("org", *org) }, func(s *orgServices, _ string) error {
		ms, total, err := s.orgs.ListMemberships(ctx, tenancy.Operator(), *org, p)
		if err != nil {
			return err
		}
		data := make([]tenancy.MembershipJSON, len(ms))
		lines := []string{fmt.Sprintf("%-27s  %-32s  %-14s  %s", "USER", "EMAIL", "ROLE", "SINCE")}
		for i, m := range ms {
			data[i] = m.JSON()
			lines = append(lines, memberLine(m))
		}
		lines = append(lines, fmt.Sprintf("%d of %d members", len(ms), total))
		return f.output(map[string]any{"data": data, "total_count": total}, lines...)
	})
}

func runOrgsInvite(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	org := f.String("org", "", "organization id or slug (required)")
	var in tenancy.NewInvitation
	f.StringVar(&in.EmailAddress, "email", "", "address to invite (required)")
	f.StringVar(&in.Role, "role", rbac.RoleMember, "role the invitee receives")
	f.StringVar(&in.InviterUserID, "inviter", "", "id of the inviting user, named in the email (optional)")
	f.DurationVar(&in.ExpiresIn, "expires-in", tenancy.DefaultInvitationLifetime, "how long the link works")
	return withOrgs(ctx, f, "", func() error { return required("org", *org, "email", in.EmailAddress) }, func(s *orgServices, _ string) error {
		created, err := s.orgs.CreateInvitation(ctx, tenancy.Operator(), *org, in)
		if created == nil {
			return err
		}
		// The URL is printed for development: it is the only copy besides
		// the email, which may not have been sent.
		if outErr := f.output(created.JSON(), created.ID, created.URL); outErr != nil {
			return outErr
		}
		if errors.Is(err, tenancy.ErrMailNotSent) {
			return fmt.Errorf("invitation %s created, but: %w", created.ID, err)
		}
		return err
	})
}

func runPermissionsCreate(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	var in rbac.NewPermission
	f.StringVar(&in.Key, "key", "", "permission key org:<feature>:<action> (required)")
	f.StringVar(&in.Name, "name", "", "display name (defaults to the key)")
	f.StringVar(&in.Description, "description", "", "description")
	return withOrgs(ctx, f, "", func() error { return required("key", in.Key) }, func(s *orgServices, _ string) error {
		p, err := s.roles.CreatePermission(ctx, in)
		if err != nil {
			return err
		}
		return f.output(p.JSON(), p.ID+" "+p.Key)
	})
}

func runPermissionsList(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	return withOrgs(ctx, f, "", nil, func(s *orgServices, _ string) error {
		perms, err := s.roles.ListPermissions(ctx)
		if err != nil {
			return err
		}
		data := make([]rbac.PermissionJSON, len(perms))
		lines := []string{fmt.Sprintf("%-32s  %-7s  %s", "KEY", "TYPE", "NAME")}
		for i, p := range perms {
			data[i] = p.JSON()
			lines = append(lines, fmt.Sprintf("%-32s  %-7s  %s", p.Key, data[i].Type, p.Name))
		}
		return f.output(map[string]any{"data": data, "total_count": len(perms)}, lines...)
	})
}

func runPermissionsDelete(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	return withOrgs(ctx, f, "KEY", nil, func(s *orgServices, key string) error {
		p, err := s.roles.GetPermission(ctx, key)
		if err != nil {
			return err
		}
		if err := s.roles.DeletePermission(ctx, p.ID); err != nil {
			return err
		}
		return f.output(map[string]any{"object": "permission", "id": p.ID, "deleted": true}, "deleted "+p.Key)
	})
}

func runRolesCreate(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	var in rbac.NewRole
	perms := &listFlag{split: true}
	f.StringVar(&in.Key, "key", "", "role key org:<name> (required)")
	f.StringVar(&in.Name, "name", "", "display name (required)")
	f.StringVar(&in.Description, "description", "", "description")
	f.Var(perms, "permission", "permission key to grant (repeatable or comma-separated)")
	return withOrgs(ctx, f, "", func() error { return required("key", in.Key, "name", in.Name) }, func(s *orgServices, _ string) error {
		in.Permissions = perms.values
		r, err := s.roles.CreateRole(ctx, in)
		if err != nil {
			return err
		}
		return f.output(r.JSON(), r.ID+" "+r.Key)
	})
}

func runRolesGrant(ctx context.Context, inv *invocation) error  { return changeGrant(ctx, inv, true) }
func runRolesRevoke(ctx context.Context, inv *invocation) error { return changeGrant(ctx, inv, false) }

func changeGrant(ctx context.Context, inv *invocation, grant bool) error {
	f := inv.newFlags()
	f.configFlags()
	role := f.String("role", "", "role key (required)")
	perm := f.String("permission", "", "permission key (required)")
	return withOrgs(ctx, f, "", func() error { return required("role", *role, "permission", *perm) }, func(s *orgServices, _ string) error {
		change := s.roles.Revoke
		if grant {
			change = s.roles.Grant
		}
		if err := change(ctx, *role, *perm); err != nil {
			return err
		}
		r, err := s.roles.GetRole(ctx, *role)
		if err != nil {
			return err
		}
		return f.output(r.JSON(), r.Key+": "+strings.Join(r.PermissionKeys(), ", "))
	})
}

func runRolesList(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	return withOrgs(ctx, f, "", nil, func(s *orgServices, _ string) error {
		roles, err := s.roles.ListRoles(ctx)
		if err != nil {
			return err
		}
		data := make([]rbac.RoleJSON, len(roles))
		lines := []string{fmt.Sprintf("%-20s  %-16s  %s", "KEY", "NAME", "PERMISSIONS")}
		for i, r := range roles {
			data[i] = r.JSON()
			lines = append(lines, fmt.Sprintf("%-20s  %-16s  %s", r.Key, r.Name, strings.Join(r.PermissionKeys(), ", ")))
		}
		return f.output(map[string]any{"data": data, "total_count": len(roles)}, lines...)
	})
}

func runRolesDelete(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	return withOrgs(ctx, f, "KEY", nil, func(s *orgServices, key string) error {
		r, err := s.roles.GetRole(ctx, key)
		if err != nil {
			return err
		}
		if err := s.roles.DeleteRole(ctx, r.ID); err != nil {
			return err
		}
		return f.output(map[string]any{"object": "role", "id": r.ID, "deleted": true}, "deleted "+r.Key)
	})
}
