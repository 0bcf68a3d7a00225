package webhook_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/webhook"
)

// Our signature equals the Standard Webhooks library's for any input.
func FuzzSignatureMatchesLibrary(f *testing.F) {
	f.Add([]byte("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "msg_p5jXN8AQM9LWM0D4loKWxJek", int64(1614265330), []byte(`{"test": 2432232314}`))
	f.Add([]byte{0}, "", int64(0), []byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 64), "msg_ä.ö", int64(-1), []byte("\x00\xff"))
	f.Fuzz(func(t *testing.T, key []byte, msgID string, ts int64, body []byte) {
		wh, err := standardwebhooks.NewWebhookRaw(key)
		if err != nil {
			t.Skip()
		}
		want, err := wh.Sign(msgID, time.Unix(ts, 0), body)
		if err != nil {
			t.Skip()
		}
		if got := webhook.Signature(key, msgID, ts, body); got != want {
			t.Errorf("Signature = %q, library says %q", got, want)
		}
	})
}

// The example from the Svix documentation, verified independently.
func TestSignatureKnownAnswer(t *testing.T) {
	t.Parallel()
	key, _ := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	got := webhook.Signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	if got != want {
		t.Errorf("Signature = %q, want %q", got, want)
	}
}

// During a rotation both secrets verify; after it, only the new one.
func TestSecretRotation(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		r := newReceiver(t)
		ep := e.endpoint(t, r, "/hook")
		old := ep.Secret
		if !strings.HasPrefix(old, "whsec_") {
			t.Fatalf("secret %q, want whsec_…", old)
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(old, "whsec_"))
		if err != nil || len(raw) < 24 {
			t.Fatalf("secret decodes to %d bytes (%v), want ≥ 24", len(raw), err)
		}

		e.emit(t, "user.created", user{Object: "user", ID: "user_1"})
		e.runOnce(t)

		rotated, err := e.svc.RotateSecret(e.ctx, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rotated.Secret == "" || rotated.Secret == old {
			t.Fatalf("rotated secret %q, want a new one", rotated.Secret)
		}
		if want := e.clock.Now().Add(webhook.DefaultRotationOverlap); !rotated.PreviousSecretExpiresAt.Equal(want) {
			t.Errorf("previous secret expires at %v, want %v", rotated.PreviousSecretExpiresAt, want)
		}
		r.Expect([]string{old, rotated.Secret})
		e.clock.Advance(webhook.DefaultRotationOverlap - time.Second)
		e.emit(t, "user.updated", user{Object: "user", ID: "user_1"})
		e.runOnce(t)

		e.clock.Advance(time.Second)
		r.Expect([]string{rotated.Secret}, old)
		e.emit(t, "user.deleted", user{Object: "user", ID: "user_1"})
		e.runOnce(t)

		reqs := r.Requests()
		wantSigs := []int{1, 2, 1}
		if len(reqs) != len(wantSigs) {
			t.Fatalf("receiver got %d requests, want %d", len(reqs), len(wantSigs))
		}
		for i, req := range reqs {
			if n := len(strings.Fields(req.Header.Get("webhook-signature"))); n != wantSigs[i] {
				t.Errorf("request %d carries %d signatures, want %d", i, n, wantSigs[i])
			}
		}

		got, err := e.svc.GetWithSecret(e.ctx, ep.ID)
		if err != nil || got.Secret != rotated.Secret {
			t.Errorf("GetWithSecret = %q, %v; want the rotated secret", got.Secret, err)
		}
	})
}

// Secrets are stored sealed and shown only when asked for.
func TestSecretIsSealedAndHidden(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		r := newReceiver(t)
		ep := e.endpoint(t, r, "/hook")
		var stored []byte
		if err := db.NewSelect().Table("webhook_endpoint").Column("secret").Where("id = ?", ep.ID).Scan(e.ctx, &stored); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(stored, []byte(strings.TrimPrefix(ep.Secret, "whsec_"))) {
			t.Error("the stored secret contains the plaintext")
		}
		got, err := e.svc.Get(e.ctx, ep.ID)
		if err != nil || got.Secret != "" {
			t.Errorf("Get secret = %q, %v; want none", got.Secret, err)
		}
		list, err := e.svc.List(e.ctx)
		if err != nil || len(list) != 1 || list[0].Secret != "" {
			t.Errorf("List = %+v, %v; want one endpoint without its secret", list, err)
		}
		j := list[0].JSON()
		if j.Secret != "" {
			t.Errorf("list JSON carries the secret")
		}

		// A keyring from another master secret cannot sign: no request is
		// sent unsigned.
		other := e.newWorker(t, db, func(o *webhook.WorkerOptions) {
			o.Keys = testKeyringFrom(t, "o")
		})
		e.emit(t, "user.created", user{Object: "user", ID: "user_1"})
		if _, err := other.RunOnce(e.ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(r.Requests()); n != 0 {
			t.Errorf("receiver got %d requests signed without the secret, want 0", n)
		}
		ds := e.deliveries(t, ep.ID)
		if len(ds) != 1 || len(ds[0].AttemptLog) != 1 || ds[0].AttemptLog[0].Error == "" || ds[0].Status != webhook.StatusPending {
			t.Errorf("deliveries = %+v, want one pending with a failed attempt", ds)
		}
	})
}
