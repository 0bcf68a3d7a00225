package ui

import (
	"html/template"
	"time"
)

// pageCase is one page in one state, with data shaped like what its owner
// passes (maps stand in for the owners' view structs: templates reach
// fields and keys alike).
type pageCase struct {
	page, name string
	data       any
}

type m = map[string]any

// fixtures are representative data for every template and the states its
// branches show. TestEveryTemplateHasFixtures keeps the list complete.
func fixtures() []pageCase {
	day := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	flow := m{"Flow": "flow_1", "ReturnTo": "", "SignInURL": "/sign-in?flow=flow_1", "ClientName": "Acme CRM"}
	with := func(base m, extra m) m {
		out := m{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	stamp := m{"Text": "1 Mar 2026 12:00 UTC", "ISO": "2026-03-01T12:00:00Z"}
	nav := m{"Email": "ada@example.com"}
	user := m{"FullName": "Ada Lovelace", "ImageURL": "https://img.example.com/ada.png", "Email": "ada@example.com", "EmailVerified": true, "HasPassword": true}
	noErrors := map[string]string{}
	profileForm := m{"FirstName": "Ada", "LastName": "Lovelace", "Username": "ada", "ImageURL": "", "ConfirmEmail": ""}
	org := m{"Name": "Acme", "Slug": "acme", "ImageURL": "https://img.example.com/acme.png"}
	canAll := m{"ManageProfile": true, "ReadMembers": true, "ManageMembers": true, "ReadDomains": true, "ManageDomains": true, "Delete": true}
	roles := []m{{"Value": "org:admin", "Label": "Admin"}, {"Value": "org:member", "Label": "Member"}}
	modes := []m{{"Value": "manual_invitation", "Label": "org.enrollment.manual"}, {"Value": "automatic_invitation", "Label": "org.enrollment.automatic_invitation"}}
	orgProfile := func(can m, extra m) m {
		return with(m{
			"Org": org, "Path": "/organizations/acme", "Email": "ada@example.com", "MyRole": "Admin", "Active": true,
			"Can": can, "Notice": "", "Error": "",
			"Form":         m{"Name": "Acme", "Slug": "acme", "ImageURL": "", "InviteEmail": "", "InviteRole": "org:member", "DomainName": ""},
			"Members":      []m{{"UserID": "user_1", "Name": "Ada Lovelace", "Email": "ada@example.com", "Me": true, "Manageable": false, "Role": "org:admin", "RoleName": "Admin"}, {"UserID": "user_2", "Name": "", "Email": "bob@example.com", "Me": false, "Manageable": true, "Role": "org:member", "RoleName": "Member"}},
			"MembersTotal": 2, "PrevPage": "", "NextPage": "/organizations/acme?page=2",
			"Invitations":     []m{{"ID": "orginv_1", "Email": "carol@example.com", "RoleName": "Member", "Expires": "8 Mar 2026 12:00 UTC", "Revocable": true}},
			"AssignableRoles": roles, "EnrollmentModes": modes,
			"Domains": []m{
				{"ID": "orgdmn_1", "Name": "acme.com", "Verified": false, "AffiliationEmail": "it@acme.com", "CodePending": true, "EnrollmentMode": "manual_invitation", "EnrollmentLabel": "org.enrollment.manual"},
				{"ID": "orgdmn_2", "Name": "acme.org", "Verified": true, "AffiliationEmail": "", "CodePending": false, "EnrollmentMode": "automatic_invitation", "EnrollmentLabel": "org.enrollment.automatic_invitation"},
			},
		}, extra)
	}
	security := func(extra m) m {
		return with(m{
			"Email": "ada@example.com", "Action": "/account/security", "Notice": "", "Error": "",
			"Factors":         m{"TOTP": true, "RecoveryCodesLeft": 1},
			"PasskeysEnabled": true, "PasskeyOptionsURL": "/account/security/passkeys/options",
			"PasskeyList": []m{
				{"ID": "pk_1", "Name": "Laptop", "Synced": true, "CreatedAt": day, "LastUsedAt": day},
				{"ID": "pk_2", "Name": "Key", "Synced": false, "CreatedAt": day, "LastUsedAt": time.Time{}},
			},
			"UpstreamEnabled": true,
			"Identities":      []m{{"ID": "ident_1", "ProviderName": "Google", "Email": "ada@gmail.com", "Subject": "123"}},
			"Connectable":     []m{{"Slug": "github", "Name": "GitHub"}},
		}, extra)
	}
	signIn := with(flow, m{
		"Action": "/sign-in", "Identifier": "", "Error": "", "Notice": "", "ForgotPasswordURL": "/forgot-password?flow=flow_1",
		"MagicLinkURL": "/magic-link?flow=flow_1", "Passkeys": true, "PasskeyAction": "/sign-in/passkey", "PasskeyOptionsURL": "/sign-in/passkey/options",
		"Providers": []m{{"Action": "/sign-in/idp", "Slug": "google", "Name": "Google"}}, "SignUpURL": "/sign-up?flow=flow_1",
	})
	return []pageCase{
		{"sign-in", "empty", signIn},
		{"sign-in", "error", with(signIn, m{"Identifier": "ada@example.com", "Error": "sign_in.error.incorrect"})},
		{"sign-in", "notice, password only", with(flow, m{"Action": "/sign-in", "Identifier": "", "Error": "", "Notice": "sign_in.notice.password_changed"})},
		{"sign-up", "empty", with(flow, m{"FirstName": "", "LastName": "", "Email": "", "Error": "", "ErrorField": ""})},
		{"sign-up", "password error", with(flow, m{"FirstName": "Ada", "LastName": "", "Email": "ada@example.com", "Error": "Password is too common.", "ErrorField": "password"})},
		{"sign-up", "email error", with(flow, m{"FirstName": "", "LastName": "", "Email": "ada@", "Error": "Email is invalid.", "ErrorField": "email_address"})},
		{"consent", "scopes", m{"ClientName": "Acme CRM", "UserEmail": "ada@example.com", "Scopes": []string{"scope.openid", "scope.email", "custom:read"}, "Action": "/consent", "Flow": "flow_1"}},
		{"choose-organization", "members", m{
			"Email": "ada@example.com", "Error": "", "Action": "/choose-organization", "Flow": "flow_1", "AllowPersonal": true,
			"Organizations": []m{{"ID": "org_1", "Name": "Acme", "Role": "Admin"}},
			"Invitations":   []m{{"ID": "orginv_1", "Name": "Beta", "Role": "Member"}},
		}},
		{"choose-organization", "none, error", m{"Email": "ada@example.com", "Error": "Name is required.", "Action": "/choose-organization", "Flow": "flow_1", "AllowPersonal": true}},
		{"error", "key", map[string]string{"Heading": "error.something_wrong", "Message": "error.try_again", "Code": "server_error"}},
		{"error", "hint", map[string]string{"Heading": "error.cannot_complete", "Message": "The application sent an invalid request: redirect_uri is missing.", "Code": ""}},
		{"forgot-password", "form", with(flow, m{"Email": "", "Error": "common.enter_email"})},
		{"forgot-password", "sent", with(flow, m{"Sent": true, "Email": "ada@example.com"})},
		{"reset-password", "form", with(flow, m{"Action": "/reset-password", "Token": "tok", "Email": "ada@example.com", "Error": "Password is too short."})},
		{"reset-password", "invalid", with(flow, m{"Invalid": true, "ForgotPasswordURL": "/forgot-password"})},
		{"magic-link", "form", with(flow, m{"Email": "", "Error": ""})},
		{"magic-link", "sent", with(flow, m{"Sent": true, "Email": "ada@example.com"})},
		{"magic-link-verify", "continue", with(flow, m{"Action": "/magic-link/verify", "Token": "tok", "Error": ""})},
		{"magic-link-verify", "other browser", with(flow, m{"OtherBrowser": true, "MagicLinkURL": "/magic-link"})},
		{"magic-link-verify", "invalid", with(flow, m{"Invalid": true, "MagicLinkURL": "/magic-link"})},
		{"second-factor", "form", with(flow, m{"Action": "/sign-in/second-factor", "Attempt": "att_1", "Error": "passkey.error.expired"})},
		{"second-factor", "expired", with(flow, m{"Expired": true, "Error": ""})},
		{"verify-email", "code", with(flow, m{"Action": "/verify-email", "Verification": "ver_1", "Email": "ada@example.com", "SignUp": true, "Error": "verify_email.error.expired", "Notice": "verify_email.notice.resent"})},
		{"verify-email", "gone", with(flow, m{"Gone": true, "SignUpURL": "/sign-up"})},
		{"verify-email", "verified", with(flow, m{"Verified": true, "Email": "ada@example.com", "ContinueURL": "/"})},
		{"verify-email", "send", with(flow, m{"Send": true, "Email": "ada@example.com", "Action": "/verify-email"})},
		{"security", "factors", security(m{"Notice": "security.notice.passkey_added"})},
		{"security", "enroll", security(m{"Enroll": true, "QRCode": template.URL("data:image/png;base64,iVBORw0KGgo="), "Secret": "JBSWY3DPEHPK3PXP", "OTPAuth": template.URL("otpauth://totp/x"), "Error": "security.error.totp_incorrect"})},
		{"security", "codes", security(m{"Codes": []string{"aaaa-bbbb", "cccc-dddd"}})},
		{"security", "nothing", security(m{"Factors": m{"TOTP": false, "RecoveryCodesLeft": 0}, "PasskeyList": nil, "Identities": nil})},
		{"device", "enter", m{"Step": "enter", "Action": "/device", "UserCode": "", "Error": ""}},
		{"device", "enter, error", m{"Step": "enter", "Action": "/device", "UserCode": "WDJB-MJHT", "Error": "device.error.invalid_code"}},
		{"device", "enter, throttled", m{"Step": "enter", "Action": "/device?ui_locales=de", "UserCode": "WDJB-MJHT", "Error": PluralMsg("common.throttled", 2)}},
		{"device", "confirm", m{"Step": "confirm", "Action": "/device", "UserCode": "WDJB-MJHT", "ClientName": "TV app", "Email": "ada@example.com", "Flow": "flow_1", "Scopes": []string{"scope.openid", "scope.profile"}}},
		{"device", "approved", m{"Step": "approved", "Action": "/device", "ClientName": "TV app"}},
		{"device", "denied", m{"Step": "denied", "Action": "/device"}},
		{"device", "expired", m{"Step": "expired", "Action": "/device"}},
		{"home", "signed in", m{"Email": "ada@example.com"}},
		{"home", "signed out", m{"Email": ""}},
		{"logout-confirm", "client", m{"ClientName": "Acme CRM", "Action": "/oauth2/logout", "Hidden": map[string]string{"state": "s"}}},
		{"logout-confirm", "no client", m{"ClientName": "", "Action": "/oauth2/logout", "Hidden": map[string]string{}}},
		{"signed-out", "plain", nil},
		{"signed-out", "front-channel frames", m{"Frames": []string{"https://app.example.com/fcl?sid=1", "https://b.example.com/fcl"}, "Continue": template.URL("https://app.example.com/bye?state=s")}},
		{"signed-out", "no frames", m{"Frames": []string(nil), "Continue": template.URL("")}},
		{"account-profile", "profile", m{"Nav": nav, "User": user, "Notice": "account.notice.profile_saved", "Error": "", "Form": profileForm, "FieldErrors": noErrors, "MinPasswordLength": 8}},
		{"account-profile", "field errors", m{
			"Nav": nav, "User": with(user, m{"FullName": "", "ImageURL": "", "EmailVerified": false, "HasPassword": false}), "Notice": "", "Error": "org.error.last_owner",
			"Form": profileForm, "MinPasswordLength": 8, "LastOwnerOf": []m{{"Path": "/organizations/acme", "Name": "Acme"}},
			"FieldErrors": map[string]string{"first_name": "First name is too long.", "username": "account.profile.error.username_taken", "image_url": "Use https.", "new_password": "account.password.error.new_missing", "confirm_password": "account.password.error.mismatch", "confirm_email": "Type your address.", "last_name": "Too long."},
		}},
		{"account-sessions", "sessions", m{"Nav": nav, "Notice": "", "Error": "", "Others": 1, "Sessions": []m{
			{"ID": "sess_1", "Device": Msg("account.sessions.device", "browser", "Firefox", "system", "Linux"), "IP": "127.0.0.1", "Current": true, "Created": stamp, "LastActive": stamp, "RevokePath": ""},
			{"ID": "sess_2", "Device": "Safari on macOS", "IP": "", "Current": false, "Created": stamp, "LastActive": stamp, "RevokePath": "/account/sessions/sess_2/revoke"},
		}}},
		{"account-applications", "list", m{"Nav": nav, "Notice": "account.notice.access_removed", "Error": "", "Applications": []m{
			{"ClientID": "client_1", "Name": "Acme CRM", "ClientURI": "https://crm.example.com", "Granted": stamp, "Access": []string{"scope.email", "scope.organization"}},
		}}},
		{"account-applications", "unavailable", m{"Nav": nav, "Notice": "", "Error": "", "Unavailable": true}},
		{"account-applications", "none", m{"Nav": nav, "Notice": "", "Error": ""}},
		{"account-deleted", "deleted", map[string]string{"Email": "ada@example.com"}},
		{"org-list", "full", m{
			"Email": "ada@example.com", "Notice": "org.notice.created", "Error": "", "RequireOrganization": false, "Name": "", "Slug": "",
			"Organizations": []m{{"ImageURL": "https://img.example.com/a.png", "Path": "/organizations/acme", "Name": "Acme", "Slug": "acme", "Role": "Admin", "Active": true}},
			"Invitations":   []m{{"ID": "orginv_1", "OrgName": "Beta", "Role": "Member"}},
			"Suggestions":   []string{"Gamma"},
		}},
		{"org-list", "empty", m{"Email": "ada@example.com", "Notice": "", "Error": "org.error.slug_taken", "RequireOrganization": true, "Name": "Acme", "Slug": "acme"}},
		{"org-profile", "admin", orgProfile(canAll, m{"Notice": "org.notice.invited"})},
		{"org-profile", "member", orgProfile(m{}, m{"Error": "org.error.forbidden", "Active": false})},
		{"org-profile", "reader", orgProfile(m{"ReadMembers": true, "ReadDomains": true}, nil)},
		{"org-switch", "members", m{
			"Email": "ada@example.com", "Error": "", "ReturnTo": "/organizations", "AllowPersonal": true, "PersonalActive": false,
			"Organizations": []m{{"ID": "org_1", "Name": "Acme", "Role": "Admin", "Active": true}, {"ID": "org_2", "Name": "Beta", "Role": "Member", "Active": false}},
			"Invitations":   []m{{"ID": "orginv_1", "OrgName": "Gamma", "Role": "Member"}},
		}},
		{"org-switch", "none", m{"Email": "ada@example.com", "Error": "org_switch.error.not_member", "ReturnTo": "", "AllowPersonal": true, "PersonalActive": true}},
		{"org-accept", "sign up", m{"Mode": "signup", "Token": "tok", "OrgName": "Acme", "RoleName": "Member", "InvitedEmail": "bob@example.com", "Email": "", "FirstName": "", "LastName": "", "Error": "org_accept.error.password_missing"}},
		{"org-accept", "confirm", m{"Mode": "confirm", "Token": "tok", "OrgName": "Acme", "RoleName": "Member", "InvitedEmail": "bob@example.com", "Email": "bob@example.com"}},
		{"org-accept", "mismatch", m{"Mode": "mismatch", "Token": "tok", "OrgName": "Acme", "RoleName": "Member", "InvitedEmail": "bob@example.com", "Email": "ada@example.com"}},
	}
}
