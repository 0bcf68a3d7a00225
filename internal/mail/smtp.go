package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/smtp"
	"strconv"
	"time"
)

// SMTPConfig names a mail server and the sender.
type SMTPConfig struct {
	Host string
	// Port defaults to 587 (submission with STARTTLS); 465 means TLS from
	// the first byte.
	Port int
	// Username and Password authenticate with AUTH PLAIN when Username is
	// set. net/smtp refuses to send them unencrypted except to loopback.
	Username string
	Password string
	// From is the sender, "no-reply@example.com" or
	// "Example <no-reply@example.com>".
	From string
	// TLSConfig overrides the TLS client settings (tests pin their CA);
	// nil verifies the server against the system roots for Host.
	TLSConfig *tls.Config
	// Timeout bounds one delivery, connection included; default 30s.
	Timeout time.Duration
	// HelloName is sent in EHLO; default "localhost".
	HelloName string
}

// Validate reports every problem with c at once.
func (c SMTPConfig) Validate() error {
	var errs []error
	if c.Host == "" {
		errs = append(errs, errors.New("smtp host must not be empty"))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("smtp port %d out of range", c.Port))
	}
	if _, err := netmail.ParseAddress(c.From); err != nil {
		errs = append(errs, fmt.Errorf("smtp from %q: %v", c.From, err))
	}
	if c.Password != "" && c.Username == "" {
		errs = append(errs, errors.New("smtp password given without a username"))
	}
	return errors.Join(errs...)
}

// SMTP is the production Mailer. It opens one connection per message,
// which suits orgid's low volume and needs no pool to go stale.
type SMTP struct {
	cfg  SMTPConfig
	from *netmail.Address
}

// NewSMTP checks cfg and returns a Mailer that delivers through it.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Port == 0 {
		cfg.Port = 587
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "localhost"
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	from, _ := netmail.ParseAddress(cfg.From)
	return &SMTP{cfg: cfg, from: from}, nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	if s.cfg.TLSConfig != nil {
		c := s.cfg.TLSConfig.Clone()
		if c.ServerName == "" {
			c.ServerName = s.cfg.Host
		}
		return c
	}
	return &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
}

// Send delivers m. The whole exchange is bounded by the configured timeout
// and by ctx.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	to, _ := recipient(m.To)
	body, err := compose(s.from, to, m, time.Now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp: connect %s: %w", addr, err)
	}
	// net/smtp has no contexts: a deadline on the connection bounds every
	// step, and closing it on cancellation unblocks a step in progress.
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline) //nolint:errcheck // a fresh TCP connection accepts deadlines
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	implicitTLS := s.cfg.Port == 465
	if implicitTLS {
		conn = tls.Client(conn, s.tlsConfig())
	}
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: %s: %w", addr, err)
	}
	defer c.Close()
	if err := s.exchange(c, implicitTLS, to.Address, body); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("smtp: %s: %w", addr, ctx.Err())
		}
		return fmt.Errorf("smtp: %s: %w", addr, err)
	}
	return nil
}

func (s *SMTP) exchange(c *smtp.Client, implicitTLS bool, to string, body []byte) error {
	if err := c.Hello(s.cfg.HelloName); err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !implicitTLS {
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if s.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("server does not offer AUTH, but a username is configured")
		}
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("rcpt to: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return c.Quit()
}
