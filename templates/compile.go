package templates

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// reservedClaims are set by orgid on every token; a template may not set
// them at the top level (nested keys of the same name are fine).
var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "exp": true, "iat": true,
	"nbf": true, "jti": true, "azp": true, "sid": true,
}

// IsReserved reports whether a top-level claim is owned by orgid.
func IsReserved(claim string) bool { return reservedClaims[claim] }

// The compiled claims tree. Objects keep the template's key order so that
// validation errors come out in document order.
type (
	node       interface{}
	objectNode struct {
		keys   []string
		values []node
	}
	arrayNode  struct{ items []node }
	staticNode struct{ value any }  // string without expressions, json.Number, bool, nil
	exprNode   struct{ expr *expr } // a string that is exactly one expression
	interpNode struct{ parts []part }
	part       struct {
		text string
		expr *expr // nil for literal text
	}
)

// compiler walks the JSON document once, collecting every problem.
type compiler struct {
	probs problems
	path  []pathElem
	exprs int
	// work counts bytes and tokens processed; tests assert it stays
	// linear in the input.
	work int
}

type pathElem struct {
	key   string
	index int // -1 for object keys
}

// Parse compiles a claims document. It returns a *ValidationError listing
// every problem, with positions, when the document is not a valid
// template. Parse runs in time linear in len(claims) and rejects documents
// beyond the limits in limits.go.
func Parse(claims []byte) (*Template, error) {
	c := &compiler{}
	root := c.document(claims)
	if err := c.probs.err(); err != nil {
		return nil, err
	}
	return &Template{root: root}, nil
}

func (c *compiler) document(b []byte) *objectNode {
	if len(b) > MaxTemplateSize {
		c.probs.add("claims", 0, "template is %d bytes; the limit is %d", len(b), MaxTemplateSize)
		return nil
	}
	c.work += len(b)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			c.probs.add("claims", 0, "claims must be a JSON object, got nothing")
		} else {
			c.syntax(b, err)
		}
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		c.probs.add("claims", 0, "claims must be a JSON object")
		return nil
	}
	obj, ok := c.object(b, dec, 1)
	if !ok {
		return nil
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		c.probs.add("claims", 0, "unexpected data after the claims object")
		return nil
	}
	return obj
}

func (c *compiler) object(b []byte, dec *json.Decoder, depth int) (*objectNode, bool) {
	if depth > MaxDepth {
		c.probs.add(c.pathString(), 0, "nested deeper than %d levels", MaxDepth)
		return nil, false
	}
	obj := &objectNode{}
	var seen map[string]bool
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			c.syntax(b, err)
			return nil, false
		}
		c.work++
		key, _ := tok.(string) // the decoder only yields strings in key position
		c.path = append(c.path, pathElem{key: key, index: -1})
		if seen == nil {
			seen = map[string]bool{}
		}
		if seen[key] {
			c.probs.add(c.pathString(), 0, "duplicate key %q", key)
		}
		seen[key] = true
		if depth == 1 && reservedClaims[key] {
			c.probs.add(c.pathString(), 0, "%q is a reserved claim: orgid sets it on every token", key)
		}
		v, ok := c.value(b, dec, depth)
		c.path = c.path[:len(c.path)-1]
		if !ok {
			return nil, false
		}
		obj.keys = append(obj.keys, key)
		obj.values = append(obj.values, v)
	}
	if _, err := dec.Token(); err != nil { // the closing }
		c.syntax(b, err)
		return nil, false
	}
	return obj, true
}

func (c *compiler) array(b []byte, dec *json.Decoder, depth int) (*arrayNode, bool) {
	if depth > MaxDepth {
		c.probs.add(c.pathString(), 0, "nested deeper than %d levels", MaxDepth)
		return nil, false
	}
	arr := &arrayNode{}
	for i := 0; dec.More(); i++ {
		c.path = append(c.path, pathElem{index: i})
		v, ok := c.value(b, dec, depth)
		c.path = c.path[:len(c.path)-1]
		if !ok {
			return nil, false
		}
		arr.items = append(arr.items, v)
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		c.syntax(b, err)
		return nil, false
	}
	return arr, true
}

// value reads the next value; depth is that of the container holding it.
func (c *compiler) value(b []byte, dec *json.Decoder, depth int) (node, bool) {
	tok, err := dec.Token()
	if err != nil {
		c.syntax(b, err)
		return nil, false
	}
	c.work++
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return c.object(b, dec, depth+1)
		}
		return c.array(b, dec, depth+1)
	case string:
		return c.text(v), true
	default: // json.Number, bool, nil
		return staticNode{value: v}, true
	}
}

// text compiles a string value: plain text, exactly one expression (which
// keeps the type of what it yields), or text with expressions (a string).
// It returns nil when the string has errors; they are recorded.
func (c *compiler) text(s string) node {
	if !strings.Contains(s, "{{") {
		return staticNode{value: s}
	}
	var parts []part
	failed := false
	report := func(offset int, format string, args ...any) {
		failed = true
		c.probs.add(c.pathString(), utf8.RuneCountInString(s[:offset])+1, format, args...)
	}
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "{{")
		if j < 0 {
			c.work += len(s) - i
			parts = append(parts, part{text: s[i:]})
			break
		}
		c.work += j
		if j > 0 {
			parts = append(parts, part{text: s[i : i+j]})
		}
		start := i + j
		raw, end, serr := parseExpr(s, start)
		if serr != nil {
			report(serr.offset, "%s", serr.msg)
			if serr.fatal {
				// parseExpr read up to MaxExpressionLength bytes, and a
				// literal may have been scanned twice.
				c.work += 2 * min(len(s)-start, MaxExpressionLength)
				break
			}
			c.work += serr.offset - start
			// Resynchronise after the next }} to report later expressions too.
			k := strings.Index(s[serr.offset:], "}}")
			if k < 0 {
				c.work += len(s) - serr.offset
				break
			}
			c.work += k + 2
			i = serr.offset + k + 2
			continue
		}
		c.work += end - start
		c.exprs++
		if c.exprs == MaxExpressions+1 {
			report(start, "more than %d expressions in one template", MaxExpressions)
		}
		e := &expr{operands: make([]operand, 0, len(raw))}
		for _, r := range raw {
			if op, ok := resolve(r, report); ok {
				e.operands = append(e.operands, op)
			}
		}
		parts = append(parts, part{expr: e})
		i = end
	}
	if failed {
		return nil
	}
	if len(parts) == 1 && parts[0].expr != nil {
		return exprNode{expr: parts[0].expr}
	}
	return interpNode{parts: parts}
}

// syntax records a JSON syntax error with its line and column.
func (c *compiler) syntax(b []byte, err error) {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(b, int(se.Offset))
		c.probs.add(c.pathString(), 0, "invalid JSON at line %d, column %d: %s", line, col, se.Error())
		return
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		c.probs.add(c.pathString(), 0, "invalid JSON: unexpected end of input")
		return
	}
	c.probs.add(c.pathString(), 0, "invalid JSON: %v", err)
}

// lineCol turns a byte offset into a 1-based line and character column.
func lineCol(b []byte, offset int) (int, int) {
	offset = min(max(offset, 0), len(b))
	before := b[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	lastNL := bytes.LastIndexByte(before, '\n')
	return line, utf8.RuneCount(before[lastNL+1:]) + 1
}

// pathString renders the current position as claims.a.b[2]["x y"].
func (c *compiler) pathString() string {
	var b strings.Builder
	b.WriteString("claims")
	for _, e := range c.path {
		switch {
		case e.index >= 0:
			fmt.Fprintf(&b, "[%d]", e.index)
		case isPlainKey(e.key):
			b.WriteByte('.')
			b.WriteString(e.key)
		default:
			b.WriteByte('[')
			b.WriteString(strconv.Quote(e.key))
			b.WriteByte(']')
		}
	}
	return b.String()
}

func isPlainKey(k string) bool {
	if k == "" || !isIdentStart(k[0]) {
		return false
	}
	for i := 1; i < len(k); i++ {
		if !isIdentChar(k[i]) {
			return false
		}
	}
	return true
}
