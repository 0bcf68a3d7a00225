package api

// mergeMetadata deep-merges patch into base as Clerk's metadata endpoints
// do: an object in both merges key by key, at every depth; null removes the
// key; any other value replaces. base is not modified; the result is never
// nil, so that an owning package stores an empty object rather than
// leaving the field unchanged.
func mergeMetadata(base, patch map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(patch))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range patch {
		if v == nil {
			delete(out, k)
			continue
		}
		if pm, ok := v.(map[string]any); ok {
			if bm, ok := out[k].(map[string]any); ok {
				out[k] = mergeMetadata(bm, pm)
				continue
			}
			out[k] = withoutNulls(pm)
			continue
		}
		out[k] = v
	}
	return out
}

// withoutNulls drops null members at every depth of an object that has
// nothing to merge with: null means "remove", and there is nothing to
// remove.
func withoutNulls(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case nil:
		case map[string]any:
			out[k] = withoutNulls(v)
		default:
			out[k] = v
		}
	}
	return out
}
