package oidc

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func TestPairwiseSubject(t *testing.T) {
	hash := func(key string) func(string) string {
		return func(v string) string {
			m := hmac.New(sha256.New, []byte(key))
			m.Write([]byte(v))
			return hex.EncodeToString(m.Sum(nil))
		}
	}
	client := func(subjectType, sector string) *Client {
		return &Client{Metadata: ClientMetadata{SubjectType: subjectType, SectorIdentifier: sector}}
	}
	h := hash("k1")
	a1 := pairwiseSubject(h, client(SubjectPairwise, "a.example.com"), "user_1")
	tests := []struct {
		name string
		got  string
		same bool
	}{
		{"stable", pairwiseSubject(h, client(SubjectPairwise, "a.example.com"), "user_1"), true},
		{"another sector", pairwiseSubject(h, client(SubjectPairwise, "b.example.com"), "user_1"), false},
		{"another user", pairwiseSubject(h, client(SubjectPairwise, "a.example.com"), "user_2"), false},
		{"another master secret", pairwiseSubject(hash("k2"), client(SubjectPairwise, "a.example.com"), "user_1"), false},
		{"no separator confusion", pairwiseSubject(h, client(SubjectPairwise, "a.example.comuser"), "_1"), false},
	}
	for _, tc := range tests {
		if (tc.got == a1) != tc.same {
			t.Errorf("%s: %q vs %q, want same %v", tc.name, tc.got, a1, tc.same)
		}
	}
	if a1 == "user_1" || len(a1) != 64 {
		t.Errorf("pairwise subject %q: want a 64-character hash, not the user id", a1)
	}
	for _, c := range []*Client{nil, client("", ""), client(SubjectPublic, "a.example.com"), client(SubjectPairwise, "")} {
		if got := pairwiseSubject(h, c, "user_1"); got != "user_1" {
			t.Errorf("public subject for %+v = %q, want the user id", c, got)
		}
	}
}
