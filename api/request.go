package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
)

// maxBodyBytes bounds a request body. Metadata objects are capped at 8 KiB
// each and templates at 64 KiB, so 1 MiB leaves room without inviting
// memory exhaustion.
const maxBodyBytes = 1 << 20

// Pagination bounds, as Clerk's.
const (
	defaultLimit = 10
	maxLimit     = 500
)

// paramKind is the type of a query parameter.
type paramKind int

const (
	kindString  paramKind = iota
	kindStrings           // repeatable: email_address=a&email_address=b
	kindInteger
	kindBoolean
)

// param is a query parameter a route accepts.
type param struct {
	name     string
	kind     paramKind
	required bool
	doc      string
}

// Parameters many routes share.
var (
	paramLimit     = param{name: "limit", kind: kindInteger, doc: "Page size, 1–500 (default 10)."}
	paramOffset    = param{name: "offset", kind: kindInteger, doc: "Items to skip (default 0)."}
	paramPaginated = param{name: "paginated", kind: kindBoolean, doc: `true answers {"data": [...], "total_count": N} instead of a bare array.`}
)

// call is one request after its parameters and body were read and checked.
type call struct {
	ctx       context.Context
	r         *http.Request
	vars      map[string]string
	query     url.Values
	body      any // pointer to the route's request type; nil without one
	limit     int
	offset    int
	paginated bool
}

// path returns a path variable.
func (c *call) path(name string) string { return c.vars[name] }

// str returns a single-valued query parameter ("" when absent).
func (c *call) str(name string) string { return c.query.Get(name) }

// strs returns a repeatable query parameter.
func (c *call) strs(name string) []string { return c.query[name] }

// flag returns a boolean query parameter (checked by readQuery).
func (c *call) flag(name string) bool { return c.query.Get(name) == "true" }

// bodyOf returns the decoded request body of a route whose body type is T.
func bodyOf[T any](c *call) *T { return c.body.(*T) }

// newCall reads the request's parameters and body as rt declares them.
// Nothing has been changed when it fails.
func newCall(rt *route, r *http.Request) (*call, error) {
	c := &call{ctx: r.Context(), r: r, vars: mux.Vars(r), limit: defaultLimit}
	var err error
	if c.query, err = readQuery(rt.query, r.URL.RawQuery); err != nil {
		return nil, err
	}
	if v := c.query.Get("limit"); v != "" {
		c.limit, _ = strconv.Atoi(v)
		if c.limit < 1 || c.limit > maxLimit {
			return nil, errFormat("limit", fmt.Sprintf("limit must be between 1 and %d.", maxLimit))
		}
	}
	if v := c.query.Get("offset"); v != "" {
		c.offset, _ = strconv.Atoi(v)
		if c.offset < 0 {
			return nil, errFormat("offset", "offset must not be negative.")
		}
	}
	c.paginated = c.flag("paginated")
	if err := readBody(r, rt.body, &c.body); err != nil {
		return nil, err
	}
	return c, nil
}

// readQuery parses the query string and checks it against the declared
// parameters: unknown names, repeated single values and malformed numbers
// or booleans are refused rather than ignored, so that a filter the API
// does not know never silently widens a result.
func readQuery(params []param, raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, newError(http.StatusBadRequest, "query_invalid", "invalid query", "The query string is malformed.", "")
	}
	known := map[string]param{}
	for _, p := range params {
		known[p.name] = p
	}
	for name, values := range q {
		p, ok := known[name]
		if !ok {
			return nil, errUnknownParam(name)
		}
		if p.kind != kindStrings && len(values) > 1 {
			return nil, errFormat(name, name+" may be given once.")
		}
		for _, v := range values {
			switch p.kind {
			case kindInteger:
				if _, err := strconv.Atoi(v); err != nil {
					return nil, errFormat(name, name+" must be an integer.")
				}
			case kindBoolean:
				if v != "true" && v != "false" {
					return nil, errFormat(name, name+" must be true or false.")
				}
			}
		}
	}
	for _, p := range params {
		if p.required && q.Get(p.name) == "" {
			return nil, errMissing(p.name)
		}
	}
	return q, nil
}

// readBody decodes the JSON body into a new value of proto's type (stored
// in *dst) and checks required fields. A route without a body type accepts
// an empty body or {}.
func readBody(r *http.Request, proto any, dst *any) error {
	raw, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return newError(http.StatusRequestEntityTooLarge, "request_body_too_large", "body too large",
				fmt.Sprintf("The request body may be at most %d bytes.", maxBodyBytes), "")
		}
		return newError(http.StatusBadRequest, "request_body_invalid", "unreadable body", "The request body could not be read.", "")
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return newError(http.StatusUnsupportedMediaType, "unsupported_media_type", "not JSON",
				"Send the request body as JSON with Content-Type: application/json.", "")
		}
	} else {
		raw = []byte("{}")
	}
	var target reflect.Value
	if proto == nil {
		target = reflect.New(reflect.TypeFor[struct{}]())
	} else {
		target = reflect.New(reflect.TypeOf(proto))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	// Metadata keeps numbers exactly as sent (no float64 rounding).
	dec.UseNumber()
	if err := dec.Decode(target.Interface()); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return newError(http.StatusBadRequest, "request_body_invalid", "malformed JSON", "The request body must be one JSON object.", "")
	}
	if proto == nil {
		return nil
	}
	if err := checkRequired(target.Elem()); err != nil {
		return err
	}
	*dst = target.Interface()
	return nil
}

// decodeError explains a JSON decoding failure without echoing the body.
func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return newError(http.StatusBadRequest, "request_body_invalid", "malformed JSON", "The request body must be a JSON object.", "")
		}
		return errFormat(typeErr.Field, fmt.Sprintf("%s must be %s.", typeErr.Field, jsonTypeName(typeErr.Type)))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return errUnknownParam(name)
	}
	var fe fieldError
	if errors.As(err, &fe) {
		return errFormat(fe.field, fe.msg)
	}
	return newError(http.StatusBadRequest, "request_body_invalid", "malformed JSON", "The request body is not valid JSON.", "")
}

// fieldError is returned by this package's UnmarshalJSON methods.
type fieldError struct{ field, msg string }

func (e fieldError) Error() string { return e.field + ": " + e.msg }

func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Slice:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonTypeName(t.Elem())
	}
	return "of another type"
}

// checkRequired refuses a body whose required:"true" fields are empty.
func checkRequired(v reflect.Value) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if err := checkRequired(v.Field(i)); err != nil {
				return err
			}
			continue
		}
		if f.Tag.Get("required") != "true" || !v.Field(i).IsZero() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		return errMissing(name)
	}
	return nil
}
