package templates

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrInvalid is matched (errors.Is) by every *ValidationError.
	ErrInvalid = errors.New("invalid template")
	// ErrPreset: a built-in template cannot be updated or deleted, and its
	// name cannot be taken.
	ErrPreset = errors.New("built-in template cannot be changed")
	// ErrTooLarge: a rendered claim set would exceed MaxRenderedSize.
	ErrTooLarge = errors.New("rendered claims too large")
)

// Error is one problem found while validating a template.
type Error struct {
	// Path locates the problem: "claims" for the whole document,
	// "claims.o.rol" or "claims.roles[2]" for a value, `claims["a b"]` for a
	// key that is not a plain identifier; "name", "lifetime",
	// "allowed_clock_skew" or "signing_algorithm" for the template's
	// settings.
	Path string `json:"path"`
	// Column is the 1-based position, in characters, inside the string
	// value at Path where the problem starts; 0 when the problem concerns
	// the value or key as a whole.
	Column int `json:"column,omitempty"`
	// Message says what is wrong, for people.
	Message string `json:"message"`
}

func (e Error) String() string {
	if e.Column > 0 {
		return fmt.Sprintf("%s, character %d: %s", e.Path, e.Column, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Message)
}

// ValidationError lists every problem found in a template, in document order.
type ValidationError struct {
	Errors []Error
}

func (v *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid template")
	if len(v.Errors) == 1 {
		b.WriteString(": ")
		b.WriteString(v.Errors[0].String())
		return b.String()
	}
	fmt.Fprintf(&b, " (%d problems):", len(v.Errors))
	for _, e := range v.Errors {
		b.WriteString("\n  ")
		b.WriteString(e.String())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true for validation errors.
func (v *ValidationError) Is(target error) bool { return target == ErrInvalid }

// problems collects validation errors up to MaxErrors.
type problems struct {
	list    []Error
	dropped int
}

func (p *problems) add(path string, column int, format string, args ...any) {
	if len(p.list) >= MaxErrors {
		p.dropped++
		return
	}
	p.list = append(p.list, Error{Path: path, Column: column, Message: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	list := p.list
	if p.dropped > 0 {
		list = append(list, Error{Path: "claims", Message: fmt.Sprintf("%d more problems not shown", p.dropped)})
	}
	return &ValidationError{Errors: list}
}
