// Package ui renders orgid's hosted pages: server-side HTML from embedded
// templates with one shared layout and stylesheet, usable without
// JavaScript. It knows nothing about flows or users; the packages that own
// a page (oidc for sign-in and consent, account for the organization and
// account pages) decide what to show and call Render.
//
// Every page is sent with a strict Content-Security-Policy (no inline
// script, no framing), Referrer-Policy no-referrer and no caching, because
// sign-in and consent pages must not be framed (clickjacking) or leak the
// authorization request through the Referer header.
//
// Languages. Every word on a page comes from a message catalog
// (locales/<lang>.json: English, the source, then German, French and
// Spanish), one key per message. Templates translate with {{t "key"}},
// {{th "key" …}} (arguments may be emphasised with strong) and
// {{tn "key" n}} (plural forms key.one and key.other); placeholders are
// named, {email}. A key a catalog lacks falls back to English. Go code
// passes keys too — the title of Render, and messages such as an error in
// a page's data, as a key or a Message (Msg, PluralMsg) when it has
// placeholders; an argument that is itself a Message is translated too —
// and may pass text that is no key (a name, a protocol error's hint),
// which is shown as it is. Language picks the language: the authorization
// request's ui_locales, else Accept-Language, else English; the page's
// <html lang> and Content-Language say which. Text translates for what is
// not a page (the mail a page sends, in the page's language), and
// FormatDate, FormatDateTime and the templates' {{date t}} write moments
// the way the language does, in UTC.
//
// Theming. A Brand (name, logo, accent and background colours) is
// validated once in New; /theme.css carries its colours as CSS custom
// properties, with the text on the accent chosen by WCAG relative
// luminance and links darkened or lightened until they reach AA contrast
// on the card. Colours are #rgb/#rrggbb only and the logo an https or
// data:image URL, so no brand value can inject CSS or loosen the policy.
package ui
