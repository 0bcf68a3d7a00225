package api

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// page is what a list handler returns: one page of items and the total.
type page[T any] struct {
	items []T
	total int
}

// pager is any page, for the writer.
type pager interface{ parts() (items any, total int) }

func (p page[T]) parts() (any, int) {
	if p.items == nil {
		return []T{}, p.total
	}
	return p.items, p.total
}

// paginate cuts one page out of a complete list.
func paginate[T any](all []T, c *call) page[T] {
	start := min(c.offset, len(all))
	end := min(start+c.limit, len(all))
	return page[T]{items: all[start:end], total: len(all)}
}

// mapJSON converts items to their JSON forms.
func mapJSON[T any, J any](items []T, f func(T) J) []J {
	out := make([]J, len(items))
	for i, it := range items {
		out[i] = f(it)
	}
	return out
}

// DeletedJSON answers a deletion, as Clerk's DeletedObject.
type DeletedJSON struct {
	Object  string `json:"object" required:"true"`
	ID      string `json:"id" required:"true"`
	Deleted bool   `json:"deleted" required:"true"`
}

func deleted(object, id string) DeletedJSON {
	return DeletedJSON{Object: object, ID: id, Deleted: true}
}

// TotalCountJSON answers a count.
type TotalCountJSON struct {
	Object     string `json:"object" required:"true"` // "total_count"
	TotalCount int    `json:"total_count" required:"true"`
}

// rawJSON is a response body that is already JSON (the JWKS, the OpenAPI
// document), written as it is.
type rawJSON []byte

// writeResult writes a handler's result as its route declares it.
func writeResult(w http.ResponseWriter, rt *route, c *call, result any) {
	if raw, ok := result.(rawJSON); ok {
		writeBytes(w, http.StatusOK, raw)
		return
	}
	if p, ok := result.(pager); ok {
		items, total := p.parts()
		if rt.result.kind == resultLegacyList && !c.paginated {
			writeJSON(w, http.StatusOK, items)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": items, "total_count": total})
		return
	}
	writeJSON(w, http.StatusOK, result)
}

// writeJSON encodes v. Content-Type is exactly application/json: the
// Clerk SDK compares the header as a string and treats anything else as
// text.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		// Only an unencodable value (a bug) gets here; nothing was written.
		buf.Reset()
		_ = json.NewEncoder(&buf).Encode(ErrorsJSON{Errors: errInternal.errs})
		status = http.StatusInternalServerError
	}
	writeBytes(w, status, buf.Bytes())
}

func writeBytes(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
