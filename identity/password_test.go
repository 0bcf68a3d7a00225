package identity

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

var testParams = PasswordParams{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

func TestHashAndVerifyPassword(t *testing.T) {
	hash, err := HashPassword("correct horse", testParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash = %q, want the PHC argon2id prefix with m=64,t=1,p=1", hash)
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{
		{"correct horse", true},
		{"correct horse ", false}, // no trimming
		{" correct horse", false},
		{"Correct horse", false}, // no case folding
		{"correct hors", false},
		{"", false},
	} {
		got, err := VerifyPassword(tc.password, hash)
		if err != nil || got != tc.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v, nil", tc.password, got, err, tc.want)
		}
	}
	again, err := HashPassword("correct horse", testParams)
	if err != nil || again == hash {
		t.Errorf("two hashes of one password are equal (%v): salts must differ", err)
	}
}

func TestDefaultParamsHashFormat(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes with the default (slow) parameters")
	}
	hash, err := HashPassword("a password that is long", DefaultPasswordParams())
	if err != nil {
		t.Fatal(err)
	}
	h, err := parsePHC(hash)
	if err != nil {
		t.Fatalf("parsePHC(%q): %v", hash, err)
	}
	if got, want := h.params, DefaultPasswordParams(); got != want {
		t.Errorf("params = %+v, want %+v", got, want)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash = %q", hash)
	}
}

func TestNeedsRehash(t *testing.T) {
	hash, err := HashPassword("pw", testParams)
	if err != nil {
		t.Fatal(err)
	}
	stronger := testParams
	stronger.Iterations = 2
	for _, tc := range []struct {
		name   string
		hash   string
		params PasswordParams
		want   bool
	}{
		{"same params", hash, testParams, false},
		{"more iterations", hash, stronger, true},
		{"garbage", "nope", testParams, true},
	} {
		if got := NeedsRehash(tc.hash, tc.params); got != tc.want {
			t.Errorf("%s: NeedsRehash = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParsePHCRejectsMalformed(t *testing.T) {
	salt, key := "c2FsdHNhbHRzYWx0c2FsdA", "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"
	valid := "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key
	if _, err := parsePHC(valid); err != nil {
		t.Fatalf("parsePHC(valid) = %v", err)
	}
	for _, s := range []string{
		"",
		"$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1$" + salt + "$" + key,
		"$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=-1,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=4,t=1,p=1$" + salt + "$" + key,          // below 8*p
		"$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key,    // 4 GiB
		"$argon2id$v=19$m=64,t=1000000,p=1$" + salt + "$" + key,   // minutes per check
		"$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,         // no lanes
		"$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key,       // overflows uint8
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "=$" + key,        // padding
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$",   // extra field
		"$argon2id$v=19$m=64,t=1,p=1$$" + key,                     // no salt
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$a2V5",           // short key
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "!!!", // not base64
	} {
		if h, err := parsePHC(s); err == nil {
			t.Errorf("parsePHC(%q) = %+v, want an error", s, h.params)
		}
		if ok, err := VerifyPassword("x", s); err == nil || ok {
			t.Errorf("VerifyPassword(_, %q) = %v, %v; want false and an error", s, ok, err)
		}
	}
}

// FuzzParsePHC checks that no stored string makes the parser panic or
// accept parameters outside the bounds, and that accepted strings
// re-encode to themselves.
func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U")
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parsePHC(s)
		if err != nil {
			return
		}
		if err := h.params.validate(); err != nil {
			t.Fatalf("parsePHC(%q) accepted invalid params: %v", s, err)
		}
		again := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", h.params.Memory, h.params.Iterations, h.params.Parallelism,
			base64.RawStdEncoding.EncodeToString(h.salt), base64.RawStdEncoding.EncodeToString(h.key))
		if again != s {
			t.Fatalf("parsePHC(%q) re-encodes as %q", s, again)
		}
	})
}

func BenchmarkHashPasswordDefaultParams(b *testing.B) {
	p := DefaultPasswordParams()
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple", p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPasswordDefaultParams(b *testing.B) {
	hash, err := HashPassword("correct horse battery staple", DefaultPasswordParams())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := VerifyPassword("correct horse battery staple", hash); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
