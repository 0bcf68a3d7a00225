package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"
)

// schemaGen derives JSON Schemas (OpenAPI 3.1 dialect) from the Go types the
// API reads and writes, so that the document describes exactly what the
// encoder produces. Named struct types become components; everything else is
// inlined.
//
// Which fields are required: for types of this package, the fields tagged
// required:"true" (request bodies say what a client must send; response
// types here tag every field they always write); for the owning packages'
// JSON forms, every field without omitempty, which the encoder always
// writes. A pointer is nullable.
type schemaGen struct {
	components map[string]any
	names      map[reflect.Type]string
	taken      map[string]reflect.Type
}

func newSchemaGen() *schemaGen {
	return &schemaGen{components: map[string]any{}, names: map[reflect.Type]string{}, taken: map[string]reflect.Type{}}
}

// schemaer lets a type of this package describe its own schema (a value
// that accepts several JSON shapes).
type schemaer interface{ jsonSchema() map[string]any }

var (
	schemaerType  = reflect.TypeFor[schemaer]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	timeType      = reflect.TypeFor[time.Time]()
	rawType       = reflect.TypeFor[json.RawMessage]()
	thisPkgPath   = reflect.TypeFor[apiError]().PkgPath()
)

// of returns the schema of values of type t.
func (g *schemaGen) of(t reflect.Type) map[string]any {
	if t.Implements(schemaerType) {
		return reflect.Zero(t).Interface().(schemaer).jsonSchema()
	}
	switch {
	case t == rawType:
		return map[string]any{"description": "Any JSON value."}
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	}
	if t.Kind() != reflect.Pointer && (t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType)) {
		return map[string]any{"description": "Any JSON value."}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(g.of(t.Elem()))
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Uint, reflect.Uint32, reflect.Int16, reflect.Uint16, reflect.Int8, reflect.Uint8:
		return map[string]any{"type": "integer"}
	case reflect.Int64, reflect.Uint64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.of(t.Elem())}
	case reflect.Map:
		if t.Elem().Kind() == reflect.Interface {
			return map[string]any{"type": "object"}
		}
		return map[string]any{"type": "object", "additionalProperties": g.of(t.Elem())}
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		return g.ref(t)
	}
	panic(fmt.Sprintf("api: no JSON schema for %v", t))
}

// ref registers the named struct type t as a component and refers to it.
func (g *schemaGen) ref(t reflect.Type) map[string]any {
	name, ok := g.names[t]
	if !ok {
		name = componentName(t)
		if other, clash := g.taken[name]; clash && other != t {
			name = componentName(t) + "Of" + exported(pkgName(t))
		}
		g.names[t], g.taken[name] = name, t
		g.components[name] = nil // reserve: t may refer to itself
		g.components[name] = g.object(t)
	}
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// componentName is the type's name without a trailing "JSON", exported.
func componentName(t reflect.Type) string {
	n := strings.TrimSuffix(t.Name(), "JSON")
	if n == "" {
		n = t.Name()
	}
	return exported(n)
}

func pkgName(t reflect.Type) string {
	p := t.PkgPath()
	return p[strings.LastIndex(p, "/")+1:]
}

func exported(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// object describes a struct's JSON object, flattening embedded structs as
// encoding/json does.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	g.fields(t, props, &required)
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func (g *schemaGen) fields(t reflect.Type, props map[string]any, required *[]string) {
	ownTags := t.PkgPath() == thisPkgPath
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				g.fields(ft, props, required)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fs := g.of(f.Type)
		if doc := f.Tag.Get("doc"); doc != "" {
			fs = withDescription(fs, doc)
		}
		props[name] = fs
		omitempty := strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
		if (ownTags && f.Tag.Get("required") == "true") || (!ownTags && !omitempty) {
			*required = append(*required, name)
		}
	}
}

// nullable lets s also be null.
func nullable(s map[string]any) map[string]any {
	if typ, ok := s["type"].(string); ok {
		out := map[string]any{}
		for k, v := range s {
			out[k] = v
		}
		out["type"] = []string{typ, "null"}
		return out
	}
	if len(s) == 0 {
		return s // any value, null included
	}
	return map[string]any{"oneOf": []any{s, map[string]any{"type": "null"}}}
}

// withDescription adds a description; a $ref is wrapped, since 3.1 allows
// siblings of $ref but some tools ignore them.
func withDescription(s map[string]any, doc string) map[string]any {
	if _, isRef := s["$ref"]; isRef {
		return map[string]any{"allOf": []any{s}, "description": doc}
	}
	out := map[string]any{}
	for k, v := range s {
		out[k] = v
	}
	out["description"] = doc
	return out
}
