package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// openAPIDocument describes every route of routeTable as an OpenAPI 3.1
// document. It is built once at start and served from memory.
func openAPIDocument() (rawJSON, error) {
	g := newSchemaGen()
	paths := map[string]map[string]any{}
	for _, rt := range routeTable() {
		p := PathPrefix + rt.path
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(rt.method)] = operation(g, &rt)
	}
	g.ref(reflect.TypeFor[ErrorsJSON]())
	responses := map[string]any{}
	for _, s := range errorStatuses {
		responses[errorResponseName(s.status)] = map[string]any{
			"description": s.doc,
			"content":     map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Errors"}}},
		}
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "orgid management API",
			"version": "1",
			"description": "Manage users, organizations, memberships, invitations, roles, permissions, JWT templates, " +
				"webhook endpoints, OAuth clients, sessions and signing keys. Paths and shapes follow Clerk's Backend API " +
				"where one exists, so code written against @clerk/backend works when pointed at orgid. Authenticate with " +
				"a secret key (orgid apikeys create) as Authorization: Bearer sk_live_…. JSON only; timestamps are Unix " +
				"milliseconds; lists take limit (1–500, default 10) and offset.",
		},
		"tags":     tags(),
		"paths":    paths,
		"security": []any{map[string]any{"secretKey": []any{}}},
		"components": map[string]any{
			"schemas":   g.components,
			"responses": responses,
			"securitySchemes": map[string]any{
				"secretKey": map[string]any{"type": "http", "scheme": "bearer", "description": "A secret key, sk_live_…, from `orgid apikeys create`."},
			},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// errorStatuses are the error responses the document defines.
var errorStatuses = []struct {
	status int
	doc    string
}{
	{http.StatusBadRequest, "The request cannot be read: malformed JSON, an unknown, missing or repeated parameter, a value of the wrong type. meta.param_name names the parameter."},
	{http.StatusUnauthorized, "No active secret key in Authorization: Bearer."},
	{http.StatusForbidden, "The resource does not allow this operation (a built-in template, a system role or permission)."},
	{http.StatusNotFound, "No such resource."},
	{http.StatusConflict, "The change conflicts with the current state: a taken email, username, slug or key, the last owner, a role in use, an invitation no longer pending, a concurrent change."},
	{http.StatusRequestEntityTooLarge, "The body is larger than 1 MiB."},
	{http.StatusUnsupportedMediaType, "The body is not application/json."},
	{http.StatusUnprocessableEntity, "A value was refused; long_message says why, meta.param_name names the field when known."},
	{http.StatusTooManyRequests, "Too many failed authentications from this address; see Retry-After."},
	{http.StatusInternalServerError, "An internal error; the details are logged under the trace id."},
}

func errorResponseName(status int) string {
	return strings.ReplaceAll(http.StatusText(status), " ", "")
}

func tags() []any {
	var out []any
	for _, t := range []string{tagUsers, tagOrganizations, tagMemberships, tagInvitations, tagRoles, tagPermissions,
		tagTemplates, tagWebhooks, tagClients, tagSessions, tagKeys, tagMeta} {
		out = append(out, map[string]any{"name": t})
	}
	return out
}

var pathVar = regexp.MustCompile(`\{([a-z_]+)\}`)

// pathVarDocs describes the path variables.
var pathVarDocs = map[string]string{
	"user_id":         "A user id (user_…).",
	"organization_id": "An organization id (org_…) or slug.",
	"invitation_id":   "An invitation id (orginv_…).",
	"role_id":         "A role id (role_…) or key (org:admin).",
	"permission_id":   "A permission id (perm_…) or key (org:projects:manage).",
	"template_id":     "A template id (jtmp_…) or name.",
	"endpoint_id":     "A webhook endpoint id (ep_…).",
	"message_id":      "A webhook message id (msg_…), the svix-id of its deliveries.",
	"client_id":       "An OAuth 2.0 client id.",
	"session_id":      "A session id (sess_…), the sid claim of its tokens.",
}

// operation describes one route.
func operation(g *schemaGen, rt *route) map[string]any {
	op := map[string]any{
		"operationId": rt.name,
		"summary":     rt.summary,
		"tags":        []any{rt.tag},
	}
	var params []any
	for _, m := range pathVar.FindAllStringSubmatch(rt.path, -1) {
		params = append(params, map[string]any{
			"name": m[1], "in": "path", "required": true,
			"description": pathVarDocs[m[1]], "schema": map[string]any{"type": "string"},
		})
	}
	for _, q := range rt.query {
		var s map[string]any
		switch q.kind {
		case kindString:
			s = map[string]any{"type": "string"}
		case kindStrings:
			s = map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
		case kindInteger:
			s = map[string]any{"type": "integer"}
		case kindBoolean:
			s = map[string]any{"type": "boolean"}
		}
		p := map[string]any{"name": q.name, "in": "query", "schema": s}
		if q.required {
			p["required"] = true
		}
		if q.kind == kindStrings {
			p["style"], p["explode"] = "form", true
		}
		if q.doc != "" {
			p["description"] = q.doc
		}
		params = append(params, p)
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if rt.body != nil {
		op["requestBody"] = map[string]any{
			"required": true,
			"content":  map[string]any{"application/json": map[string]any{"schema": g.of(reflect.TypeOf(rt.body))}},
		}
	}
	if rt.public {
		op["security"] = []any{}
	}
	responses := map[string]any{
		"200": map[string]any{
			"description": "Success.",
			"content":     map[string]any{"application/json": map[string]any{"schema": resultSchema(g, rt.result)}},
		},
	}
	for _, s := range routeErrors(rt) {
		responses[strconv.Itoa(s)] = map[string]any{"$ref": "#/components/responses/" + errorResponseName(s)}
	}
	op["responses"] = responses
	return op
}

// routeErrors are the error statuses a route may answer.
func routeErrors(rt *route) []int {
	set := map[int]bool{http.StatusBadRequest: true, http.StatusInternalServerError: true}
	if !rt.public {
		set[http.StatusUnauthorized], set[http.StatusTooManyRequests] = true, true
	}
	if strings.Contains(rt.path, "{") {
		set[http.StatusNotFound] = true
	}
	if rt.body != nil {
		set[http.StatusRequestEntityTooLarge], set[http.StatusUnsupportedMediaType] = true, true
	}
	for _, s := range rt.errors {
		set[s] = true
	}
	var out []int
	for _, s := range errorStatuses {
		if set[s.status] {
			out = append(out, s.status)
		}
	}
	return out
}

func resultSchema(g *schemaGen, r resultSpec) map[string]any {
	if r.kind == resultRaw {
		return r.raw
	}
	item := g.of(reflect.TypeOf(r.of))
	paged := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"data":        map[string]any{"type": "array", "items": item},
			"total_count": map[string]any{"type": "integer", "description": "Items in all pages."},
		},
		"required": []any{"data", "total_count"},
	}
	switch r.kind {
	case resultList:
		return paged
	case resultLegacyList:
		return map[string]any{"oneOf": []any{
			map[string]any{"type": "array", "items": item, "description": "Without paginated=true."},
			withDescription(paged, "With paginated=true."),
		}}
	}
	return item
}

// jwksSchema describes a JWK Set.
func jwksSchema() map[string]any {
	return map[string]any{
		"type":        "object",
		"description": "A JWK Set (RFC 7517): every published signing key (next, active, and retired ones still verifying).",
		"properties": map[string]any{
			"keys": map[string]any{"type": "array", "items": map[string]any{
				"type":     "object",
				"required": []any{"kty", "kid", "alg", "use"},
				"properties": map[string]any{
					"kty": map[string]any{"type": "string"}, "kid": map[string]any{"type": "string"},
					"alg": map[string]any{"type": "string"}, "use": map[string]any{"type": "string"},
				},
			}},
		},
		"required": []any{"keys"},
	}
}
