package api

import (
	"github.com/orgid/orgid/oidc/keys"
)

// SigningKeyJSON is a signing key without its private part. Package keys
// exports no API form of its own (KeyInfo carries RFC 3339 times), so this
// one gives its fields the API's conventions: an object name and Unix
// milliseconds.
type SigningKeyJSON struct {
	Object       string `json:"object" required:"true"` // "signing_key"
	KID          string `json:"kid" required:"true"`
	Algorithm    string `json:"algorithm" required:"true"`
	State        string `json:"state" required:"true" doc:"next (published, not signing yet), active (signing) or retired (published while tokens it signed may live)."`
	CreatedAt    int64  `json:"created_at" required:"true"`
	ActivatedAt  *int64 `json:"activated_at" required:"true"`
	RetiredAt    *int64 `json:"retired_at" required:"true"`
	PublishUntil *int64 `json:"publish_until" required:"true"`
}

func signingKeyJSON(k keys.KeyInfo) SigningKeyJSON {
	return SigningKeyJSON{Object: "signing_key", KID: k.KID, Algorithm: k.Algorithm, State: string(k.State),
		CreatedAt: k.CreatedAt.UnixMilli(), ActivatedAt: msOrNil(k.ActivatedAt), RetiredAt: msOrNil(k.RetiredAt),
		PublishUntil: msOrNil(k.PublishUntil)}
}

func (h *Handler) jwks(*call) (any, error) {
	return rawJSON(h.d.Keys.JWKS()), nil
}

func (h *Handler) listSigningKeys(c *call) (any, error) {
	list, err := h.d.Keys.List(c.ctx)
	if err != nil {
		return nil, err
	}
	return paginate(mapJSON(list, signingKeyJSON), c), nil
}

// rotateSigningKeys rotates like `orgid keys rotate`; other replicas pick
// the new keys up on their next reload.
func (h *Handler) rotateSigningKeys(c *call) (any, error) {
	active, err := h.d.Keys.Rotate(c.ctx)
	if err != nil {
		return nil, err
	}
	out := mapJSON(active, signingKeyJSON)
	return page[SigningKeyJSON]{items: out, total: len(out)}, nil
}
