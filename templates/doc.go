// Package templates implements JWT templates: named JSON claim sets with
// {{ shortcodes }}, in the language Clerk's users know, so that a template
// pasted from Clerk works unchanged. The package parses and validates
// templates, renders them for a user, stores them (table jwt_templates),
// and provides the built-in clerk-session-v2 preset.
//
// It does not sign tokens, choose keys, or decide where a template applies:
// the oidc package renders a client's ID-token and access-token templates
// and mints on-demand tokens through token exchange (RFC 8693), adding the
// protocol claims itself. It imports no user or organization package; the
// caller fills Data.
//
// # The language
//
// A template is a JSON object of claims:
//
//	{
//	  "aud": "https://api.example.com",
//	  "name": "{{user.first_name}} {{user.last_name}}",
//	  "email": "{{user.email}}",
//	  "handle": "{{user.username || user.email || 'anonymous'}}",
//	  "plan": "{{org.public_metadata.tier || user.public_metadata.plan || 'free'}}",
//	  "roles": ["member", "{{org.role}}"],
//	  "o": {"id": "{{org.id}}", "perms": "{{org.permissions}}"},
//	  "meta": "{{user.public_metadata}}"
//	}
//
// Static values — strings, numbers, booleans, null, nested objects and
// arrays — are copied as they are (numbers keep their exact text). Keys are
// never templated.
//
// A string that is exactly one expression, "{{…}}" with nothing around it,
// takes the type of what the expression yields: "{{user.public_metadata}}"
// is an object, "{{org.permissions}}" an array, "{{user.email_verified}}" a
// boolean, "{{user.created_at}}" a number.
//
// Any other string containing expressions is interpolated and is always a
// string: "{{user.first_name}} {{user.last_name}}". Inside it, null renders
// as the text null (a user without a first name gives "null Doe", as in
// Clerk), booleans and numbers as in JSON, and objects and arrays as compact
// JSON.
//
// An expression is one operand or several joined by ||. A chain yields the
// first operand that is neither null nor false, or else the last operand,
// whatever it is: {{user.username || user.email || 'anonymous'}}. An empty
// string, 0 and an empty array count as values. Operands are shortcodes or
// literals: single-quoted strings ('it\'s' — \' is a quote, \\ a backslash,
// no other escapes), JSON numbers (30, -1.5, 2e3), true, false and null.
// Spaces around operands are ignored.
//
// # Shortcodes
//
//	user.id, user.external_id, user.first_name, user.last_name,
//	user.full_name        first and last name joined by a space
//	user.username, user.email, user.primary_email_address (same as email)
//	user.email_verified   boolean
//	user.image_url
//	user.created_at, user.updated_at   Unix seconds (as Clerk's templates)
//	user.public_metadata, user.unsafe_metadata   objects ({} when empty)
//	user.organizations    object: organization id → role key ("org:admin")
//	org.id, org.name, org.slug, org.image_url
//	org.public_metadata   object
//	org.role              the user's role key in the active organization
//	org.permissions       array of its permission keys ("org:projects:manage")
//	org_membership.role, org_membership.permissions (same as org.role and
//	                      org.permissions), org_membership.public_metadata
//	session.id
//	session.actor         object, only while an operator impersonates
//
// Strings that are absent (no username, no image) render null, so
// fallbacks skip them. Without an active organization every org.* and
// org_membership.* shortcode renders null.
//
// Metadata, user.organizations and session.actor accept a free-form dot
// path: {{user.public_metadata.addresses.home}},
// {{org.public_metadata.tier}}, {{user.public_metadata.tags.0}} (a decimal
// segment indexes an array). A path that leads nowhere renders null. Path
// segments are letters, digits, "_" and "-".
//
// # Validation
//
// Parse (and so Service.Create and Service.Update) rejects, with every
// problem at once, each with its position — the JSON path of the value
// (claims.o.rol, claims.roles[1], claims["https://x"].y) and the 1-based
// character column inside the string:
//
//   - a document that is not a JSON object, invalid JSON, duplicate keys;
//   - an unknown root ({{organization.id}}), an unknown field of a known
//     root ({{user.nme}}), a path under a field that has none
//     ({{user.id.x}}), a root without a field ({{user}});
//   - a malformed expression: unclosed {{, empty {{}}, a missing operand
//     around ||, a single |, two operands without ||, a double-quoted or
//     unterminated string, a bad escape, a bad number;
//   - a reserved claim at the top level: iss, sub, exp, iat, nbf, jti, azp,
//     sid (orgid sets them; the same names nested are fine; aud is allowed);
//   - anything beyond the limits in limits.go: 64 KiB, 16 levels of nesting,
//     1,000 expressions of at most 1,024 characters, 16 operands, 16 path
//     segments.
//
// Nothing is checked at render time, so a saved template never renders a
// silently empty claim. Parsing is a single hand-written pass, linear in the
// size of the document; rendering is linear in the template and the data
// it copies, and fails with ErrTooLarge beyond MaxRenderedSize.
//
// # Differences from Clerk
//
// Clerk renders an unknown field of a known root as null; orgid rejects it
// when the template is saved. Clerk has no null literal and no array
// indexes in paths; orgid accepts both. Phone-number shortcodes do not exist
// in orgid.
//
// # Presets
//
// clerk-session-v2 renders Clerk's session token v2 claims: "v": 2; with an
// active organization "o": {"id", "slg", "rol", "per", "fpm"} and "fea";
// while impersonating "act". rol is the role key without "org:"; per lists
// the distinct actions of the custom permissions, comma-joined; fea lists
// their features as "o:<feature>"; fpm gives, per feature, the bitmask of
// its actions over per (least significant bit first), so Clerk's SDK
// rebuilds "org:<feature>:<action>". System permissions ("org:sys_…") are
// left out, as Clerk does. The encoding is computed in Go, not in the
// language; the token issuer adds azp and sid. Presets appear in List, are
// found by Get under their name or id, and cannot be updated or deleted.
//
// # Storage
//
// Service keeps templates in jwt_templates: id ("jtmp_…"), a unique name
// (1–64 of a-z 0-9 _ -, starting with a letter or digit), the claims text
// exactly as saved, the lifetime (default 60 s; exp = now + lifetime), the
// allowed clock skew (default 5 s; nbf = now − skew) and the signing
// algorithm (default RS256, one of Options.Algorithms). Templates emit no
// webhook events.
package templates
