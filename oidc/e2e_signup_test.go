package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/tenancy"
)

// A new user signs up from the sign-in page of an authorization flow,
// enters the mailed code, and lands back at the client, signed in, with a
// verified address in the ID token; verifying enrolls them in the
// organization of their verified domain.
func TestSignUpInsideAnAuthorizationFlow(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		org := verifiedDomainOrg(t, srv, "acme.example")
		r := newRP(t, srv, false, true)
		b := servertest.NewBrowser(t)

		signInPage, verifier := r.startAuthorization(b)
		wantTitle(t, "authorization", signInPage, "Sign in")
		signUpPage := b.Get(srv.Issuer + pageLink(t, signInPage, oidc.PathSignUp))
		wantTitle(t, "sign-up link", signUpPage, "Sign up")

		// A refused password keeps what was typed and says why.
		refused := submit(t, b, srv, signUpPage, "email", map[string]string{
			"email": "grace@acme.example", "first_name": "Grace", "password": "password123"})
		if refused.Status != http.StatusBadRequest || !strings.Contains(refused.Body, "commonly used") ||
			!strings.Contains(refused.Body, `value="grace@acme.example"`) {
			t.Fatalf("common password: %v", refused)
		}

		codePage := submit(t, b, srv, refused, "email", map[string]string{
			"email": "grace@acme.example", "first_name": "Grace", "last_name": "Hopper", "password": servertest.Password})
		wantTitle(t, "after sign-up", codePage, "Verify your email")
		if _, err := srv.Identity.UserByEmail(ctx, "grace@acme.example"); err == nil {
			t.Fatal("the account exists before the code was entered")
		}

		wrong := submit(t, b, srv, codePage, "code", map[string]string{"code": "000000"})
		if mailedCode(t, srv, "grace@acme.example") != "000000" &&
			(wrong.Status != http.StatusBadRequest || !strings.Contains(wrong.Body, "4 attempts left")) {
			t.Fatalf("wrong code: %v", wrong)
		}
		done := submit(t, b, srv, codePage, "code", map[string]string{"code": mailedCode(t, srv, "grace@acme.example")})
		claims := r.finish(done, verifier)

		user, err := srv.Identity.UserByEmail(ctx, "grace@acme.example")
		if err != nil {
			t.Fatalf("no account after the code: %v", err)
		}
		want := map[string]any{"sub": user.ID, "email": "grace@acme.example", "email_verified": true,
			"amr": []any{"pwd"}, "acr": "1", "given_name": "Grace"}
		got := map[string]any{}
		for k := range want {
			got[k] = claims[k]
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ID token claims (-want +got):\n%s", diff)
		}
		invs, err := srv.Tenancy.PendingInvitationsFor(ctx, "grace@acme.example")
		if err != nil || len(invs) != 1 || invs[0].OrganizationID != org.ID {
			t.Errorf("pending invitations of the new user = %v, %v; want one to %s (verified domain)", invs, err, org.ID)
		}
	})
}

// A sign-up for an address that has an account answers exactly like one
// for a new address; the owner gets a notice, never a code.
func TestSignUpDoesNotRevealAccounts(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		srv.CreateUser(t, "ada@example.com")

		answer := func(email string) *servertest.Response {
			b := servertest.NewBrowser(t)
			return b.PostForm(srv.Issuer+oidc.PathSignUp, url.Values{"email": {email}, "password": {servertest.Password}})
		}
		taken, free := answer("ada@example.com"), answer("newcomer@example.com")
		for name, resp := range map[string]*servertest.Response{"taken": taken, "free": free} {
			if resp.Status != http.StatusSeeOther || resp.Location == nil || resp.Location.Path != oidc.PathVerifyEmail {
				t.Fatalf("%s address: %v, want 303 to %s", name, resp, oidc.PathVerifyEmail)
			}
		}
		if a, b := len(taken.Location.Query().Get("verification")), len(free.Location.Query().Get("verification")); a != b {
			t.Errorf("verification handles differ in length: %d and %d", a, b)
		}
		notice := lastMail(t, srv, "ada@example.com")
		if sixDigits.MatchString(notice.Text) || !strings.Contains(notice.Text, "already has an account") {
			t.Errorf("mail to the owner = %q, want a notice without a code", notice.Text)
		}
		if code := mailedCode(t, srv, "newcomer@example.com"); code == "" {
			t.Error("no code for the new address")
		}
	})
}

// An unverified user signs in (tokens say email_verified false), verifies
// on /verify-email, and the next token says true.
func TestVerifyEmailAfterSignIn(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		user := srv.CreateUser(t, "kim@example.com", func(nu *identity.NewUser) { nu.EmailVerified = false })
		r := newRP(t, srv, false, true)
		b := servertest.NewBrowser(t)

		page, verifier := r.startAuthorization(b)
		claims := r.finish(b.SignIn(page, srv.Issuer, user.Email, servertest.Password), verifier)
		if claims["email_verified"] != false {
			t.Fatalf("email_verified = %v before verifying, want false", claims["email_verified"])
		}

		start := b.Get(srv.Issuer + oidc.PathVerifyEmail)
		wantTitle(t, "verify page", start, "Verify your email")
		codePage := submit(t, b, srv, start, "action", map[string]string{"action": "send"})
		wantTitle(t, "after send", codePage, "Verify your email")
		verified := submit(t, b, srv, codePage, "code", map[string]string{"code": mailedCode(t, srv, user.Email)})
		if !strings.Contains(verified.Body, "is verified") {
			t.Fatalf("after the code: %v", verified)
		}

		page, verifier = r.startAuthorization(b)
		claims = r.finish(page, verifier)
		if claims["email_verified"] != true {
			t.Errorf("email_verified = %v after verifying, want true", claims["email_verified"])
		}

		// Signed out, the page sends the browser to sign in first.
		out := servertest.NewBrowser(t).Get(srv.Issuer + oidc.PathVerifyEmail)
		if out.Status != http.StatusSeeOther || out.Location.Path != oidc.PathSignIn {
			t.Errorf("signed out: %v, want a redirect to sign in", out)
		}
	})
}

func TestSignUpCanBeDisabled(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL, servertest.WithConfig(func(c *server.Config) { c.DisableSignUp = true }))
		b := servertest.NewBrowser(t)
		if resp := b.Get(srv.Issuer + oidc.PathSignUp); resp.Status != http.StatusNotFound {
			t.Errorf("GET %s = %v, want 404", oidc.PathSignUp, resp)
		}
		if resp := b.PostForm(srv.Issuer+oidc.PathSignUp, url.Values{"email": {"x@example.com"}, "password": {servertest.Password}}); resp.Status != http.StatusNotFound {
			t.Errorf("POST %s = %v, want 404", oidc.PathSignUp, resp)
		}
		if page := b.Get(srv.Issuer + oidc.PathSignIn); strings.Contains(page.Body, oidc.PathSignUp) {
			t.Errorf("the sign-in page links to sign-up although it is disabled")
		}
	})
}

// The sign-up form refuses a cross-site post (login CSRF).
func TestSignUpRefusesCrossSitePosts(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		form := url.Values{"email": {"mallory@example.com"}, "password": {servertest.Password}}
		req, _ := http.NewRequest(http.MethodPost, srv.Issuer+oidc.PathSignUp, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site sign-up post = %d, want 403", resp.StatusCode)
		}
		if msgs := mailTo(t, srv, "mallory@example.com"); len(msgs) != 0 {
			t.Errorf("%d mails sent for a refused post", len(msgs))
		}
	})
}

// verifiedDomainOrg creates an organization with a verified domain that
// invites matching users automatically.
func verifiedDomainOrg(t *testing.T, srv *servertest.Server, domain string) *tenancy.Organization {
	t.Helper()
	ctx := context.Background()
	owner := srv.CreateUser(t, "owner@"+domain)
	org, err := srv.Tenancy.CreateOrganization(ctx, tenancy.Operator(), tenancy.NewOrganization{Name: "Org of " + domain, CreatedBy: owner.ID})
	if err != nil {
		t.Fatal(err)
	}
	d, err := srv.Tenancy.AddDomain(ctx, tenancy.Operator(), org.ID, tenancy.NewDomain{Name: domain, EnrollmentMode: tenancy.EnrollAutomaticInvitation})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Tenancy.PrepareDomainVerification(ctx, tenancy.Operator(), org.ID, d.ID, "admin@"+domain); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Tenancy.AttemptDomainVerification(ctx, tenancy.Operator(), org.ID, d.ID, mailedCode(t, srv, "admin@"+domain)); err != nil {
		t.Fatalf("verify domain: %v", err)
	}
	return org
}
