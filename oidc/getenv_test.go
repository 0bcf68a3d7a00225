package oidc_test

import (
	"encoding/base64"
	"os"
)

func getenv(k string) string { return os.Getenv(k) }

func base64URLDecode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
