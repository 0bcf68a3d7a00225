package templates

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Template is a compiled, validated claims template. It is immutable and
// safe for concurrent use.
type Template struct {
	root *objectNode
	// preset renders a built-in template that the language cannot express.
	preset func(d *Data) map[string]any
}

// maxCopyDepth bounds how deep Render copies metadata values.
const maxCopyDepth = 64

// Render evaluates the template for d. The result is a fresh map the caller
// owns: containers are map[string]any and []any; scalars are string, bool,
// nil, json.Number (numbers written in the template), int64 (timestamps)
// or whatever scalar types the caller's metadata holds. Render never
// reports validation problems (Parse did); it fails only with ErrTooLarge
// when the output would exceed MaxRenderedSize.
func (t *Template) Render(d Data) (map[string]any, error) {
	if t.preset != nil {
		return t.preset(&d), nil
	}
	if t.root == nil { // the zero Template: no claims
		return map[string]any{}, nil
	}
	r := &renderer{data: &d, budget: MaxRenderedSize}
	out := r.object(t.root)
	if r.err != nil {
		return nil, r.err
	}
	return out, nil
}

type renderer struct {
	data   *Data
	budget int
	err    error
}

// charge spends n bytes of the output budget.
func (r *renderer) charge(n int) bool {
	if r.err != nil {
		return false
	}
	r.budget -= n
	if r.budget < 0 {
		r.err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxRenderedSize)
		return false
	}
	return true
}

func (r *renderer) node(n node) any {
	switch n := n.(type) {
	case *objectNode:
		return r.object(n)
	case *arrayNode:
		out := make([]any, len(n.items))
		for i, item := range n.items {
			out[i] = r.node(item)
		}
		return out
	case staticNode:
		if s, ok := n.value.(string); ok {
			r.charge(len(s))
		}
		return n.value
	case exprNode:
		return r.copy(r.eval(n.expr), 0)
	case interpNode:
		return r.interpolate(n.parts)
	}
	return nil
}

func (r *renderer) object(n *objectNode) map[string]any {
	out := make(map[string]any, len(n.keys))
	for i, k := range n.keys {
		r.charge(len(k))
		out[k] = r.node(n.values[i])
	}
	return out
}

// eval returns the first operand that is neither null nor false, or the
// last operand.
func (r *renderer) eval(e *expr) any {
	var v any
	for _, op := range e.operands {
		v = r.operand(op)
		if v != nil && v != false {
			return v
		}
	}
	return v
}

func (r *renderer) operand(op operand) any {
	if op.literal {
		return op.value
	}
	v := op.field.get(r.data)
	for _, seg := range op.rest {
		v = step(v, seg)
	}
	return v
}

// step follows one path segment: a key of an object or an index of an
// array. Anything else, or a missing key, is null.
func step(v any, seg string) any {
	switch x := v.(type) {
	case map[string]any:
		return x[seg]
	case map[string]string:
		if s, ok := x[seg]; ok {
			return s
		}
	case []any:
		if i, ok := index(seg, len(x)); ok {
			return x[i]
		}
	case []string:
		if i, ok := index(seg, len(x)); ok {
			return x[i]
		}
	}
	return nil
}

func index(seg string, n int) (int, bool) {
	i, err := strconv.Atoi(seg)
	if err != nil || i < 0 || i >= n || (len(seg) > 1 && seg[0] == '0') {
		return 0, false
	}
	return i, true
}

// copy deep-copies a value from the caller's data into the output, so the
// caller owns the result and shared metadata is never aliased. Every
// element charges the budget, which also stops runaway or cyclic input.
func (r *renderer) copy(v any, depth int) any {
	if depth > maxCopyDepth {
		if r.err == nil {
			r.err = fmt.Errorf("%w: a value is nested deeper than %d levels", ErrTooLarge, maxCopyDepth)
		}
		return nil
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if !r.charge(len(k) + 4) {
				return nil
			}
			out[k] = r.copy(e, depth+1)
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if !r.charge(len(k) + len(e) + 4) {
				return nil
			}
			out[k] = e
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			if !r.charge(2) {
				return nil
			}
			out[i] = r.copy(e, depth+1)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			if !r.charge(len(e) + 2) {
				return nil
			}
			out[i] = e
		}
		return out
	case string:
		r.charge(len(x))
		return x
	default:
		r.charge(8)
		return x
	}
}

// interpolate renders text with expressions: always a string, with null
// written as "null" as Clerk does.
func (r *renderer) interpolate(parts []part) string {
	var b strings.Builder
	for _, p := range parts {
		s := p.text
		if p.expr != nil {
			s = textOf(r.eval(p.expr))
		}
		if !r.charge(len(s)) {
			return ""
		}
		b.WriteString(s)
	}
	return b.String()
}

// textOf writes a value into interpolated text: strings as they are,
// scalars as in JSON, objects and arrays as compact JSON.
func textOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "null"
	}
	return strings.TrimSuffix(b.String(), "\n")
}
