package mail

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
)

// Message is one email to one recipient. Text is required; HTML, when set,
// is sent as an alternative to it.
type Message struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html,omitempty"`
}

// Mailer sends a message or says why it could not.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// ErrInvalidMessage marks a message that no Mailer will send.
var ErrInvalidMessage = errors.New("mail: invalid message")

// Validate checks that m names one valid recipient and that no header
// value could inject another header.
func (m Message) Validate() error {
	if _, err := recipient(m.To); err != nil {
		return err
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return fmt.Errorf("%w: subject contains a line break", ErrInvalidMessage)
	}
	if m.Text == "" {
		return fmt.Errorf("%w: empty text body", ErrInvalidMessage)
	}
	return nil
}

// recipient parses a single address; a display name is allowed.
func recipient(to string) (*netmail.Address, error) {
	if strings.ContainsAny(to, "\r\n") {
		return nil, fmt.Errorf("%w: recipient contains a line break", ErrInvalidMessage)
	}
	addr, err := netmail.ParseAddress(to)
	if err != nil {
		return nil, fmt.Errorf("%w: recipient %q: %v", ErrInvalidMessage, to, err)
	}
	return addr, nil
}
