package mail

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSMTP is a minimal mail server on loopback that records what it was
// told. It speaks just enough ESMTP for net/smtp.
type fakeSMTP struct {
	ln        net.Listener
	tls       *tls.Config // offer STARTTLS when set
	auth      bool        // offer AUTH PLAIN
	rejectTo  string      // answer RCPT TO for this address with 550
	silent    bool        // accept and never greet
	mu        sync.Mutex
	usedTLS   bool
	authLine  string
	mailFrom  string
	rcptTo    []string
	data      string
	delivered bool
}

func newFakeSMTP(t *testing.T, f *fakeSMTP) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.ln = ln
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *fakeSMTP) port() int { return f.ln.Addr().(*net.TCPAddr).Port }

func (f *fakeSMTP) serve(c net.Conn) {
	defer c.Close()
	if f.silent {
		io.Copy(io.Discard, c)
		return
	}
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	say := func(s string) { w.WriteString(s + "\r\n"); w.Flush() }
	say("220 fake ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch verb {
		case "EHLO", "HELO":
			ext := []string{"250-fake"}
			if f.tls != nil && !f.usedTLSLocked() {
				ext = append(ext, "250-STARTTLS")
			}
			if f.auth {
				ext = append(ext, "250-AUTH PLAIN")
			}
			ext = append(ext, "250 8BITMIME")
			for _, e := range ext {
				w.WriteString(e + "\r\n")
			}
			w.Flush()
		case "STARTTLS":
			say("220 go ahead")
			tc := tls.Server(c, f.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			f.mu.Lock()
			f.usedTLS = true
			f.mu.Unlock()
			c = tc
			r, w = bufio.NewReader(tc), bufio.NewWriter(tc)
		case "AUTH":
			f.mu.Lock()
			f.authLine = line
			f.mu.Unlock()
			say("235 ok")
		case "MAIL":
			f.mu.Lock()
			f.mailFrom = line
			f.mu.Unlock()
			say("250 ok")
		case "RCPT":
			if f.rejectTo != "" && strings.Contains(line, f.rejectTo) {
				say("550 no such user")
				continue
			}
			f.mu.Lock()
			f.rcptTo = append(f.rcptTo, line)
			f.mu.Unlock()
			say("250 ok")
		case "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			f.mu.Lock()
			f.data, f.delivered = b.String(), true
			f.mu.Unlock()
			say("250 queued")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("502 unknown")
		}
	}
}

func (f *fakeSMTP) usedTLSLocked() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.usedTLS
}

// selfSigned returns a server config for 127.0.0.1 and a client config
// that trusts it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

func TestSMTPDeliversWithSTARTTLSAndAuth(t *testing.T) {
	serverTLS, clientTLS := selfSigned(t)
	srv := newFakeSMTP(t, &fakeSMTP{tls: serverTLS, auth: true})
	m, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: srv.port(), Username: "u", Password: "p",
		From: "Orgid <no-reply@example.com>", TLSConfig: clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	msg := Message{To: "Ada <ada@example.com>", Subject: "Join Ünïcorn Inc", Text: "Hello Ada,\nclick https://id.example.com/invitations/accept?token=abc=def", HTML: "<p>Hello</p>"}
	if err := m.Send(context.Background(), msg); err != nil {
		t.Fatalf("Send: %v", err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if !srv.usedTLS {
		t.Error("the server offered STARTTLS but the client did not use it")
	}
	if want := "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00u\x00p")); srv.authLine != want {
		t.Errorf("auth line = %q, want %q", srv.authLine, want)
	}
	if srv.mailFrom != "MAIL FROM:<no-reply@example.com> BODY=8BITMIME" && srv.mailFrom != "MAIL FROM:<no-reply@example.com>" {
		t.Errorf("MAIL FROM line = %q", srv.mailFrom)
	}
	if len(srv.rcptTo) != 1 || srv.rcptTo[0] != "RCPT TO:<ada@example.com>" {
		t.Errorf("RCPT TO lines = %q", srv.rcptTo)
	}
	parsed, err := netmail.ReadMessage(strings.NewReader(srv.data))
	if err != nil {
		t.Fatalf("delivered message does not parse: %v\n%s", err, srv.data)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
	if subject != msg.Subject {
		t.Errorf("Subject = %q, want %q", subject, msg.Subject)
	}
	if got := parsed.Header.Get("To"); got != `"Ada" <ada@example.com>` {
		t.Errorf("To = %q", got)
	}
	mediaType, params, err := mime.ParseMediaType(parsed.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q, %v", mediaType, err)
	}
	mr := multipart.NewReader(parsed.Body, params["boundary"])
	var bodies []string
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		// multipart.Reader decodes quoted-printable parts itself.
		b, _ := io.ReadAll(p)
		bodies = append(bodies, strings.ReplaceAll(string(b), "\r\n", "\n"))
	}
	if len(bodies) != 2 || bodies[0] != msg.Text || bodies[1] != msg.HTML {
		t.Errorf("bodies = %q, want text and HTML", bodies)
	}
}

func TestSMTPPlainTextToLoopbackWithoutTLS(t *testing.T) {
	srv := newFakeSMTP(t, &fakeSMTP{})
	m, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: srv.port(), From: "no-reply@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), Message{To: "b@example.com", Subject: "code", Text: "123456"}); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.usedTLS || srv.authLine != "" || !srv.delivered {
		t.Errorf("usedTLS=%v auth=%q delivered=%v; want plain, no auth, delivered", srv.usedTLS, srv.authLine, srv.delivered)
	}
	parsed, err := netmail.ReadMessage(strings.NewReader(srv.data))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(quotedprintable.NewReader(parsed.Body))
	if strings.TrimRight(string(b), "\r\n") != "123456" || !strings.HasPrefix(parsed.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("body = %q (%s), want the text part alone", b, parsed.Header.Get("Content-Type"))
	}
}

func TestSMTPFailures(t *testing.T) {
	noAuth := newFakeSMTP(t, &fakeSMTP{})
	rejecting := newFakeSMTP(t, &fakeSMTP{rejectTo: "ghost@example.com"})
	silent := newFakeSMTP(t, &fakeSMTP{silent: true})
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	for _, tc := range []struct {
		name string
		cfg  SMTPConfig
		to   string
	}{
		{"auth configured but not offered", SMTPConfig{Port: noAuth.port(), Username: "u", Password: "p"}, "a@example.com"},
		{"recipient refused", SMTPConfig{Port: rejecting.port()}, "ghost@example.com"},
		{"server never answers", SMTPConfig{Port: silent.port(), Timeout: 300 * time.Millisecond}, "a@example.com"},
		{"nothing listening", SMTPConfig{Port: closedPort}, "a@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Host, tc.cfg.From = "127.0.0.1", "no-reply@example.com"
			m, err := NewSMTP(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Send(context.Background(), Message{To: tc.to, Subject: "s", Text: "t"}); err == nil {
				t.Error("Send succeeded, want an error")
			}
		})
	}
	if rejecting.delivered {
		t.Error("a message with a refused recipient was delivered")
	}
}

func TestSMTPConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg SMTPConfig
		ok  bool
	}{
		{SMTPConfig{Host: "smtp.example.com", From: "a@example.com"}, true},
		{SMTPConfig{Host: "smtp.example.com", Port: 465, From: "A <a@example.com>", Username: "u", Password: "p"}, true},
		{SMTPConfig{From: "a@example.com"}, false},
		{SMTPConfig{Host: "h", From: "not an address"}, false},
		{SMTPConfig{Host: "h", From: "a@example.com", Port: 70000}, false},
		{SMTPConfig{Host: "h", From: "a@example.com", Password: "p"}, false},
	} {
		_, err := NewSMTP(tc.cfg)
		if (err == nil) != tc.ok {
			t.Errorf("NewSMTP(%+v) err = %v, want ok=%v", tc.cfg, err, tc.ok)
		}
	}
}
