package api_test

import (
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/mux"

	"github.com/orgid/orgid/api"
	"github.com/orgid/orgid/storage/storagetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const goldenOpenAPI = "testdata/openapi.json"

// TestOpenAPI checks the served document against the golden file, that
// every mounted /v1 route is in it and every operation in it is mounted,
// and that every $ref resolves.
func TestOpenAPI(t *testing.T) {
	dbURL := storagetest.NewURL(t, "sqlite")
	e := start(t, dbURL)
	r := (&client{t: t, base: e.c.base}).do(http.MethodGet, "/openapi.json", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /v1/openapi.json: %d %s", r.Status, r)
	}

	if *update {
		if err := os.MkdirAll(filepath.Dir(goldenOpenAPI), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenOpenAPI, r.Body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	golden, err := os.ReadFile(goldenOpenAPI)
	if err != nil {
		t.Fatalf("%v (run go test ./api -run TestOpenAPI -update)", err)
	}
	if diff := cmp.Diff(string(golden), string(r.Body)); diff != "" {
		t.Errorf("served document differs from %s (run with -update and review the diff) (-golden +served):\n%s", goldenOpenAPI, diff)
	}

	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components map[string]map[string]any            `json:"components"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}

	t.Run("mounted routes and documented operations match", func(t *testing.T) {
		router := mux.NewRouter()
		svc := e.srv.Services
		api.New(api.Deps{DB: e.srv.Base.DB, Secrets: e.srv.Base.Keys, Identity: svc.Identity, Tenancy: svc.Tenancy, RBAC: svc.RBAC,
			Templates: svc.Templates, Webhooks: svc.Webhooks, Clients: svc.Clients, Keys: svc.Keys}).Routes(router)
		var mounted []string
		names := map[string]bool{}
		err := router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
			tpl, err := route.GetPathTemplate()
			if err != nil {
				return err
			}
			methods, err := route.GetMethods()
			if err != nil { // the /v1/ prefix and the catch-all
				if name := route.GetName(); name != "" && name != "api_unmatched" {
					t.Errorf("route %s (%s) has no method", name, tpl)
				}
				return nil
			}
			name := route.GetName()
			if !strings.HasPrefix(name, "api_") || names[name] {
				t.Errorf("route %s %s: name %q is not a unique api_… metrics name", methods, tpl, name)
			}
			names[name] = true
			for _, m := range methods {
				mounted = append(mounted, m+" "+tpl)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var documented []string
		opIDs := map[string]bool{}
		for path, ops := range doc.Paths {
			for method, op := range ops {
				documented = append(documented, strings.ToUpper(method)+" "+path)
				id, _ := op["operationId"].(string)
				if !names[id] {
					t.Errorf("%s %s: operationId %q is not a mounted route name", method, path, id)
				}
				opIDs[id] = true
			}
		}
		sort.Strings(mounted)
		sort.Strings(documented)
		if diff := cmp.Diff(mounted, documented); diff != "" {
			t.Errorf("mounted routes vs documented operations (-mounted +documented):\n%s", diff)
		}
		if len(opIDs) != len(names) {
			t.Errorf("%d distinct operationIds for %d routes", len(opIDs), len(names))
		}
	})

	t.Run("every reference resolves", func(t *testing.T) {
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch v := v.(type) {
			case map[string]any:
				if ref, ok := v["$ref"].(string); ok {
					parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
					if len(parts) != 2 || doc.Components[parts[0]][parts[1]] == nil {
						t.Errorf("%s: $ref %q does not resolve", path, ref)
					}
				}
				for k, x := range v {
					walk(path+"/"+k, x)
				}
			case []any:
				for _, x := range v {
					walk(path+"[]", x)
				}
			}
		}
		var all map[string]any
		if err := json.Unmarshal(r.Body, &all); err != nil {
			t.Fatal(err)
		}
		walk("", all)
	})

	t.Run("error responses", func(t *testing.T) {
		for path, ops := range doc.Paths {
			for method, op := range ops {
				responses, _ := op["responses"].(map[string]any)
				for _, status := range []string{"200", "400", "500"} {
					if responses[status] == nil {
						t.Errorf("%s %s: no %s response", method, path, status)
					}
				}
				_, secured := op["security"]
				if path != "/v1/openapi.json" && (secured || responses["401"] == nil) {
					t.Errorf("%s %s: a secret key must be required and 401 documented", method, path)
				}
				if strings.Contains(path, "{") && responses["404"] == nil {
					t.Errorf("%s %s: no 404 for a path with an id", method, path)
				}
			}
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range doc.Components["responses"] {
				if !yield(k) {
					return
				}
			}
		})
		want := []string{"BadRequest", "Conflict", "Forbidden", "InternalServerError", "NotFound", "RequestEntityTooLarge",
			"TooManyRequests", "Unauthorized", "UnprocessableEntity", "UnsupportedMediaType"}
		if diff := cmp.Diff(want, keys); diff != "" {
			t.Errorf("error responses (-want +got):\n%s", diff)
		}
	})
}
