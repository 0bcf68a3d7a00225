package api

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMergeMetadata(t *testing.T) {
	for _, tc := range []struct {
		name        string
		base, patch map[string]any
		want        map[string]any
	}{
		{"into nil", nil, map[string]any{"a": 1.0}, map[string]any{"a": 1.0}},
		{"empty patch keeps", map[string]any{"a": 1.0}, map[string]any{}, map[string]any{"a": 1.0}},
		{"replace scalar", map[string]any{"a": 1.0}, map[string]any{"a": "x"}, map[string]any{"a": "x"}},
		{"null removes", map[string]any{"a": 1.0, "b": 2.0}, map[string]any{"a": nil}, map[string]any{"b": 2.0}},
		{"null of absent key", map[string]any{"b": 2.0}, map[string]any{"a": nil}, map[string]any{"b": 2.0}},
		{"deep merge",
			map[string]any{"o": map[string]any{"x": 1.0, "y": map[string]any{"z": true, "w": 1.0}}},
			map[string]any{"o": map[string]any{"y": map[string]any{"w": nil, "v": 2.0}, "n": "new"}},
			map[string]any{"o": map[string]any{"x": 1.0, "n": "new", "y": map[string]any{"z": true, "v": 2.0}}}},
		{"object replaces scalar, nulls dropped",
			map[string]any{"o": 1.0}, map[string]any{"o": map[string]any{"k": nil, "j": map[string]any{"q": nil}}},
			map[string]any{"o": map[string]any{"j": map[string]any{}}}},
		{"scalar replaces object", map[string]any{"o": map[string]any{"x": 1.0}}, map[string]any{"o": "flat"}, map[string]any{"o": "flat"}},
		{"arrays replace", map[string]any{"a": []any{1.0, 2.0}}, map[string]any{"a": []any{3.0}}, map[string]any{"a": []any{3.0}}},
		{"clear everything", map[string]any{"a": 1.0}, map[string]any{"a": nil}, map[string]any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := cmp.Diff(map[string]any{}, tc.base)
			got := mergeMetadata(tc.base, tc.patch)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mergeMetadata(%v, %v) (-want +got):\n%s", tc.base, tc.patch, diff)
			}
			if got == nil {
				t.Error("result is nil; an owning package would read that as \"unchanged\"")
			}
			if after := cmp.Diff(map[string]any{}, tc.base); after != before {
				t.Errorf("base was modified: %v", tc.base)
			}
		})
	}
}
