package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/orgid/orgid/identity"
)

// usersCommands are the `orgid users …` subcommands.
var usersCommands = []command{
	{"users create", "create a user (prints its id)", runUsersCreate},
	{"users list", "list users, newest first", runUsersList},
	{"users get", "show one user: orgid users get USER_ID", runUsersGet},
	{"users delete", "delete a user and end their sessions: orgid users delete USER_ID", runUsersDelete},
}

func runUsersCreate(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	var nu identity.NewUser
	f.StringVar(&nu.Email, "email", "", "email address (required)")
	f.StringVar(&nu.Password, "password", "", "password; prefer the ORGID_PASSWORD environment variable, which keeps it out of the process list and shell history")
	f.StringVar(&nu.FirstName, "first-name", "", "first name")
	f.StringVar(&nu.LastName, "last-name", "", "last name")
	f.StringVar(&nu.Username, "username", "", "username (optional)")
	f.BoolVar(&nu.EmailVerified, "email-verified", false, "mark the email address as verified")
	if err := f.parse(); err != nil {
		return err
	}
	if err := f.noArgs(); err != nil {
		return err
	}
	if nu.Email == "" {
		return fmt.Errorf("--email is required")
	}
	svc, closeBase, err := openUsersService(ctx, f)
	if err != nil {
		return err
	}
	defer closeBase()
	u, err := svc.CreateUser(ctx, nu)
	if err != nil {
		return err
	}
	return f.output(map[string]string{"id": u.ID, "email": u.Email}, u.ID)
}

func runUsersList(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	var p identity.ListUsersParams
	emails := &listFlag{split: true}
	f.IntVar(&p.Limit, "limit", 100, "how many users to show (at most 500)")
	f.IntVar(&p.Offset, "offset", 0, "skip this many users")
	f.StringVar(&p.Query, "query", "", "match part of an email address, name or username")
	f.Var(emails, "email", "only these email addresses (repeatable or comma-separated)")
	if err := f.parse(); err != nil {
		return err
	}
	if err := f.noArgs(); err != nil {
		return err
	}
	p.EmailAddress = emails.values
	svc, closeBase, err := openUsersService(ctx, f)
	if err != nil {
		return err
	}
	defer closeBase()
	users, total, err := svc.ListUsers(ctx, p)
	if err != nil {
		return err
	}
	data := make([]identity.UserJSON, len(users))
	lines := []string{fmt.Sprintf("%-27s  %-32s  %-24s  %s", "ID", "EMAIL", "NAME", "CREATED")}
	for i, u := range users {
		data[i] = u.JSON()
		lines = append(lines, fmt.Sprintf("%-27s  %-32s  %-24s  %s", u.ID, u.Email, u.FullName(), since(u.CreatedAt)))
	}
	lines = append(lines, fmt.Sprintf("%d of %d users", len(users), total))
	return f.output(map[string]any{"data": data, "total_count": total}, lines...)
}

func runUsersGet(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	userID, err := parseUserIDArg(f, "USER_ID")
	if err != nil {
		return err
	}
	svc, closeBase, err := openUsersService(ctx, f)
	if err != nil {
		return err
	}
	defer closeBase()
	u, err := svc.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	var state []string
	if u.Banned {
		state = append(state, "banned")
	}
	if u.Locked {
		state = append(state, "locked until "+since(u.LockedUntil))
	}
	if len(state) == 0 {
		state = append(state, "active")
	}
	verified := "unverified"
	if u.EmailVerified {
		verified = "verified"
	}
	return f.output(u.JSON(),
		"id:            "+u.ID,
		"email:         "+u.Email+" ("+verified+")",
		"name:          "+u.FullName(),
		"username:      "+u.Username,
		"password:      "+fmt.Sprint(u.HasPassword),
		"state:         "+strings.Join(state, ", "),
		"last sign-in:  "+since(u.LastSignInAt),
		"created:       "+since(u.CreatedAt),
		"updated:       "+since(u.UpdatedAt),
	)
}

func runUsersDelete(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	userID, err := parseUserIDArg(f, "USER_ID")
	if err != nil {
		return err
	}
	svc, closeBase, err := openUsersService(ctx, f)
	if err != nil {
		return err
	}
	defer closeBase()
	if err := svc.DeleteUser(ctx, userID); err != nil {
		return err
	}
	return f.output(map[string]any{"object": "user", "id": userID, "deleted": true}, "deleted "+userID)
}

// openUsersService opens the services; the returned function closes the
// database. Changes emit webhook events and revoke tokens as in the server.
func openUsersService(ctx context.Context, f *flags) (*identity.Service, func(), error) {
	base, svc, err := f.openServices(ctx)
	if err != nil {
		return nil, nil, err
	}
	return svc.Identity, func() { base.Close() }, nil
}

// parseUserIDArg parses flags around exactly one positional argument, so that
// both `get --json ID` and `get ID --json` work.
func parseUserIDArg(f *flags, name string) (string, error) {
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
