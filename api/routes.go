package api

import (
	"net/http"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/templates"
	"github.com/orgid/orgid/tenancy"
	"github.com/orgid/orgid/webhook"
)

// route is one operation of the API. The table below is the only list of
// them: Routes mounts it and openAPIDocument describes it.
type route struct {
	// name is the mux route name (the metrics label) and the OpenAPI
	// operationId.
	name    string
	method  string
	path    string // under /v1, a mux template: "/users/{user_id}"
	tag     string
	summary string
	// public routes need no secret key (only the OpenAPI document).
	public bool
	query  []param
	// body is the zero value of the request body type; nil: no body (an
	// empty body or {} is accepted).
	body   any
	result resultSpec
	// errors are the statuses this route may answer beyond those every
	// route may (400, 401, 429, 500; 404 with path variables; 413 and 415
	// with a body).
	errors []int
	serve  func(h *Handler, c *call) (any, error)
}

type resultKind int

const (
	resultObject     resultKind = iota // one object
	resultList                         // {"data": [...], "total_count": N}
	resultLegacyList                   // a bare array, unless paginated=true
	resultRaw                          // a JSON document written as it is
)

type resultSpec struct {
	kind resultKind
	of   any            // zero value of the object or item type
	raw  map[string]any // schema of a raw document
}

func one[T any]() resultSpec    { var z T; return resultSpec{kind: resultObject, of: z} }
func list[T any]() resultSpec   { var z T; return resultSpec{kind: resultList, of: z} }
func legacy[T any]() resultSpec { var z T; return resultSpec{kind: resultLegacyList, of: z} }

const (
	get, post, patch, put, del         = http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete
	conflict, unprocessable, forbidden = http.StatusConflict, http.StatusUnprocessableEntity, http.StatusForbidden
)

// Tags group the operations in the document.
const (
	tagUsers         = "Users"
	tagOrganizations = "Organizations"
	tagMemberships   = "Organization memberships"
	tagInvitations   = "Organization invitations"
	tagRoles         = "Roles"
	tagPermissions   = "Permissions"
	tagTemplates     = "JWT templates"
	tagWebhooks      = "Webhooks"
	tagClients       = "OAuth applications"
	tagSessions      = "Sessions"
	tagKeys          = "Signing keys"
	tagMeta          = "API"
)

// routeTable lists every operation. Order matters where paths overlap:
// /users/count comes before /users/{user_id}.
func routeTable() []route {
	paging := []param{paramLimit, paramOffset}
	return []route{
		// Users.
		{name: "api_users_list", method: get, path: "/users", tag: tagUsers,
			summary: "List users, newest first. A bare array unless paginated=true, as Clerk's.",
			query: append([]param{paramPaginated,
				{name: "email_address", kind: kindStrings, doc: "Users with any of these email addresses (case-insensitive)."},
				{name: "user_id", kind: kindStrings, doc: "Users with any of these ids."},
				{name: "username", kind: kindStrings, doc: "Users with any of these usernames."},
				{name: "external_id", kind: kindStrings, doc: "Users with any of these external ids."},
				{name: "query", doc: "Part of the email address, first or last name or username, or a whole user id."},
				{name: "order_by", doc: "Only -created_at (the default) is supported."},
			}, paging...),
			result: legacy[identity.UserJSON](), serve: (*Handler).listUsers},
		{name: "api_users_create", method: post, path: "/users", tag: tagUsers,
			summary: "Create a user. The email address is marked verified, as Clerk's Backend API does.",
			body:    createUserRequest{}, result: one[identity.UserJSON](), errors: []int{conflict, unprocessable}, serve: (*Handler).createUser},
		{name: "api_users_count", method: get, path: "/users/count", tag: tagUsers,
			summary: "Count the users matching the filters of GET /users.",
			query: []param{
				{name: "email_address", kind: kindStrings}, {name: "user_id", kind: kindStrings},
				{name: "username", kind: kindStrings}, {name: "external_id", kind: kindStrings}, {name: "query"},
			},
			result: one[TotalCountJSON](), serve: (*Handler).countUsers},
		{name: "api_users_get", method: get, path: "/users/{user_id}", tag: tagUsers,
			summary: "Get a user.", result: one[identity.UserJSON](), serve: (*Handler).getUser},
		{name: "api_users_update", method: patch, path: "/users/{user_id}", tag: tagUsers,
			summary: "Update a user: the fields given change; metadata objects given are replaced whole.",
			body:    updateUserRequest{}, result: one[identity.UserJSON](), errors: []int{conflict, unprocessable}, serve: (*Handler).updateUser},
		{name: "api_users_delete", method: del, path: "/users/{user_id}", tag: tagUsers,
			summary: "Delete a user, ending their sessions and memberships.",
			result:  one[DeletedJSON](), errors: []int{conflict}, serve: (*Handler).deleteUser},
		{name: "api_users_metadata_merge", method: patch, path: "/users/{user_id}/metadata", tag: tagUsers,
			summary: "Deep-merge metadata into the user's: nested objects merge, null removes a key.",
			body:    userMetadataRequest{}, result: one[identity.UserJSON](), errors: []int{unprocessable}, serve: (*Handler).mergeUserMetadata},
		{name: "api_users_metadata_replace", method: put, path: "/users/{user_id}/metadata", tag: tagUsers,
			summary: "Replace the metadata objects given; those not given stay.",
			body:    userMetadataRequest{}, result: one[identity.UserJSON](), errors: []int{unprocessable}, serve: (*Handler).replaceUserMetadata},
		{name: "api_users_ban", method: post, path: "/users/{user_id}/ban", tag: tagUsers,
			summary: "Ban a user: sign-in is refused and every session is revoked.",
			result:  one[identity.UserJSON](), serve: (*Handler).banUser},
		{name: "api_users_unban", method: post, path: "/users/{user_id}/unban", tag: tagUsers,
			summary: "Lift a ban.", result: one[identity.UserJSON](), serve: (*Handler).unbanUser},
		{name: "api_users_lock", method: post, path: "/users/{user_id}/lock", tag: tagUsers,
			summary: "Lock a user out of sign-in for a while (default one hour); sessions stay.",
			body:    lockUserRequest{}, result: one[identity.UserJSON](), errors: []int{unprocessable}, serve: (*Handler).lockUser},
		{name: "api_users_unlock", method: post, path: "/users/{user_id}/unlock", tag: tagUsers,
			summary: "Lift a lock and clear the user's failed sign-in counters.",
			result:  one[identity.UserJSON](), serve: (*Handler).unlockUser},
		{name: "api_users_memberships", method: get, path: "/users/{user_id}/organization_memberships", tag: tagUsers,
			summary: "List the user's organization memberships, newest first.",
			query:   paging, result: list[tenancy.MembershipJSON](), serve: (*Handler).listUserMemberships},

		// Organizations.
		{name: "api_organizations_list", method: get, path: "/organizations", tag: tagOrganizations,
			summary: "List organizations, newest first, with member counts.",
			query: append([]param{
				{name: "query", doc: "Part of the name or slug, or a whole id."},
				{name: "include_members_count", kind: kindBoolean, doc: "Accepted for compatibility; counts are always included."},
			}, paging...),
			result: list[tenancy.OrganizationJSON](), serve: (*Handler).listOrganizations},
		{name: "api_organizations_create", method: post, path: "/organizations", tag: tagOrganizations,
			summary: "Create an organization; created_by becomes its org:owner.",
			body:    createOrganizationRequest{}, result: one[tenancy.OrganizationJSON](), errors: []int{conflict, unprocessable}, serve: (*Handler).createOrganization},
		{name: "api_organizations_get", method: get, path: "/organizations/{organization_id}", tag: tagOrganizations,
			summary: "Get an organization by id or slug.",
			query:   []param{{name: "include_members_count", kind: kindBoolean, doc: "Accepted for compatibility; counts are always included."}},
			result:  one[tenancy.OrganizationJSON](), serve: (*Handler).getOrganization},
		{name: "api_organizations_update", method: patch, path: "/organizations/{organization_id}", tag: tagOrganizations,
			summary: "Update an organization (by id or slug); metadata objects given are replaced whole.",
			body:    updateOrganizationRequest{}, result: one[tenancy.OrganizationJSON](), errors: []int{conflict, unprocessable}, serve: (*Handler).updateOrganization},
		{name: "api_organizations_delete", method: del, path: "/organizations/{organization_id}", tag: tagOrganizations,
			summary: "Delete an organization with its memberships and invitations.",
			result:  one[DeletedJSON](), serve: (*Handler).deleteOrganization},
		{name: "api_organizations_metadata_merge", method: patch, path: "/organizations/{organization_id}/metadata", tag: tagOrganizations,
			summary: "Deep-merge metadata into the organization's: nested objects merge, null removes a key.",
			body:    orgMetadataRequest{}, result: one[tenancy.OrganizationJSON](), errors: []int{unprocessable}, serve: (*Handler).mergeOrganizationMetadata},
		{name: "api_organizations_metadata_replace", method: put, path: "/organizations/{organization_id}/metadata", tag: tagOrganizations,
			summary: "Replace the metadata objects given; those not given stay.",
			body:    orgMetadataRequest{}, result: one[tenancy.OrganizationJSON](), errors: []int{unprocessable}, serve: (*Handler).replaceOrganizationMetadata},

		// Memberships.
		{name: "api_memberships_list", method: get, path: "/organizations/{organization_id}/memberships", tag: tagMemberships,
			summary: "List an organization's members, oldest first, with roles, permissions and public user data.",
			query:   paging, result: list[tenancy.MembershipJSON](), serve: (*Handler).listMemberships},
		{name: "api_memberships_create", method: post, path: "/organizations/{organization_id}/memberships", tag: tagMemberships,
			summary: "Add a user to an organization with a role.",
			body:    createMembershipRequest{}, result: one[tenancy.MembershipJSON](), errors: []int{conflict, unprocessable}, serve: (*Handler).createMembership},
		{name: "api_memberships_update", method: patch, path: "/organizations/{organization_id}/memberships/{user_id}", tag: tagMemberships,
			summary: "Change a member's role. The last owner cannot be demoted.",
			body:    updateMembershipRequest{}, result: one[tenancy.MembershipJSON](), errors: []int{conflict, unprocessable}, serve: (*Handler).updateMembership},
		{name: "api_memberships_delete", method: del, path: "/organizations/{organization_id}/memberships/{user_id}", tag: tagMemberships,
			summary: "Remove a member; answers the membership as it was. The last owner cannot be removed.",
			result:  one[tenancy.MembershipJSON](), errors: []int{conflict}, serve: (*Handler).deleteMembership},
		{name: "api_memberships_metadata_merge", method: patch, path: "/organizations/{organization_id}/memberships/{user_id}/metadata", tag: tagMemberships,
			summary: "Deep-merge metadata into the membership's: nested objects merge, null removes a key.",
			body:    orgMetadataRequest{}, result: one[tenancy.MembershipJSON](), errors: []int{unprocessable}, serve: (*Handler).mergeMembershipMetadata},

		// Invitations.
		{name: "api_invitations_list", method: get, path: "/organizations/{organization_id}/invitations", tag: tagInvitations,
			summary: "List an organization's invitations, newest first.",
			query:   append([]param{{name: "status", doc: "pending, accepted, revoked or expired."}}, paging...),
			result:  list[tenancy.InvitationJSON](), errors: []int{unprocessable}, serve: (*Handler).listInvitations},
		{name: "api_invitations_create", method: post, path: "/organizations/{organization_id}/invitations", tag: tagInvitations,
			summary: "Invite an email address; the answer carries the accept link (url), shown this once.",
			body:    createInvitationRequest{}, result: one[tenancy.InvitationJSON](), errors: []int{conflict, unprocessable}, serve: (*Handler).createInvitation},
		{name: "api_invitations_get", method: get, path: "/organizations/{organization_id}/invitations/{invitation_id}", tag: tagInvitations,
			summary: "Get an invitation.", result: one[tenancy.InvitationJSON](), serve: (*Handler).getInvitation},
		{name: "api_invitations_revoke", method: post, path: "/organizations/{organization_id}/invitations/{invitation_id}/revoke", tag: tagInvitations,
			summary: "Revoke a pending invitation.",
			body:    revokeInvitationRequest{}, result: one[tenancy.InvitationJSON](), errors: []int{conflict}, serve: (*Handler).revokeInvitation},

		// Roles and permissions.
		{name: "api_roles_list", method: get, path: "/organization_roles", tag: tagRoles,
			summary: "List roles with their permissions: system roles first, then custom roles by key.",
			query:   paging, result: list[rbac.RoleJSON](), serve: (*Handler).listRoles},
		{name: "api_roles_create", method: post, path: "/organization_roles", tag: tagRoles,
			summary: "Create a custom role (key org:<name>) with its initial permissions.",
			body:    createRoleRequest{}, result: one[rbac.RoleJSON](), errors: []int{conflict, unprocessable}, serve: (*Handler).createRole},
		{name: "api_roles_get", method: get, path: "/organization_roles/{role_id}", tag: tagRoles,
			summary: "Get a role by id or key.", result: one[rbac.RoleJSON](), serve: (*Handler).getRole},
		{name: "api_roles_update", method: patch, path: "/organization_roles/{role_id}", tag: tagRoles,
			summary: "Rename a role or change its description; a key never changes.",
			body:    updateRoleRequest{}, result: one[rbac.RoleJSON](), errors: []int{unprocessable}, serve: (*Handler).updateRole},
		{name: "api_roles_delete", method: del, path: "/organization_roles/{role_id}", tag: tagRoles,
			summary: "Delete a custom role no member or pending invitation holds.",
			result:  one[DeletedJSON](), errors: []int{conflict, forbidden}, serve: (*Handler).deleteRole},
		{name: "api_roles_grant", method: post, path: "/organization_roles/{role_id}/permissions/{permission_id}", tag: tagRoles,
			summary: "Grant a permission to a role (no change when it holds it).",
			result:  one[rbac.RoleJSON](), errors: []int{forbidden}, serve: (*Handler).grantPermission},
		{name: "api_roles_revoke", method: del, path: "/organization_roles/{role_id}/permissions/{permission_id}", tag: tagRoles,
			summary: "Take a permission from a role (no change when it does not hold it).",
			result:  one[rbac.RoleJSON](), errors: []int{forbidden}, serve: (*Handler).revokePermission},
		{name: "api_permissions_list", method: get, path: "/organization_permissions", tag: tagPermissions,
			summary: "List permissions, system ones included.",
			query:   paging, result: list[rbac.PermissionJSON](), serve: (*Handler).listPermissions},
		{name: "api_permissions_create", method: post, path: "/organization_permissions", tag: tagPermissions,
			summary: "Create a custom permission (key org:<feature>:<action>).",
			body:    createPermissionRequest{}, result: one[rbac.PermissionJSON](), errors: []int{conflict, unprocessable}, serve: (*Handler).createPermission},
		{name: "api_permissions_get", method: get, path: "/organization_permissions/{permission_id}", tag: tagPermissions,
			summary: "Get a permission by id or key.", result: one[rbac.PermissionJSON](), serve: (*Handler).getPermission},
		{name: "api_permissions_update", method: patch, path: "/organization_permissions/{permission_id}", tag: tagPermissions,
			summary: "Rename a permission or change its description.",
			body:    updatePermissionRequest{}, result: one[rbac.PermissionJSON](), errors: []int{unprocessable, forbidden}, serve: (*Handler).updatePermission},
		{name: "api_permissions_delete", method: del, path: "/organization_permissions/{permission_id}", tag: tagPermissions,
			summary: "Delete a custom permission, taking it from every role.",
			result:  one[DeletedJSON](), errors: []int{forbidden}, serve: (*Handler).deletePermission},

		// JWT templates.
		{name: "api_jwt_templates_list", method: get, path: "/jwt_templates", tag: tagTemplates,
			summary: "List templates: built-in presets, then stored ones by name. A bare array unless paginated=true, as Clerk's.",
			query:   append([]param{paramPaginated}, paging...), result: legacy[templates.TemplateJSON](), serve: (*Handler).listTemplates},
		{name: "api_jwt_templates_create", method: post, path: "/jwt_templates", tag: tagTemplates,
			summary: "Create a template. Every problem in the claims is reported, each with its path.",
			body:    createTemplateRequest{}, result: one[templates.TemplateJSON](), errors: []int{conflict, unprocessable, forbidden}, serve: (*Handler).createTemplate},
		{name: "api_jwt_templates_get", method: get, path: "/jwt_templates/{template_id}", tag: tagTemplates,
			summary: "Get a template by id or name.", result: one[templates.TemplateJSON](), serve: (*Handler).getTemplate},
		{name: "api_jwt_templates_update", method: patch, path: "/jwt_templates/{template_id}", tag: tagTemplates,
			summary: "Update a stored template.",
			body:    updateTemplateRequest{}, result: one[templates.TemplateJSON](), errors: []int{conflict, unprocessable, forbidden}, serve: (*Handler).updateTemplate},
		{name: "api_jwt_templates_delete", method: del, path: "/jwt_templates/{template_id}", tag: tagTemplates,
			summary: "Delete a stored template no client uses.",
			result:  one[DeletedJSON](), errors: []int{conflict, forbidden}, serve: (*Handler).deleteTemplate},
		{name: "api_jwt_templates_render", method: post, path: "/jwt_templates/{template_id}/render", tag: tagTemplates,
			summary: "Dry run: the claims a token minted from the template would carry for a user (and organization), unsigned.",
			body:    renderTemplateRequest{}, result: one[RenderJSON](), errors: []int{unprocessable}, serve: (*Handler).renderTemplate},

		// Webhooks.
		{name: "api_webhook_endpoints_list", method: get, path: "/webhooks/endpoints", tag: tagWebhooks,
			summary: "List webhook endpoints, oldest first, without secrets.",
			query:   paging, result: list[webhook.EndpointJSON](), serve: (*Handler).listEndpoints},
		{name: "api_webhook_endpoints_create", method: post, path: "/webhooks/endpoints", tag: tagWebhooks,
			summary: "Add an endpoint; the answer carries its whsec_ signing secret.",
			body:    createEndpointRequest{}, result: one[webhook.EndpointJSON](), errors: []int{unprocessable}, serve: (*Handler).createEndpoint},
		{name: "api_webhook_endpoints_get", method: get, path: "/webhooks/endpoints/{endpoint_id}", tag: tagWebhooks,
			summary: "Get an endpoint; include_secret=true adds its signing secret.",
			query:   []param{{name: "include_secret", kind: kindBoolean, doc: "Include the current signing secret."}},
			result:  one[webhook.EndpointJSON](), serve: (*Handler).getEndpoint},
		{name: "api_webhook_endpoints_update", method: patch, path: "/webhooks/endpoints/{endpoint_id}", tag: tagWebhooks,
			summary: "Change an endpoint's URL, description, event filter, or enable or disable it.",
			body:    updateEndpointRequest{}, result: one[webhook.EndpointJSON](), errors: []int{unprocessable}, serve: (*Handler).updateEndpoint},
		{name: "api_webhook_endpoints_delete", method: del, path: "/webhooks/endpoints/{endpoint_id}", tag: tagWebhooks,
			summary: "Delete an endpoint with its delivery log.",
			result:  one[DeletedJSON](), serve: (*Handler).deleteEndpoint},
		{name: "api_webhook_endpoints_rotate_secret", method: post, path: "/webhooks/endpoints/{endpoint_id}/rotate_secret", tag: tagWebhooks,
			summary: "Give an endpoint a new secret; the previous one keeps signing too for the rotation overlap.",
			result:  one[webhook.EndpointJSON](), serve: (*Handler).rotateEndpointSecret},
		{name: "api_webhook_endpoints_deliveries", method: get, path: "/webhooks/endpoints/{endpoint_id}/deliveries", tag: tagWebhooks,
			summary: "List an endpoint's newest deliveries with their attempts (at most offset+limit ≤ 1000 are read; total_count counts those).",
			query:   paging, result: list[webhook.DeliveryJSON](), serve: (*Handler).listEndpointDeliveries},
		{name: "api_webhook_messages_deliveries", method: get, path: "/webhooks/messages/{message_id}/deliveries", tag: tagWebhooks,
			summary: "List every delivery of one message, with attempts.",
			query:   paging, result: list[webhook.DeliveryJSON](), serve: (*Handler).listMessageDeliveries},
		{name: "api_webhook_messages_replay", method: post, path: "/webhooks/messages/{message_id}/replay", tag: tagWebhooks,
			summary: "Send a message again to every enabled endpoint it was sent to; it keeps its id.",
			result:  one[ReplayJSON](), serve: (*Handler).replayMessage},

		// OAuth applications (orgid's OAuth 2.0 / OIDC clients).
		{name: "api_oauth_applications_list", method: get, path: "/oauth_applications", tag: tagClients,
			summary: "List OAuth 2.0 clients, oldest first.",
			query:   paging, result: list[oidc.ClientJSON](), serve: (*Handler).listClients},
		{name: "api_oauth_applications_create", method: post, path: "/oauth_applications", tag: tagClients,
			summary: "Register a client; a confidential client's secret is in the answer, shown this once.",
			body:    createClientRequest{}, result: one[ClientCreatedJSON](), errors: []int{conflict, unprocessable}, serve: (*Handler).createClient},
		{name: "api_oauth_applications_get", method: get, path: "/oauth_applications/{client_id}", tag: tagClients,
			summary: "Get a client.", result: one[oidc.ClientJSON](), serve: (*Handler).getClient},
		{name: "api_oauth_applications_delete", method: del, path: "/oauth_applications/{client_id}", tag: tagClients,
			summary: "Delete a client with its codes, tokens and consents.",
			result:  one[DeletedJSON](), serve: (*Handler).deleteClient},

		// Sessions.
		{name: "api_sessions_list", method: get, path: "/sessions", tag: tagSessions,
			summary: "List a user's browser sessions, newest first. A bare array unless paginated=true, as Clerk's.",
			query: append([]param{
				{name: "user_id", required: true, doc: "The user whose sessions to list."},
				{name: "status", doc: "active, ended, revoked or expired."},
				paramPaginated,
			}, paging...),
			result: legacy[identity.SessionJSON](), errors: []int{unprocessable}, serve: (*Handler).listSessions},
		{name: "api_sessions_get", method: get, path: "/sessions/{session_id}", tag: tagSessions,
			summary: "Get a session.", result: one[identity.SessionJSON](), serve: (*Handler).getSession},
		{name: "api_sessions_revoke", method: post, path: "/sessions/{session_id}/revoke", tag: tagSessions,
			summary: "Revoke a session: its tokens are revoked and its clients notified (back-channel logout).",
			result:  one[identity.SessionJSON](), serve: (*Handler).revokeSession},

		// Signing keys.
		{name: "api_jwks", method: get, path: "/jwks", tag: tagKeys,
			summary: "The public JWK Set, as Clerk's GET /v1/jwks (also public at the issuer's jwks_uri).",
			result:  resultSpec{kind: resultRaw, raw: jwksSchema()}, serve: (*Handler).jwks},
		{name: "api_signing_keys_list", method: get, path: "/signing_keys", tag: tagKeys,
			summary: "List the signing keys and their states (no private parts).",
			query:   paging, result: list[SigningKeyJSON](), serve: (*Handler).listSigningKeys},
		{name: "api_signing_keys_rotate", method: post, path: "/signing_keys/rotate", tag: tagKeys,
			summary: "Rotate: promote each algorithm's next key and publish a new next key. Answers the new active keys.",
			result:  list[SigningKeyJSON](), errors: []int{conflict}, serve: (*Handler).rotateSigningKeys},

		// The document itself.
		{name: "api_openapi", method: get, path: "/openapi.json", tag: tagMeta, public: true,
			summary: "This OpenAPI 3.1 document.",
			result:  resultSpec{kind: resultRaw, raw: map[string]any{"type": "object", "description": "An OpenAPI 3.1 document."}},
			serve:   func(h *Handler, _ *call) (any, error) { return h.openapi, nil }},
	}
}
