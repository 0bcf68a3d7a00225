package account_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/tenancy"
)

func TestDeleteAccount(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		ada := srv.CreateUser(t, "ada@acme.test")
		grace := srv.CreateUser(t, "grace@acme.test")
		acme := createOrg(t, srv, ada.ID, "Acme")     // Ada is the only owner
		beta := createOrg(t, srv, ada.ID, "Beta")     // Grace owns it too
		gamma := createOrg(t, srv, grace.ID, "Gamma") // Ada is a member
		addMember(t, srv, beta, grace.ID, rbac.RoleOwner)
		addMember(t, srv, gamma, ada.ID, rbac.RoleMember)
		app := thirdPartyApp(t, srv, "Notes")
		elsewhere := signIn(t, srv, ada.Email)
		tok, _ := connect(t, srv, elsewhere, app)
		b := signIn(t, srv, ada.Email)

		stillThere := func(t *testing.T, what string) {
			t.Helper()
			if _, err := srv.Identity.GetUser(ctx, ada.ID); err != nil {
				t.Fatalf("%s: the user is gone: %v", what, err)
			}
			for _, org := range []*tenancy.Organization{acme, beta, gamma} {
				if _, err := srv.Tenancy.MembershipOf(ctx, ada.ID, org.ID); err != nil {
					t.Errorf("%s: Ada is no longer a member of %s: %v", what, org.Name, err)
				}
			}
			wantSignedIn(t, srv, what+": the other browser", elsewhere)
		}

		for _, tc := range []struct {
			name, typed string
		}{
			{"nothing typed", ""},
			{"another address", grace.Email},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := b.PostForm(srv.Issuer+"/account/delete", url.Values{"confirm_email": {tc.typed}})
				wantStatus(t, tc.name, r, http.StatusBadRequest)
				if msg := fieldError(t, r.Body, "confirm_email"); !strings.Contains(msg, "type your email address, "+ada.Email) {
					t.Errorf("error beside the confirmation = %q", msg)
				}
				stillThere(t, tc.name)
			})
		}

		// The last owner of Acme cannot go; the page names Acme only.
		r := b.PostForm(srv.Issuer+"/account/delete", url.Values{"confirm_email": {" ADA@acme.test "}})
		wantStatus(t, "delete as the last owner", r, http.StatusConflict)
		txt := text(t, r.Body)
		if !strings.Contains(txt, "you are the last owner of Acme.") || strings.Contains(txt, "Beta") || strings.Contains(txt, "Gamma") {
			t.Errorf("refusal does not name exactly Acme:\n%s", txt)
		}
		if !strings.Contains(r.Body, `href="/organizations/acme"`) {
			t.Error("refusal does not link to Acme")
		}
		stillThere(t, "refused deletion")
		refreshToken := wantRefresh(t, "Notes after the refused deletion", app, tok.RefreshToken, "")

		// Once Grace owns Acme too, the account goes, with its memberships
		// (the organizations stay), sessions and tokens.
		addMember(t, srv, acme, grace.ID, rbac.RoleOwner)
		r = b.PostForm(srv.Issuer+"/account/delete", url.Values{"confirm_email": {ada.Email}})
		wantStatus(t, "delete", r, http.StatusOK)
		if txt := text(t, r.Body); !strings.Contains(txt, "Account deleted") {
			t.Errorf("page after deletion:\n%s", txt)
		}
		if _, err := srv.Identity.GetUser(ctx, ada.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("user after deletion: %v, want not found", err)
		}
		for _, org := range []*tenancy.Organization{acme, beta, gamma} {
			if _, err := srv.Tenancy.MembershipOf(ctx, grace.ID, org.ID); err != nil {
				t.Errorf("Grace lost %s with Ada's account: %v", org.Name, err)
			}
		}
		wantSignedOut(t, srv, "this browser", b)
		wantSignedOut(t, srv, "the other browser", elsewhere)
		wantRefresh(t, "Notes after the deletion", app, refreshToken, "invalid_grant")
	})
}
