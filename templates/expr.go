package templates

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// An expr is one {{ … }}: operands joined by ||. A single operand is the
// common case; a chain yields the first operand that is neither null nor
// false, or else the last one.
type expr struct {
	operands []operand
}

// An operand is a literal or a shortcode path whose root and field are
// resolved at parse time.
type operand struct {
	literal bool
	value   any      // the literal: string, json.Number, bool or nil
	field   *field   // the shortcode's field
	rest    []string // segments after the field (metadata paths)
}

// rawOperand is an operand before its path is checked against the
// vocabulary; offsets are byte offsets into the string value.
type rawOperand struct {
	literal  bool
	value    any
	segments []string
	offsets  []int
}

// syntaxError is a malformed expression at a byte offset of the string.
type syntaxError struct {
	offset int
	msg    string
	// fatal means no later "}}" in the string can be trusted to
	// resynchronise on: the rest of the string is not parsed.
	fatal bool
}

// parseExpr parses the expression whose "{{" starts at s[start]. It returns
// the operands and the offset just past the closing "}}". It reads at most
// MaxExpressionLength bytes, so its work is bounded whatever s holds.
func parseExpr(s string, start int) ([]rawOperand, int, *syntaxError) {
	t := s
	truncated := false
	if len(t) > start+MaxExpressionLength {
		t, truncated = s[:start+MaxExpressionLength], true
	}
	endOfInput := func() *syntaxError {
		if truncated {
			return &syntaxError{offset: start, msg: fmt.Sprintf("expression is longer than %d characters", MaxExpressionLength), fatal: true}
		}
		return &syntaxError{offset: start, msg: "unclosed {{: missing }}", fatal: true}
	}
	var ops []rawOperand
	pos := start + 2
	wantOperand := true
	for {
		for pos < len(t) && isSpace(t[pos]) {
			pos++
		}
		if pos >= len(t) {
			return nil, 0, endOfInput()
		}
		rest := t[pos:]
		switch {
		case strings.HasPrefix(rest, "}}"):
			if wantOperand {
				if len(ops) == 0 {
					return nil, 0, &syntaxError{offset: start, msg: "empty expression {{}}"}
				}
				return nil, 0, &syntaxError{offset: pos, msg: "missing operand after ||"}
			}
			return ops, pos + 2, nil
		case strings.HasPrefix(rest, "||"):
			if wantOperand {
				if len(ops) == 0 {
					return nil, 0, &syntaxError{offset: pos, msg: "missing operand before ||"}
				}
				return nil, 0, &syntaxError{offset: pos, msg: "missing operand between || and ||"}
			}
			wantOperand = true
			pos += 2
			continue
		case rest[0] == '|':
			return nil, 0, &syntaxError{offset: pos, msg: "single |: use || between fallback operands"}
		case rest[0] == '}' && len(rest) == 1:
			return nil, 0, endOfInput()
		}
		if !wantOperand {
			return nil, 0, &syntaxError{offset: pos, msg: fmt.Sprintf("expected || or }} after an operand, found %s", quoteChar(rest))}
		}
		if len(ops) == MaxOperands {
			return nil, 0, &syntaxError{offset: pos, msg: fmt.Sprintf("more than %d operands in one expression", MaxOperands)}
		}
		var op rawOperand
		var err *syntaxError
		c, opStart := rest[0], pos
		switch {
		case c == '\'':
			op, pos, err = lexString(t, pos)
		case c == '"':
			err = &syntaxError{offset: pos, msg: "string literals use single quotes: 'text'"}
		case c == '-' || isDigit(c):
			op, pos, err = lexNumber(t, pos)
		case isIdentStart(c):
			op, pos, err = lexPath(t, pos)
		default:
			err = &syntaxError{offset: pos, msg: fmt.Sprintf("unexpected character %s", quoteChar(rest))}
		}
		if err != nil {
			if err.offset < len(t) {
				return nil, 0, err
			}
			if c == '\'' && !truncated {
				return nil, 0, &syntaxError{offset: opStart, msg: "unterminated string literal: missing closing '", fatal: true}
			}
			return nil, 0, endOfInput()
		}
		ops = append(ops, op)
		wantOperand = false
	}
}

// lexString reads a single-quoted literal starting at t[pos]. \' is a quote
// and \\ a backslash; any other escape is an error, so that a later
// extension cannot change what an existing template means.
func lexString(t string, pos int) (rawOperand, int, *syntaxError) {
	var b strings.Builder
	i := pos + 1
	for i < len(t) {
		switch c := t[i]; c {
		case '\'':
			return rawOperand{literal: true, value: b.String()}, i + 1, nil
		case '\\':
			if i+1 >= len(t) {
				return rawOperand{}, 0, &syntaxError{offset: len(t)}
			}
			if n := t[i+1]; n != '\'' && n != '\\' {
				return rawOperand{}, 0, &syntaxError{offset: i, msg: fmt.Sprintf("invalid escape \\%s in string literal: only \\' and \\\\ are allowed", t[i+1:i+1+utf8Len(t[i+1:])])}
			}
			b.WriteByte(t[i+1])
			i += 2
		default:
			b.WriteByte(c)
			i++
		}
	}
	// The literal ran to the end of what parseExpr may read: either the
	// expression is too long, or the quote is never closed.
	return rawOperand{}, 0, &syntaxError{offset: len(t)}
}

// lexNumber reads a JSON-style number: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
func lexNumber(t string, pos int) (rawOperand, int, *syntaxError) {
	i := pos
	bad := func() (rawOperand, int, *syntaxError) {
		end := i
		for end < len(t) && (isIdentChar(t[end]) || t[end] == '.' || t[end] == '+') {
			end++
		}
		return rawOperand{}, 0, &syntaxError{offset: pos, msg: fmt.Sprintf("invalid number literal %q", t[pos:end])}
	}
	if t[i] == '-' {
		i++
	}
	switch {
	case i < len(t) && t[i] == '0':
		i++
	case i < len(t) && isDigit(t[i]):
		for i < len(t) && isDigit(t[i]) {
			i++
		}
	default:
		return bad()
	}
	if i < len(t) && t[i] == '.' {
		i++
		if i >= len(t) || !isDigit(t[i]) {
			return bad()
		}
		for i < len(t) && isDigit(t[i]) {
			i++
		}
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		if i >= len(t) || !isDigit(t[i]) {
			return bad()
		}
		for i < len(t) && isDigit(t[i]) {
			i++
		}
	}
	if i < len(t) && (isIdentChar(t[i]) || t[i] == '.') {
		return bad()
	}
	text := t[pos:i]
	if _, err := strconv.ParseFloat(text, 64); err != nil {
		return rawOperand{}, 0, &syntaxError{offset: pos, msg: fmt.Sprintf("number literal %s is out of range", text)}
	}
	return rawOperand{literal: true, value: json.Number(text)}, i, nil
}

// lexPath reads a dot path (user.public_metadata.plan) or one of the
// keywords true, false and null.
func lexPath(t string, pos int) (rawOperand, int, *syntaxError) {
	var op rawOperand
	i := pos
	for {
		segStart := i
		for i < len(t) && isIdentChar(t[i]) {
			i++
		}
		if i == segStart {
			if i >= len(t) {
				return rawOperand{}, 0, &syntaxError{offset: i}
			}
			return rawOperand{}, 0, &syntaxError{offset: i, msg: "empty path segment after ."}
		}
		if len(op.segments) == MaxPathSegments {
			return rawOperand{}, 0, &syntaxError{offset: segStart, msg: fmt.Sprintf("path has more than %d segments", MaxPathSegments)}
		}
		op.segments = append(op.segments, t[segStart:i])
		op.offsets = append(op.offsets, segStart)
		if i >= len(t) || t[i] != '.' {
			break
		}
		i++
	}
	if len(op.segments) == 1 {
		switch op.segments[0] {
		case "true":
			return rawOperand{literal: true, value: true}, i, nil
		case "false":
			return rawOperand{literal: true, value: false}, i, nil
		case "null":
			return rawOperand{literal: true, value: nil}, i, nil
		}
	}
	return op, i, nil
}

// resolve checks a path operand against the shortcode vocabulary. It
// reports every problem through report, with byte offsets.
func resolve(op rawOperand, report func(offset int, format string, args ...any)) (operand, bool) {
	if op.literal {
		return operand{literal: true, value: op.value}, true
	}
	r := findRoot(op.segments[0])
	if r == nil {
		report(op.offsets[0], "unknown shortcode root %q (known roots: %s)", op.segments[0], rootNames())
		return operand{}, false
	}
	if len(op.segments) == 1 {
		report(op.offsets[0], "%s needs a field, for example {{%s.%s}}", r.name, r.name, r.fields[0].name)
		return operand{}, false
	}
	f := r.field(op.segments[1])
	if f == nil {
		report(op.offsets[1], "unknown field %q of %s (known fields: %s)", op.segments[1], r.name, r.fieldNames())
		return operand{}, false
	}
	if !f.open && len(op.segments) > 2 {
		report(op.offsets[2], "%s.%s has no fields: only metadata, user.organizations and session.actor take a path", r.name, f.name)
		return operand{}, false
	}
	return operand{field: f, rest: op.segments[2:]}, true
}

func isSpace(c byte) bool      { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) || c == '-' }

func utf8Len(s string) int {
	if s == "" {
		return 0
	}
	_, n := utf8.DecodeRuneInString(s)
	return n
}

// quoteChar quotes the first character of s for a message.
func quoteChar(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	return strconv.QuoteRune(r)
}
