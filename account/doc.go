// Package account serves the hosted organization pages: the list of a
// user's organizations with a create form (GET/POST /organizations), an
// organization's profile with its members, invitations and verified
// domains (/organizations/{org}, where {org} is a slug or an id), the
// organization switcher that sets the browser session's active
// organization (/organizations/switch), and the page an invitation link
// opens (/invitations/accept?token=…) — Clerk's OrganizationList,
// OrganizationProfile and OrganizationSwitcher as server-rendered forms
// that work without JavaScript.
//
// It also serves the signed-in user's own pages (Clerk's UserProfile,
// me*.go): the profile with names, username and image, the password change
// and the account deletion (/account), the browser sessions with
// revocation (/account/sessions) and the connected applications whose
// access the user can take back (/account/applications). /account/security
// (second factors, passkeys) belongs to the sign-in side and is only
// linked.
//
// Boundaries:
//
//   - Every decision about an organization is tenancy's: each page and form
//     calls a tenancy method with tenancy.UserActor, which checks the
//     permission with rbac.Grants.Has and answers storage.ErrNotFound to
//     someone who is not a member. The pages compute the user's grants once
//     (tenancy.Service.Claims) only to decide which controls to show; they
//     never authorize anything themselves. A page of an organization the
//     user does not belong to is 404, exactly as one that does not exist.
//   - The browser session is oidc's: the Sessions interface (satisfied by
//     *oidc.Provider) reads the signed-in user and signs in an account
//     created through an invitation link. Signed-out visitors are sent to
//     oidc's sign-in page, which returns them here.
//   - Users are identity's; this package only creates the account of an
//     invitee who has none (email marked verified: following the emailed
//     link proved the address), in one transaction with the acceptance.
//   - A user's own data is identity's (UpdateUser, SetPassword, sessions,
//     DeleteUser) and their consents oidc's (the Applications interface,
//     satisfied by *oidc.Provider). The current password is checked as a
//     sign-in (identity.Authenticate), so wrong guesses are throttled like
//     the sign-in page's. Deleting an account first leaves every
//     organization through tenancy in the same transaction, so tenancy's
//     last-owner rule (under the organization's lock) can refuse it.
//   - Pages render through package ui (templates org-*.html and
//     account-*.html); every state-changing form is a POST guarded against
//     cross-site requests by net/http's CrossOriginProtection, and nothing
//     changes on GET.
package account
