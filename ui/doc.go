// Package ui renders orgid's hosted pages: server-side HTML from embedded
// templates with one shared layout and stylesheet, usable without
// JavaScript. It knows nothing about flows or users; the packages that own
// a page (oidc for sign-in and consent, tenancy for organizations) decide
// what to show and call Render.
//
// Every page is sent with a strict Content-Security-Policy (no inline
// script, no framing), Referrer-Policy no-referrer and no caching, because
// sign-in and consent pages must not be framed (clickjacking) or leak the
// authorization request through the Referer header.
package ui
