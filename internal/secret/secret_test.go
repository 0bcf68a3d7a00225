package secret

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testKeyring(t *testing.T, master string) *Keyring {
	t.Helper()
	k, err := NewKeyring([]byte(master))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	k := testKeyring(t, strings.Repeat("a", 32))
	other := testKeyring(t, strings.Repeat("b", 32))
	ct := k.Seal([]byte("private key"), []byte("key:1"))
	if bytes.Contains(ct, []byte("private key")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	pt, err := k.Open(ct, []byte("key:1"))
	if err != nil || string(pt) != "private key" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	tampered := append([]byte(nil), ct...)
	tampered[len(tampered)-1] ^= 1
	for name, tc := range map[string]struct {
		k   *Keyring
		ct  []byte
		aad string
	}{
		"other purpose": {k, ct, "key:2"},
		"other master":  {other, ct, "key:1"},
		"tampered":      {k, tampered, "key:1"},
		"truncated":     {k, ct[:10], "key:1"},
		"empty":         {k, nil, "key:1"},
	} {
		if _, err := tc.k.Open(tc.ct, []byte(tc.aad)); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: Open err = %v, want ErrDecrypt", name, err)
		}
	}
}

func TestHashVerify(t *testing.T) {
	k := testKeyring(t, strings.Repeat("a", 32))
	tok := Token("sk_")
	if !strings.HasPrefix(tok, "sk_") || len(tok) != 3+43 {
		t.Fatalf("Token = %q", tok)
	}
	h := k.Hash(tok)
	if !k.Verify(tok, h) {
		t.Error("Verify(token, Hash(token)) = false")
	}
	if k.Verify(tok+"x", h) {
		t.Error("Verify accepted a different token")
	}
	if testKeyring(t, strings.Repeat("b", 32)).Verify(tok, h) {
		t.Error("a keyring from another master verified the hash")
	}
}

func TestNewKeyringRejectsShortMaster(t *testing.T) {
	if _, err := NewKeyring([]byte("short")); err == nil {
		t.Error("NewKeyring accepted a 5-byte master secret")
	}
}

func TestLoadMaster(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	m1, fromFile, err := LoadMaster("", dir)
	if err != nil || !fromFile || len(m1) < MinMasterLen {
		t.Fatalf("first LoadMaster = %q, %v, %v", m1, fromFile, err)
	}
	st, err := os.Stat(filepath.Join(dir, MasterFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode = %v, %v; want 0600", st.Mode(), err)
	}
	m2, _, err := LoadMaster("", dir)
	if err != nil || !bytes.Equal(m1, m2) {
		t.Fatalf("second LoadMaster = %q, %v; want the stored %q", m2, err, m1)
	}
	configured := strings.Repeat("z", 40)
	m3, fromFile, err := LoadMaster(configured, dir)
	if err != nil || fromFile || string(m3) != configured {
		t.Fatalf("configured LoadMaster = %q, %v, %v", m3, fromFile, err)
	}
	if _, _, err := LoadMaster("too-short", dir); err == nil {
		t.Error("LoadMaster accepted a short configured secret")
	}
}
