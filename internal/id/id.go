// Package id makes the identifiers orgid gives its resources: a type prefix,
// an underscore and 22 base-62 characters, like "user_2pQ…". The first six
// bytes are the creation time in milliseconds, so ids sort by age; the other
// ten are random, so ids cannot be guessed or enumerated.
package id

import (
	"crypto/rand"
	"encoding/binary"
	"math/big"
	"strings"
	"time"
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// encodedLen is the length of a base-62 encoded 16-byte value.
const encodedLen = 22

// New returns a fresh identifier with the given prefix ("user", "org", …).
func New(prefix string) string {
	return NewAt(prefix, time.Now())
}

// NewAt returns a fresh identifier whose time part is t.
func NewAt(prefix string, t time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic("id: crypto/rand failed: " + err.Error())
	}
	return prefix + "_" + encode(b[:])
}

func encode(b []byte) string {
	n := new(big.Int).SetBytes(b)
	base := big.NewInt(62)
	mod := new(big.Int)
	out := make([]byte, encodedLen)
	for i := encodedLen - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = alphabet[mod.Int64()]
	}
	return string(out)
}

// HasPrefix reports whether s looks like an identifier of the given type.
func HasPrefix(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix+"_")
	if !ok || len(rest) != encodedLen {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(alphabet, rest[i]) < 0 {
			return false
		}
	}
	return true
}
