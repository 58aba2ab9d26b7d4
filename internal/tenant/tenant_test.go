package tenant

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	good := []string{"ab", "council-1", "a1", "0x", "abcdefghijklmnopqrstuvwxyz012345"}
	for _, s := range good {
		if id, err := Parse(s); err != nil || string(id) != s {
			t.Errorf("Parse(%q) = %q, %v; want ok", s, id, err)
		}
	}
	bad := []string{"", "a", "A1", "-ab", "a_b", "a b", "abcdefghijklmnopqrstuvwxyz0123456", "é1", "*"}
	for _, s := range bad {
		if _, err := Parse(s); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Parse(%q) err = %v; want ErrInvalidID", s, err)
		}
	}
}
