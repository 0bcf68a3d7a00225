package oidc

import (
	"net/http"

	"github.com/gorilla/mux"
)

// signInRoutes mounts the sign-in pages beyond the password form. Every
// form is guarded like the sign-in page: cross-origin posts are refused.
func (p *Provider) signInRoutes(r *mux.Router) {
	page := func(path, name string, h http.HandlerFunc, methods ...string) {
		r.Handle(path, p.csrf.Handler(h)).Methods(methods...).Name(name)
	}
	get, post := http.MethodGet, http.MethodPost
	page(PathSignUp, "sign_up", p.signUpPage, get, post)
	page(PathVerifyEmail, "verify_email", p.verifyEmailPage, get, post)
	page(PathForgotPassword, "forgot_password", p.forgotPasswordPage, get, post)
	page(PathResetPassword, "reset_password", p.resetPasswordPage, get, post)
	page(PathMagicLink, "magic_link", p.magicLinkPage, get, post)
	page(PathMagicLinkVerify, "magic_link_verify", p.magicLinkVerifyPage, get, post)
	page(PathSecondFactor, "second_factor", p.secondFactorPage, get, post)
	page(PathAccountSecurity, "account_security", p.securityPage, get, post)
	page(PathPasskeySignIn, "passkey_sign_in", p.passkeySignIn, post)
	page(PathPasskeySignInOptions, "passkey_sign_in_options", p.passkeySignInOptions, post)
	page(PathPasskeyRegisterOptions, "passkey_register_options", p.passkeyRegisterOptions, post)
	page(PathUpstream, "upstream_sign_in", p.upstreamStart, post)
	// The provider's redirect back is a cross-site navigation (GET), which
	// CrossOriginProtection lets through; the state bound to this browser
	// is what protects it.
	page(PathUpstreamCallback, "upstream_callback", p.upstreamCallback, get)
}
