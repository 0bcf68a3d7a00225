package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/orgid/orgid/internal/egress"
)

// outcome is what one attempt produced.
type outcome struct {
	startedAt  time.Time
	duration   time.Duration
	statusCode int
	body       string
	errText    string
	success    bool
	gone       bool
	retryAfter time.Duration // 0 when the response did not ask
}

// send makes one signed request for j.
func (w *Worker) send(ctx context.Context, j job) outcome {
	o := outcome{startedAt: w.now().UTC()}
	keys, err := w.signingKeys(j, o.startedAt)
	if err != nil {
		// A wrong ORGID_SECRET must not turn into unsigned requests.
		o.errText = "cannot read the endpoint's signing secret"
		return o
	}
	ctx, cancel := context.WithTimeout(ctx, w.opts.RequestTimeout)
	defer cancel()
	body := []byte(j.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.URL, bytes.NewReader(body))
	if err != nil {
		o.errText = "invalid endpoint URL"
		return o
	}
	setSignedHeaders(req.Header, keys, j.MessageID, o.startedAt.Unix(), body)

	start := time.Now()
	resp, err := w.client.Do(req)
	if err != nil {
		o.duration = time.Since(start)
		o.errText = describeError(ctx, err, w.opts.RequestTimeout)
		return o
	}
	stored, readErr := io.ReadAll(io.LimitReader(resp.Body, MaxStoredResponseBytes))
	drain(resp.Body)
	resp.Body.Close()
	o.duration = time.Since(start)
	o.statusCode = resp.StatusCode
	o.body = cleanText(string(stored))
	switch {
	case readErr != nil:
		// The status arrived but the body did not, within the time allowed.
		o.errText = "reading the response: " + describeError(ctx, readErr, w.opts.RequestTimeout)
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		o.success = true
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		o.errText = "redirects are not followed"
	case resp.StatusCode == http.StatusGone:
		o.gone = true
		o.errText = "endpoint answered 410 Gone"
	default:
		o.errText = "unexpected status " + resp.Status
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), o.startedAt); ok {
			o.retryAfter = d
		}
	}
	return o
}

// signingKeys returns the HMAC keys that sign j now: the current secret's,
// and the previous secret's while a rotation is in progress.
func (w *Worker) signingKeys(j job, now time.Time) ([][]byte, error) {
	cur, err := openSecret(w.keys, j.EndpointID, j.Secret)
	if err != nil {
		return nil, err
	}
	key, err := secretKey(cur)
	if err != nil {
		return nil, err
	}
	keys := [][]byte{key}
	if len(j.PreviousSecret) > 0 && j.PreviousSecretExpiresAt != nil && now.Before(*j.PreviousSecretExpiresAt) {
		prev, err := openSecret(w.keys, j.EndpointID, j.PreviousSecret)
		if err != nil {
			return nil, err
		}
		pkey, err := secretKey(prev)
		if err != nil {
			return nil, err
		}
		keys = append(keys, pkey)
	}
	return keys, nil
}

// describeError turns a transport error into text for the attempt log. The
// URL is left out (it may carry a token in its query), and a refused
// destination says only that.
func describeError(ctx context.Context, err error, timeout time.Duration) string {
	if errors.Is(err, egress.ErrDestinationNotAllowed) {
		return egress.ErrDestinationNotAllowed.Error()
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return "no response within " + timeout.String()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return cleanText(err.Error())
}

// cleanText makes text storable in a PostgreSQL TEXT column (valid UTF-8,
// no NUL) after truncation may have cut a character in half.
func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}
