package poll

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SecretKey returns the server's 32-byte secret key without creating it:
// key when set (TARIAN_SECRET_KEY), else the key file in dir. Other
// components derive their own keys from it (the audit checkpoint key).
func SecretKey(dir, key string) ([]byte, error) {
	if key = strings.TrimSpace(key); key != "" {
		return decodeKey(key)
	}
	path := filepath.Join(dir, KeyFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	k, err := decodeKey(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return k, nil
}
