package oidc

import (
	"context"
	"fmt"
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

func (p *Provider) verificationCodeMail(to, code string) mail.Message {
	name := p.brandName()
	return mail.Message{
		To:      to,
		Subject: fmt.Sprintf("%s is your %s verification code", code, name),
		Text: fmt.Sprintf("Enter this code to verify your email address:\n\n%s\n\n"+
			"It expires in %d minutes. If you did not ask for it, ignore this email: nothing changes without the code.\n",
			code, int(identity.CodeLifetime.Minutes())),
	}
}

// accountExistsMail answers a sign-up for an address that already has an
// account, in place of a code: the owner learns what happened, the person
// who signed up learns nothing from the page.
func (p *Provider) accountExistsMail(to string) mail.Message {
	name := p.brandName()
	return mail.Message{
		To:      to,
		Subject: "You already have a " + name + " account",
		Text: fmt.Sprintf("Someone tried to sign up for %s with this email address, which already has an account.\n\n"+
			"If it was you, sign in: %s%s\nForgot your password? Reset it: %s%s\n\n"+
			"If it was not you, ignore this email: your account has not changed.\n",
			name, p.cfg.Issuer, PathSignIn, p.cfg.Issuer, PathForgotPassword),
	}
}

func (p *Provider) passwordResetMail(to, link string, lifetime time.Duration) mail.Message {
	name := p.brandName()
	return mail.Message{
		To:      to,
		Subject: "Reset your " + name + " password",
		Text: fmt.Sprintf("Open this link to choose a new password:\n\n%s\n\n"+
			"It works once and expires in %d minutes. Choosing a new password signs you out everywhere.\n"+
			"If you did not ask to reset your password, ignore this email: your password has not changed.\n",
			link, int(lifetime.Minutes())),
	}
}

func (p *Provider) magicLinkMail(to, link string, lifetime time.Duration) mail.Message {
	name := p.brandName()
	return mail.Message{
		To:      to,
		Subject: "Your " + name + " sign-in link",
		Text: fmt.Sprintf("Open this link to sign in:\n\n%s\n\n"+
			"It works once, only in the browser where you asked for it, and expires in %d minutes.\n"+
			"If you did not ask for it, ignore this email.\n",
			link, int(lifetime.Minutes())),
	}
}

// securityNoticeMail tells a user that what protects their account
// changed (ASVS 6.3.7), so that a change they did not make does not go
// unnoticed.
func (p *Provider) securityNoticeMail(to, change string) mail.Message {
	name := p.brandName()
	return mail.Message{
		To:      to,
		Subject: "Security change on your " + name + " account",
		Text: fmt.Sprintf("%s\n\nIf you made this change, there is nothing to do. If you did not, reset your password now: %s%s\n",
			change, p.cfg.Issuer, PathForgotPassword),
	}
}
