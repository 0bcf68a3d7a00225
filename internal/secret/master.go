package secret

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MasterFile is the name of the generated development secret in the data
// directory.
const MasterFile = "secret"

// LoadMaster returns the master secret: configured when non-empty, else the
// development secret stored in dataDir, generated on first use. generated is
// true when the secret came from (or was written to) the data directory, so
// that the caller can warn loudly: a production deployment must set
// ORGID_SECRET and keep it safe, because losing it loses the signing keys.
func LoadMaster(configured, dataDir string) (master []byte, fromFile bool, err error) {
	if configured != "" {
		if len(configured) < MinMasterLen {
			return nil, false, fmt.Errorf("secret: ORGID_SECRET must be at least %d characters", MinMasterLen)
		}
		return []byte(configured), false, nil
	}
	path := filepath.Join(dataDir, MasterFile)
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < MinMasterLen {
			return nil, true, fmt.Errorf("secret: %s holds a secret shorter than %d characters", path, MinMasterLen)
		}
		return []byte(s), true, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, true, fmt.Errorf("secret: read %s: %w", path, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, true, err
	}
	s := base64.RawURLEncoding.EncodeToString(raw)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, true, fmt.Errorf("secret: create data directory: %w", err)
	}
	// O_EXCL: when two processes start at once, one wins and the other reads it.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadMaster("", dataDir)
	}
	if err != nil {
		return nil, true, fmt.Errorf("secret: write %s: %w", path, err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return nil, true, fmt.Errorf("secret: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, true, err
	}
	if err := f.Close(); err != nil {
		return nil, true, err
	}
	return []byte(s), true, nil
}
