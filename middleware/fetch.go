package middleware

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// maxResponseBytes bounds what the verifier reads from the issuer.
const maxResponseBytes = 1 << 20

// getJSON fetches u and decodes its JSON body into dst.
func (v *Verifier) getJSON(ctx context.Context, u string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	return v.doJSON(req, dst)
}

// doJSON sends req and decodes a 200 JSON response into dst.
func (v *Verifier) doJSON(req *http.Request, dst any) error {
	resp, err := v.opts.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", req.URL.Redacted(), err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: status %d", req.Method, req.URL.Redacted(), resp.StatusCode)
	}
	if len(body) > maxResponseBytes {
		return fmt.Errorf("%s %s: response larger than %d bytes", req.Method, req.URL.Redacted(), maxResponseBytes)
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	return nil
}
