package ui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// pageOwners are the packages that pass message keys to Render (titles,
// errors, notices). A key they name is checked here, because a missing one
// would show as the bare key on a page.
var pageOwners = []string{"../oidc", "../account"}

func TestGoCodeNamesKnownKeys(t *testing.T) {
	found, unknown := scanKeys(t, pageOwners)
	for _, u := range unknown {
		t.Errorf("%s looks like a message key but is not in locales/%s.json", u, DefaultLanguage)
	}
	if found < 50 {
		t.Errorf("found %d message keys in %v; the scan is broken or the pages' owners moved", found, pageOwners)
	}
}

func TestKeyScanFindsTypos(t *testing.T) {
	found, unknown := scanKeys(t, []string{"testdata/keys"})
	want := []string{`"sign_in.no_such_key"`, `"org.notice.creatd"`}
	if found != 5 || len(unknown) != len(want) {
		t.Fatalf("scan of testdata/keys: found %d, unknown %q; want 5 found and %q", found, unknown, want)
	}
	for _, w := range want {
		if !slices.ContainsFunc(unknown, func(u string) bool { return strings.Contains(u, w) }) {
			t.Errorf("unknown = %q, want one naming %s", unknown, w)
		}
	}
}

// scanKeys returns how many key-shaped string literals the non-test Go
// files of dirs hold, and those the source catalog lacks (position: key).
func scanKeys(t *testing.T, dirs []string) (found int, unknown []string) {
	t.Helper()
	catalogs, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	source := catalogs[DefaultLanguage]
	fset := token.NewFileSet()
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatalf("parse %s: %v", file, err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil || !untranslated(s) {
					return true
				}
				found++
				_, ok = source[s]
				_, one := source[s+".one"]
				_, other := source[s+".other"]
				if !ok && !(one && other) {
					unknown = append(unknown, fset.Position(lit.Pos()).String()+": "+strconv.Quote(s))
				}
				return true
			})
		}
	}
	return found, unknown
}
