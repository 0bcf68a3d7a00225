package templates

import (
	"math/big"
	"strings"
)

// PresetClerkSessionV2 is the built-in template that renders Clerk's
// session token v2 claims, so that code reading Clerk's claims (the
// @clerk/backend SDK's auth() and has()) keeps working.
const PresetClerkSessionV2 = "clerk-session-v2"

// presetID is the fixed id of built-in templates. Generated ids
// are "jtmp_" and 22 base-62 characters, so "jtmp_clerk_session_v2" (with
// underscores) can never collide with one.
const presetID = "jtmp_clerk_session_v2"

// clerkSessionV2Claims is what list and get show for the preset: the shape
// of its output, described, since the encoding is computed in Go.
const clerkSessionV2Claims = `{
  "v": 2,
  "o": "with an active organization: {id, slg, rol, per, fpm} in Clerk's session token v2 encoding",
  "fea": "with an active organization: its permission features as o:FEATURE, comma-joined",
  "act": "while an operator impersonates the user: the session's actor"
}`

// presets returns the built-in templates, freshly built so callers may
// not alter shared state.
func presets() []*StoredTemplate {
	return []*StoredTemplate{{
		ID:        presetID,
		Name:      PresetClerkSessionV2,
		Claims:    []byte(clerkSessionV2Claims),
		Lifetime:  DefaultLifetime,
		ClockSkew: DefaultClockSkew,
		Algorithm: DefaultAlgorithm,
		Builtin:   true,
		Template:  &Template{preset: clerkSessionV2},
	}}
}

// Preset returns the built-in template with the given name or id.
func Preset(idOrName string) (*StoredTemplate, bool) {
	for _, p := range presets() {
		if p.Name == idOrName || p.ID == idOrName {
			return p, true
		}
	}
	return nil, false
}

// clerkSessionV2 renders Clerk's session token v2 claims (without azp and
// sid, which the token issuer adds):
//
//	v    2
//	o    only with an active organization:
//	       id   organization id
//	       slg  organization slug
//	       rol  role key without its "org:" prefix ("org:admin" → "admin")
//	       per  the distinct actions of the custom permissions, comma-joined
//	       fpm  for each feature in fea, the bitmask of its actions over per
//	            (bit j, least significant first, ⇒ action per[j]), in decimal,
//	            comma-joined
//	fea  only when o carries permissions: "o:<feature>" for each feature,
//	     comma-joined, in order of first appearance
//	act  only while impersonating: a copy of the session's actor
//
// Permissions that are not of the form org:<feature>:<action>, and
// system permissions (feature "sys_…"), are left out, as Clerk does; the
// SDK rebuilds "org:<feature>:<action>" from fea, per and fpm.
func clerkSessionV2(d *Data) map[string]any {
	out := map[string]any{"v": 2}
	if d.Org != nil {
		o := map[string]any{"id": d.Org.ID, "slg": d.Org.Slug}
		if d.Membership != nil {
			o["rol"] = strings.TrimPrefix(d.Membership.Role, "org:")
			if fea, per, fpm, ok := encodePermissions(d.Membership.Permissions); ok {
				o["per"] = per
				o["fpm"] = fpm
				out["fea"] = fea
			}
		}
		out["o"] = o
	}
	if d.Session != nil && len(d.Session.Actor) > 0 {
		r := &renderer{budget: MaxRenderedSize}
		if act := r.copy(d.Session.Actor, 0); r.err == nil {
			out["act"] = act
		}
	}
	return out
}

// encodePermissions packs org:<feature>:<action> keys into Clerk's fea,
// per and fpm strings. ok is false when no permission qualifies.
func encodePermissions(perms []string) (fea, per, fpm string, ok bool) {
	var features, actions []string
	featureIndex := map[string]int{}
	actionIndex := map[string]int{}
	var masks []*big.Int
	for _, p := range perms {
		rest, found := strings.CutPrefix(p, "org:")
		if !found {
			continue
		}
		feature, action, found := strings.Cut(rest, ":")
		if !found || feature == "" || action == "" || strings.HasPrefix(feature, "sys_") ||
			strings.ContainsAny(feature, ",") || strings.ContainsAny(action, ":,") {
			continue
		}
		fi, seen := featureIndex[feature]
		if !seen {
			fi = len(features)
			featureIndex[feature] = fi
			features = append(features, feature)
			masks = append(masks, new(big.Int))
		}
		ai, seen := actionIndex[action]
		if !seen {
			ai = len(actions)
			actionIndex[action] = ai
			actions = append(actions, action)
		}
		masks[fi].SetBit(masks[fi], ai, 1)
	}
	if len(features) == 0 {
		return "", "", "", false
	}
	feas := make([]string, len(features))
	fpms := make([]string, len(masks))
	for i, f := range features {
		feas[i] = "o:" + f
		fpms[i] = masks[i].String()
	}
	return strings.Join(feas, ","), strings.Join(actions, ","), strings.Join(fpms, ","), true
}
