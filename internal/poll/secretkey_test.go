package poll

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSecretKey(t *testing.T) {
	dir := t.TempDir()
	if _, err := SecretKey(dir, ""); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("no key file: %v, want ErrNotExist (SecretKey never creates one)", err)
	}
	if _, err := OpenBox(dir, ""); err != nil { // creates the file
		t.Fatal(err)
	}
	k, err := SecretKey(dir, "")
	if err != nil || len(k) != 32 {
		t.Fatalf("SecretKey(file) = %d bytes, %v", len(k), err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	if want, _ := hex.DecodeString(string(bytes.TrimSpace(b))); !bytes.Equal(k, want) {
		t.Error("SecretKey is not the key file's key")
	}
	env := bytes.Repeat([]byte{5}, 32)
	if k, err := SecretKey(dir, hex.EncodeToString(env)); err != nil || !bytes.Equal(k, env) {
		t.Errorf("SecretKey(env) = %x, %v: the variable wins over the file", k, err)
	}
	if _, err := SecretKey(dir, "short"); err == nil {
		t.Error("a bad TARIAN_SECRET_KEY is accepted")
	}
}
