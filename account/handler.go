package account

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/tenancy"
	"github.com/orgid/orgid/ui"
)

// Paths of the pages. A profile is PathOrganizations + "/" + slug (or id).
const (
	PathOrganizations    = "/organizations"
	PathSwitch           = "/organizations/switch"
	PathJoin             = "/organizations/join"
	PathAcceptInvitation = "/invitations/accept"
)

// Config adjusts the pages to the server's configuration.
type Config struct {
	// RequireOrganization disables personal accounts (--require-organization):
	// the switcher offers no "personal account".
	RequireOrganization bool
}

// Sessions is the browser session, as package oidc keeps it; *oidc.Provider
// satisfies it.
type Sessions interface {
	// CurrentUser returns the browser's session and user, or nils when it
	// is signed out.
	CurrentUser(r *http.Request) (*identity.Session, *identity.User, error)
	// StartSession signs user in to this browser and returns the session id.
	StartSession(ctx context.Context, w http.ResponseWriter, r *http.Request, user *identity.User, amr []string) (string, error)
}

var _ Sessions = (*oidc.Provider)(nil)

// Deps are the collaborators of the pages. All but Logger are required.
type Deps struct {
	// DB runs the creation of an invitee's account and its acceptance in
	// one transaction.
	DB       *bun.DB
	Sessions Sessions
	Identity *identity.Service
	Tenancy  *tenancy.Service
	RBAC     *rbac.Service
	Pages    *ui.Renderer
	Logger   *slog.Logger
}

// Handler serves the organization pages.
type Handler struct {
	cfg      Config
	db       *bun.DB
	sessions Sessions
	identity *identity.Service
	tenancy  *tenancy.Service
	rbac     *rbac.Service
	pages    *ui.Renderer
	log      *slog.Logger
	csrf     *http.CrossOriginProtection
}

// New returns the pages. It panics when a required dependency is missing:
// a wiring mistake no request could recover from.
func New(cfg Config, d Deps) *Handler {
	if d.DB == nil || d.Sessions == nil || d.Identity == nil || d.Tenancy == nil || d.RBAC == nil || d.Pages == nil {
		panic("account: New needs DB, Sessions, Identity, Tenancy, RBAC and Pages")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		cfg: cfg, db: d.DB, sessions: d.Sessions, identity: d.Identity, tenancy: d.Tenancy,
		rbac: d.RBAC, pages: d.Pages, log: d.Logger,
	}
	// Forms are refused when the browser says they come from another site
	// (Sec-Fetch-Site, else Origin); GET never changes anything.
	h.csrf = http.NewCrossOriginProtection()
	h.csrf.SetDenyHandler(http.HandlerFunc(h.crossOrigin))
	return h
}

// Routes mounts the pages on r (the user's own pages under /account too,
// see me.go); each route is named for metrics. The fixed
// paths come before /organizations/{org}, so a slug equal to one of them
// ("switch", "join") is reached through the organization's id instead.
func (h *Handler) Routes(r *mux.Router) {
	get, post := http.MethodGet, http.MethodPost
	handle := func(path, name string, fn http.HandlerFunc, methods ...string) {
		r.Handle(path, h.csrf.Handler(fn)).Methods(methods...).Name(name)
	}
	handle(PathOrganizations, "organizations", h.list, get)
	handle(PathOrganizations, "organizations_create", h.create, post)
	handle(PathSwitch, "organizations_switch", h.switcher, get, post)
	handle(PathJoin, "organizations_join", h.join, post)
	handle(PathAcceptInvitation, "invitations_accept", h.accept, get, post)
	handle(PathOrganizations+"/{org}", "organization_profile", h.profile, get)
	for _, a := range h.orgActions() {
		handle(PathOrganizations+"/{org}/"+a.path, "organization_"+a.name, h.orgAction(a.run), post)
	}
	newUserPages(h).routes(handle)
}

// signedIn returns the browser's session and user. When nobody is signed
// in it sends the browser to the sign-in page, which comes back to
// returnTo, and ok is false.
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request, returnTo string) (*identity.Session, *identity.User, bool) {
	sess, user, err := h.sessions.CurrentUser(r)
	if err != nil {
		h.fail(w, r, err)
		return nil, nil, false
	}
	if sess == nil || user == nil {
		http.Redirect(w, r, oidc.SignInURL(returnTo), http.StatusSeeOther)
		return nil, nil, false
	}
	return sess, user, true
}

// render writes a page in the request's language (ui_locales, else
// Accept-Language). title is a message key, or a name shown as it is, with
// titleArgs for its placeholders.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any, titleArgs ...any) {
	h.pages.Render(w, status, page, title, ui.RequestLanguage(r), data, titleArgs...)
}

// fail answers with an error page: the readable message of a known error,
// a generic one (and a log line) for anything else.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	p, ok := explain(err)
	if !ok {
		h.log.ErrorContext(r.Context(), "organization page", "path", r.URL.Path, "error", err)
		p = problem{http.StatusInternalServerError, "error.something_wrong_try_again"}
	}
	h.errorPage(w, r, p.status, heading(p.status), p.message)
}

// errorPage shows an error; title is a message key, message one too or a
// ui.Message (or text that is no key, shown as it is).
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, title string, message any) {
	h.render(w, r, status, "error", title, map[string]any{"Heading": title, "Message": message})
}

// notFound is the answer for an organization the user cannot see, whether
// it exists or not.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, http.StatusNotFound, "org.not_found", "org.not_found_message")
}

// crossOrigin answers a form posted from another site.
func (h *Handler) crossOrigin(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, http.StatusForbidden, "error.request_refused", "error.cross_site_form")
}

func heading(status int) string {
	switch status {
	case http.StatusNotFound:
		return "error.not_found"
	case http.StatusForbidden:
		return "error.not_allowed"
	case http.StatusGone:
		return "org_accept.no_longer_valid"
	case http.StatusInternalServerError, http.StatusBadGateway:
		return "error.something_wrong"
	}
	return "error.did_not_work"
}
