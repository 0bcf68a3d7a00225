package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/orgid/orgid/internal/secret"
)

// PasswordParams are argon2id parameters.
type PasswordParams struct {
	// Memory in KiB.
	Memory uint32
	// Iterations (time cost).
	Iterations uint32
	// Parallelism (lanes).
	Parallelism uint8
	// SaltLength and KeyLength in bytes.
	SaltLength uint32
	KeyLength  uint32
}

// DefaultPasswordParams returns m=19456 KiB (19 MiB), t=2, p=1 with a
// 16-byte salt and a 32-byte hash: the minimum OWASP's Password Storage
// Cheat Sheet recommends for argon2id. The memory cost is what defeats GPU
// and ASIC guessing; we stay at the minimum because every sign-in pays it on
// a server that may run on two cores, and MaxConcurrentHashes bounds the
// memory that concurrent sign-ins hold. Raise it when the hardware allows;
// stored hashes are upgraded at the next sign-in.
func DefaultPasswordParams() PasswordParams {
	return PasswordParams{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}
}

// Bounds on parameters read from a stored hash, so that a crafted or
// corrupted row cannot make one verification take gigabytes or minutes.
const (
	maxMemory     = 1 << 20 // 1 GiB
	maxIterations = 64
	minSaltLen    = 8
	maxSaltLen    = 64
	minKeyLen     = 16
	maxKeyLen     = 64
)

func (p PasswordParams) validate() error {
	switch {
	case p.Parallelism < 1:
		return errors.New("argon2id: parallelism must be at least 1")
	case p.Memory < 8*uint32(p.Parallelism) || p.Memory > maxMemory:
		return fmt.Errorf("argon2id: memory %d KiB out of range", p.Memory)
	case p.Iterations < 1 || p.Iterations > maxIterations:
		return fmt.Errorf("argon2id: iterations %d out of range", p.Iterations)
	case p.SaltLength < minSaltLen || p.SaltLength > maxSaltLen:
		return fmt.Errorf("argon2id: salt length %d out of range", p.SaltLength)
	case p.KeyLength < minKeyLen || p.KeyLength > maxKeyLen:
		return fmt.Errorf("argon2id: key length %d out of range", p.KeyLength)
	}
	return nil
}

// HashPassword returns the PHC string of password under p:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, salt and hash in base64
// without padding.
func HashPassword(password string, p PasswordParams) (string, error) {
	if err := p.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("argon2id salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLength)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Iterations, p.Parallelism,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the PHC string encoded,
// comparing in constant time. The password is used exactly as given: no
// trimming, no case folding, no truncation. An error means encoded is not
// an argon2id hash this package can check.
func VerifyPassword(password, encoded string) (bool, error) {
	h, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.params.Iterations, h.params.Memory, h.params.Parallelism, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// NeedsRehash reports whether encoded was made with parameters other than p
// (or cannot be parsed), so that a successful sign-in should store a new
// hash.
func NeedsRehash(encoded string, p PasswordParams) bool {
	h, err := parsePHC(encoded)
	if err != nil {
		return true
	}
	return h.params.Memory != p.Memory || h.params.Iterations != p.Iterations ||
		h.params.Parallelism != p.Parallelism || uint32(len(h.salt)) != p.SaltLength ||
		uint32(len(h.key)) != p.KeyLength
}

type phcHash struct {
	params PasswordParams
	salt   []byte
	key    []byte
}

var errNotArgon2id = errors.New("not an argon2id PHC string")

// parsePHC reads $argon2id$v=19$m=M,t=T,p=P$salt$hash, refusing anything
// else and parameters outside the bounds above.
func parsePHC(s string) (phcHash, error) {
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phcHash{}, errNotArgon2id
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phcHash{}, fmt.Errorf("%w: unsupported version %q", errNotArgon2id, parts[2])
	}
	var h phcHash
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return phcHash{}, fmt.Errorf("%w: parameters %q", errNotArgon2id, parts[3])
	}
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(fields[i], name+"=")
		if !ok {
			return phcHash{}, fmt.Errorf("%w: parameters %q", errNotArgon2id, parts[3])
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || (v != "0" && v[0] == '0') {
			return phcHash{}, fmt.Errorf("%w: parameter %s=%q", errNotArgon2id, name, v)
		}
		switch name {
		case "m":
			h.params.Memory = uint32(n)
		case "t":
			h.params.Iterations = uint32(n)
		case "p":
			if n > 255 {
				return phcHash{}, fmt.Errorf("%w: parallelism %d", errNotArgon2id, n)
			}
			h.params.Parallelism = uint8(n)
		}
	}
	var err error
	if h.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil {
		return phcHash{}, fmt.Errorf("%w: salt: %v", errNotArgon2id, err)
	}
	if h.key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil {
		return phcHash{}, fmt.Errorf("%w: hash: %v", errNotArgon2id, err)
	}
	h.params.SaltLength, h.params.KeyLength = uint32(len(h.salt)), uint32(len(h.key))
	if err := h.params.validate(); err != nil {
		return phcHash{}, fmt.Errorf("%w: %v", errNotArgon2id, err)
	}
	return h, nil
}

// acquireHashSlot waits for one of the MaxConcurrentHashes slots.
func (s *Service) acquireHashSlot(ctx context.Context) (release func(), err error) {
	select {
	case s.hashSlot <- struct{}{}:
		return func() { <-s.hashSlot }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// hashPassword hashes with the service's parameters inside a slot.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	release, err := s.acquireHashSlot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return HashPassword(password, s.params)
}

// verifyPassword checks password against encoded inside a slot. When
// encoded is empty (unknown user, no password) it verifies against a dummy
// hash made with the current parameters and returns false, so that the
// answer takes as long as for a real account.
func (s *Service) verifyPassword(ctx context.Context, password, encoded string) (bool, error) {
	release, err := s.acquireHashSlot(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	if encoded == "" {
		s.dummyOnce.Do(func() {
			s.dummyHash, _ = HashPassword(secret.RandomString(16), s.params)
		})
		_, err := VerifyPassword(password, s.dummyHash)
		return false, err
	}
	return VerifyPassword(password, encoded)
}
