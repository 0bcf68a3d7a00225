package templates

import (
	"strings"
	"time"
)

// A root is the first segment of a shortcode path: user, org,
// org_membership or session.
type root struct {
	name   string
	fields []field
}

// A field is the second segment. Fields marked open hold JSON objects
// (metadata, the organizations map, the actor) and accept further,
// free-form segments; the others are leaves.
type field struct {
	name string
	open bool
	// get returns the value from d without copying it; nil renders null.
	get func(d *Data) any
}

// roots is the shortcode vocabulary, in the order messages list it. It is
// read-only after initialisation.
var roots = []root{
	{name: "user", fields: []field{
		{name: "id", get: userString(func(u *User) string { return u.ID })},
		{name: "external_id", get: userString(func(u *User) string { return u.ExternalID })},
		{name: "first_name", get: userString(func(u *User) string { return u.FirstName })},
		{name: "last_name", get: userString(func(u *User) string { return u.LastName })},
		{name: "full_name", get: userString(fullName)},
		{name: "username", get: userString(func(u *User) string { return u.Username })},
		{name: "email", get: userString(func(u *User) string { return u.Email })},
		{name: "primary_email_address", get: userString(func(u *User) string { return u.Email })},
		{name: "email_verified", get: func(d *Data) any {
			if d.User == nil {
				return nil
			}
			return d.User.EmailVerified
		}},
		{name: "image_url", get: userString(func(u *User) string { return u.ImageURL })},
		{name: "created_at", get: userTime(func(u *User) time.Time { return u.CreatedAt })},
		{name: "updated_at", get: userTime(func(u *User) time.Time { return u.UpdatedAt })},
		{name: "public_metadata", open: true, get: func(d *Data) any {
			if d.User == nil {
				return nil
			}
			return objectOrEmpty(d.User.PublicMetadata)
		}},
		{name: "unsafe_metadata", open: true, get: func(d *Data) any {
			if d.User == nil {
				return nil
			}
			return objectOrEmpty(d.User.UnsafeMetadata)
		}},
		{name: "organizations", open: true, get: func(d *Data) any {
			if d.User == nil {
				return nil
			}
			if d.User.Organizations == nil {
				return map[string]any{}
			}
			return d.User.Organizations
		}},
	}},
	{name: "org", fields: []field{
		{name: "id", get: orgString(func(o *Org) string { return o.ID })},
		{name: "name", get: orgString(func(o *Org) string { return o.Name })},
		{name: "slug", get: orgString(func(o *Org) string { return o.Slug })},
		{name: "image_url", get: orgString(func(o *Org) string { return o.ImageURL })},
		{name: "public_metadata", open: true, get: func(d *Data) any {
			if d.Org == nil {
				return nil
			}
			return objectOrEmpty(d.Org.PublicMetadata)
		}},
		{name: "role", get: memberRole},
		{name: "permissions", get: memberPermissions},
	}},
	{name: "org_membership", fields: []field{
		{name: "role", get: memberRole},
		{name: "permissions", get: memberPermissions},
		{name: "public_metadata", open: true, get: func(d *Data) any {
			if d.Org == nil || d.Membership == nil {
				return nil
			}
			return objectOrEmpty(d.Membership.PublicMetadata)
		}},
	}},
	{name: "session", fields: []field{
		{name: "id", get: func(d *Data) any {
			if d.Session == nil {
				return nil
			}
			return nonEmpty(d.Session.ID)
		}},
		{name: "actor", open: true, get: func(d *Data) any {
			if d.Session == nil || len(d.Session.Actor) == 0 {
				return nil
			}
			return d.Session.Actor
		}},
	}},
}

func findRoot(name string) *root {
	for i := range roots {
		if roots[i].name == name {
			return &roots[i]
		}
	}
	return nil
}

func (r *root) field(name string) *field {
	for i := range r.fields {
		if r.fields[i].name == name {
			return &r.fields[i]
		}
	}
	return nil
}

func (r *root) fieldNames() string {
	names := make([]string, len(r.fields))
	for i, f := range r.fields {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

func rootNames() string {
	names := make([]string, len(roots))
	for i, r := range roots {
		names[i] = r.name
	}
	return strings.Join(names, ", ")
}

func userString(f func(*User) string) func(*Data) any {
	return func(d *Data) any {
		if d.User == nil {
			return nil
		}
		return nonEmpty(f(d.User))
	}
}

func userTime(f func(*User) time.Time) func(*Data) any {
	return func(d *Data) any {
		if d.User == nil {
			return nil
		}
		t := f(d.User)
		if t.IsZero() {
			return nil
		}
		return t.Unix()
	}
}

func orgString(f func(*Org) string) func(*Data) any {
	return func(d *Data) any {
		if d.Org == nil {
			return nil
		}
		return nonEmpty(f(d.Org))
	}
}

func memberRole(d *Data) any {
	if d.Org == nil || d.Membership == nil {
		return nil
	}
	return nonEmpty(d.Membership.Role)
}

func memberPermissions(d *Data) any {
	if d.Org == nil || d.Membership == nil {
		return nil
	}
	if d.Membership.Permissions == nil {
		return []string{}
	}
	return d.Membership.Permissions
}

// fullName joins the first and last name like Clerk's full_name.
func fullName(u *User) string {
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

// nonEmpty maps "" to nil: an absent name, username or URL renders null, so
// that fallbacks (`{{user.username || user.email}}`) skip it.
func nonEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// objectOrEmpty renders absent metadata as {}, as Clerk's user and
// organization objects always carry a metadata object.
func objectOrEmpty(m map[string]any) any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
