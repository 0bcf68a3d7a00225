package identity_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/storage/storagetest"
)

const (
	testRPID   = "id.example.com"
	testOrigin = "https://id.example.com"
)

// softAuthenticator is a platform authenticator in software: one P-256
// key, no attestation, a signature counter, and flags it can be told to
// leave out.
type softAuthenticator struct {
	t       *testing.T
	key     *ecdsa.PrivateKey
	credID  []byte
	handle  []byte
	counter uint32
	noUV    bool
}

func newSoftAuthenticator(t *testing.T) *softAuthenticator {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &softAuthenticator{t: t, key: key, credID: id}
}

var b64 = base64.RawURLEncoding

func (a *softAuthenticator) authData(withCredential bool) []byte {
	rp := sha256.Sum256([]byte(testRPID))
	flags := byte(0x01) // UP
	if !a.noUV {
		flags |= 0x04 // UV
	}
	if withCredential {
		flags |= 0x40 // AT
	}
	out := append([]byte{}, rp[:]...)
	out = append(out, flags)
	out = binary.BigEndian.AppendUint32(out, a.counter)
	if withCredential {
		out = append(out, make([]byte, 16)...) // AAGUID
		out = binary.BigEndian.AppendUint16(out, uint16(len(a.credID)))
		out = append(out, a.credID...)
		cose, err := cbor.Marshal(map[int]any{
			1: 2, 3: -7, -1: 1, // EC2, ES256, P-256
			-2: a.key.X.FillBytes(make([]byte, 32)), -3: a.key.Y.FillBytes(make([]byte, 32)),
		})
		if err != nil {
			a.t.Fatal(err)
		}
		out = append(out, cose...)
	}
	return out
}

func clientData(t *testing.T, typ string, options []byte) []byte {
	t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil || o.PublicKey.Challenge == "" {
		t.Fatalf("options without a challenge: %s (%v)", options, err)
	}
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": o.PublicKey.Challenge, "origin": testOrigin, "crossOrigin": false})
	return b
}

// create answers navigator.credentials.create for options.
func (a *softAuthenticator) create(options []byte) []byte {
	a.t.Helper()
	var o struct {
		PublicKey struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		a.t.Fatal(err)
	}
	a.handle, _ = b64.DecodeString(o.PublicKey.User.ID)
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": a.authData(true)})
	if err != nil {
		a.t.Fatal(err)
	}
	cd := clientData(a.t, "webauthn.create", options)
	b, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.credID), "rawId": b64.EncodeToString(a.credID), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(cd), "attestationObject": b64.EncodeToString(att),
			"transports": []string{"internal"}},
		"clientExtensionResults": map[string]any{}, "authenticatorAttachment": "platform",
	})
	return b
}

// get answers navigator.credentials.get for options.
func (a *softAuthenticator) get(options []byte) []byte {
	a.t.Helper()
	a.counter++
	ad := a.authData(false)
	cd := clientData(a.t, "webauthn.get", options)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		a.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.credID), "rawId": b64.EncodeToString(a.credID), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(ad),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(a.handle)},
		"clientExtensionResults": map[string]any{}, "authenticatorAttachment": "platform",
	})
	return b
}

func newPasskeyEnv(t *testing.T, db *bun.DB) *env {
	return newEnv(t, db, func(o *identity.Options) {
		o.WebAuthn = &identity.WebAuthnConfig{RPID: testRPID, RPDisplayName: "Example", Origins: []string{testOrigin}}
	})
}

func registerPasskey(t *testing.T, e *env, userID string, a *softAuthenticator) *identity.Passkey {
	t.Helper()
	ctx := context.Background()
	handle, options, err := e.svc.BeginPasskeyRegistration(ctx, userID, browserA)
	if err != nil {
		t.Fatalf("BeginPasskeyRegistration: %v", err)
	}
	pk, err := e.svc.FinishPasskeyRegistration(ctx, userID, browserA, handle, "Laptop", a.create(options))
	if err != nil {
		t.Fatalf("FinishPasskeyRegistration: %v", err)
	}
	return pk
}

func passkeySignIn(t *testing.T, e *env, a *softAuthenticator, binding string) (*identity.User, []string, error) {
	t.Helper()
	ctx := context.Background()
	handle, options, err := e.svc.BeginPasskeySignIn(ctx, browserA)
	if err != nil {
		t.Fatalf("BeginPasskeySignIn: %v", err)
	}
	return e.svc.FinishPasskeySignIn(ctx, binding, handle, a.get(options), clientIP)
}

func TestPasskeys(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newPasskeyEnv(t, db)
		u := e.createUser(t, "ann@example.com")
		a := newSoftAuthenticator(t)

		before := len(e.events.types(t))
		pk := registerPasskey(t, e, u.ID, a)
		if pk.Name != "Laptop" || pk.ID == "" {
			t.Errorf("passkey = %+v", pk)
		}
		if got := e.events.types(t)[before:]; len(got) != 1 || got[0] != "user.updated" {
			t.Errorf("events of adding a passkey = %v, want user.updated", got)
		}
		if string(a.handle) != u.ID {
			t.Errorf("user handle = %q, want the user id", a.handle)
		}

		got, amr, err := passkeySignIn(t, e, a, browserA)
		if err != nil || got.ID != u.ID || len(amr) != 2 || amr[0] != "hwk" || amr[1] != "user" {
			t.Fatalf("passkey sign-in = %v, %v, %v; want the user with [hwk user]", got, amr, err)
		}
		if identity.ACRFor(amr) != identity.ACRMultiFactor {
			t.Errorf("acr of a passkey sign-in = %s, want 2", identity.ACRFor(amr))
		}
		list, err := e.svc.Passkeys(ctx, u.ID)
		if err != nil || len(list) != 1 || list[0].LastUsedAt.IsZero() {
			t.Errorf("Passkeys = %+v, %v; want one, used", list, err)
		}

		t.Run("another browser's challenge", func(t *testing.T) {
			if _, _, err := passkeySignIn(t, e, a, browserB); !errors.Is(err, identity.ErrPasskeyCeremony) {
				t.Errorf("err = %v, want ErrPasskeyCeremony", err)
			}
		})
		t.Run("a challenge answers once", func(t *testing.T) {
			handle, options, err := e.svc.BeginPasskeySignIn(ctx, browserA)
			if err != nil {
				t.Fatal(err)
			}
			resp := a.get(options)
			if _, _, err := e.svc.FinishPasskeySignIn(ctx, browserA, handle, resp, clientIP); err != nil {
				t.Fatal(err)
			}
			if _, _, err := e.svc.FinishPasskeySignIn(ctx, browserA, handle, resp, clientIP); !errors.Is(err, identity.ErrPasskeyCeremony) {
				t.Errorf("replayed answer: err = %v, want ErrPasskeyCeremony", err)
			}
		})
		t.Run("no user verification", func(t *testing.T) {
			a.noUV = true
			defer func() { a.noUV = false }()
			if _, _, err := passkeySignIn(t, e, a, browserA); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Errorf("err = %v, want ErrInvalidCredentials", err)
			}
		})
		t.Run("cloned authenticator", func(t *testing.T) {
			a.counter = 0 // get() makes it 1, below the stored count
			if _, _, err := passkeySignIn(t, e, a, browserA); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Errorf("err = %v, want ErrInvalidCredentials", err)
			}
			a.counter = 100
		})
		t.Run("unknown passkey", func(t *testing.T) {
			stranger := newSoftAuthenticator(t)
			stranger.handle = []byte(u.ID)
			if _, _, err := passkeySignIn(t, e, stranger, browserA); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Errorf("err = %v, want ErrInvalidCredentials", err)
			}
		})
		t.Run("banned user", func(t *testing.T) {
			other := e.createUser(t, "banned@example.com")
			b := newSoftAuthenticator(t)
			registerPasskey(t, e, other.ID, b)
			if _, err := e.svc.BanUser(ctx, other.ID); err != nil {
				t.Fatal(err)
			}
			if _, _, err := passkeySignIn(t, e, b, browserA); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Errorf("err = %v, want ErrInvalidCredentials", err)
			}
		})
		t.Run("registering the same passkey twice", func(t *testing.T) {
			handle, options, err := e.svc.BeginPasskeyRegistration(ctx, u.ID, browserA)
			if err != nil {
				t.Fatal(err)
			}
			var o struct {
				PublicKey struct {
					Exclude []struct {
						ID string `json:"id"`
					} `json:"excludeCredentials"`
				} `json:"publicKey"`
			}
			if err := json.Unmarshal(options, &o); err != nil || len(o.PublicKey.Exclude) != 1 {
				t.Errorf("excludeCredentials = %+v, %v; want the existing passkey", o.PublicKey.Exclude, err)
			}
			if _, err := e.svc.FinishPasskeyRegistration(ctx, u.ID, browserA, handle, "", a.create(options)); !errors.Is(err, identity.ErrPasskeyInvalid) {
				t.Errorf("err = %v, want ErrPasskeyInvalid", err)
			}
		})
		t.Run("delete", func(t *testing.T) {
			stranger := e.createUser(t, "stranger@example.com")
			if err := e.svc.DeletePasskey(ctx, stranger.ID, pk.ID); err == nil {
				t.Error("another user deleted the passkey")
			}
			if err := e.svc.DeletePasskey(ctx, u.ID, pk.ID); err != nil {
				t.Fatal(err)
			}
			if _, _, err := passkeySignIn(t, e, a, browserA); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Errorf("sign-in with a deleted passkey: err = %v, want ErrInvalidCredentials", err)
			}
		})
	})
}

func TestPasskeysNeedARelyingParty(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db, nil)
		if e.svc.PasskeysEnabled() {
			t.Fatal("passkeys enabled without a relying party")
		}
		if _, _, err := e.svc.BeginPasskeySignIn(context.Background(), browserA); !errors.Is(err, identity.ErrPasskeysDisabled) {
			t.Errorf("err = %v, want ErrPasskeysDisabled", err)
		}
	})
}
