package oidc

import (
	"context"
	"net/url"
	"time"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/mail"
)

// mailTimeout bounds sending one message in the background.
const mailTimeout = time.Minute

// sendMail sends m in the background, so that a page answers at once and
// in the same time whether or not it had something to send: the time an
// SMTP server takes must not tell anyone whether an address has an
// account. Failures are logged (without the body, which holds a secret).
func (p *Provider) sendMail(ctx context.Context, m mail.Message) {
	if p.mailer == nil {
		return
	}
	p.mailing.Add(1)
	go func() {
		defer p.mailing.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), mailTimeout)
		defer cancel()
		if err := p.mailer.Send(ctx, m); err != nil {
			p.log.WarnContext(ctx, "sign-in mail not sent", "subject", m.Subject, "error", err)
		}
	}()
}

// FlushMail waits until the mail the sign-in pages are sending in the
// background has been handed to the mailer (tests; graceful shutdown).
func (p *Provider) FlushMail() { p.mailing.Wait() }

// brandName names the service in mail: the issuer's host, which is what
// the reader will see in the links too.
func (p *Provider) brandName() string {
	if u, err := url.Parse(p.cfg.Issuer); err == nil && u.Host != "" {
		return u.Host
	}
	return "orgid"
}

// The messages below are written in lang, the language of the page that
// sent them (pageLang or uiLang), so that a German sign-up gets a German
// code; package ui's catalogs hold their text (mail.*).

func (p *Provider) verificationCodeMail(lang, to, code string) mail.Message {
	name := p.brandName()
	return mail.Message{
		To:      to,
		Subject: p.pages.Text(lang, "mail.code.subject", "code", code, "service", name),
		Text:    p.pages.Text(lang, "mail.code.body", "code", code, "minutes", int(identity.CodeLifetime.Minutes())),
	}
}

// accountExistsMail answers a sign-up for an address that already has an
// account, in place of a code: the owner learns what happened, the person
// who signed up learns nothing from the page.
func (p *Provider) accountExistsMail(lang, to string) mail.Message {
	name := p.brandName()
	return mail.Message{
		To:      to,
		Subject: p.pages.Text(lang, "mail.account_exists.subject", "service", name),
		Text: p.pages.Text(lang, "mail.account_exists.body", "service", name,
			"sign_in_url", p.cfg.Issuer+PathSignIn, "reset_url", p.cfg.Issuer+PathForgotPassword),
	}
}

func (p *Provider) passwordResetMail(lang, to, link string, lifetime time.Duration) mail.Message {
	return mail.Message{
		To:      to,
		Subject: p.pages.Text(lang, "mail.password_reset.subject", "service", p.brandName()),
		Text:    p.pages.Text(lang, "mail.password_reset.body", "link", link, "minutes", int(lifetime.Minutes())),
	}
}

func (p *Provider) magicLinkMail(lang, to, link string, lifetime time.Duration) mail.Message {
	return mail.Message{
		To:      to,
		Subject: p.pages.Text(lang, "mail.magic_link.subject", "service", p.brandName()),
		Text:    p.pages.Text(lang, "mail.magic_link.body", "link", link, "minutes", int(lifetime.Minutes())),
	}
}

// securityNoticeMail tells a user that what protects their account
// changed (ASVS 6.3.7), so that a change they did not make does not go
// unnoticed. change says what changed: a message key or a ui.Message.
func (p *Provider) securityNoticeMail(lang, to string, change any) mail.Message {
	return mail.Message{
		To:      to,
		Subject: p.pages.Text(lang, "mail.security.subject", "service", p.brandName()),
		Text:    p.pages.Text(lang, "mail.security.body", "change", p.pages.Text(lang, change), "reset_url", p.cfg.Issuer+PathForgotPassword),
	}
}
