package auth

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// RFC 6238 appendix B: the SHA-1 vectors, 8 digits, with the 20-byte ASCII
// seed "12345678901234567890".
func TestTOTPRFC6238Vectors(t *testing.T) {
	seed := []byte("12345678901234567890")
	for _, tt := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		if got := TOTPCode(seed, TOTPStep(time.Unix(tt.unix, 0)), 8); got != tt.want {
			t.Errorf("T=%d: %s, want %s", tt.unix, got, tt.want)
		}
		// Six digits are the last six of the eight.
		if got := TOTPCode(seed, TOTPStep(time.Unix(tt.unix, 0)), 6); got != tt.want[2:] {
			t.Errorf("T=%d six digits: %s, want %s", tt.unix, got, tt.want[2:])
		}
	}
}

func TestVerifyTOTPWindowAndReplay(t *testing.T) {
	secret := NewTOTPSecret()
	now := time.Unix(1_800_000_000, 0)
	cur := TOTPStep(now)
	for _, tt := range []struct {
		step, last int64
		ok         bool
	}{
		{cur, 0, true},
		{cur - 1, 0, true},
		{cur + 1, 0, true},
		{cur - 2, 0, false},
		{cur + 2, 0, false},
		{cur, cur, false},     // replayed
		{cur - 1, cur, false}, // older than the last accepted
		{cur + 1, cur, true},
	} {
		step, ok := VerifyTOTP(secret, TOTPCode(secret, tt.step, 6), now, tt.last)
		if ok != tt.ok || ok && step != tt.step {
			t.Errorf("step %+d last %+d: %d, %v; want %v", tt.step-cur, tt.last-cur, step-cur, ok, tt.ok)
		}
	}
	if _, ok := VerifyTOTP(secret, "12345", now, 0); ok {
		t.Error("five digits accepted")
	}
}

func TestTOTPURI(t *testing.T) {
	secret, _ := hex.DecodeString("3132333435363738393031323334353637383930")
	got := TOTPURI(secret, "Tarian", "alice")
	want := "otpauth://totp/Tarian:alice?algorithm=SHA1&digits=6&issuer=Tarian&period=30&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	if got != want {
		t.Errorf("URI\n%s\nwant\n%s", got, want)
	}
}

func TestPasswordHash(t *testing.T) {
	p := PasswordParams{Memory: 64, Time: 1, Threads: 1} // cheap for the test
	h := HashPassword("s3cret pass", p)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q", h)
	}
	if ok, err := VerifyPassword("s3cret pass", h); !ok || err != nil {
		t.Errorf("right password: %v, %v", ok, err)
	}
	if ok, _ := VerifyPassword("s3cret pasS", h); ok {
		t.Error("wrong password accepted")
	}
	if HashPassword("s3cret pass", p) == h {
		t.Error("two hashes of one password are equal (no salt)")
	}
	// Stored parameters win: a hash made with other parameters verifies.
	h2 := HashPassword("x", PasswordParams{Memory: 128, Time: 2, Threads: 2})
	if ok, err := VerifyPassword("x", h2); !ok || err != nil {
		t.Errorf("other parameters: %v, %v", ok, err)
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaA"} {
		if _, err := VerifyPassword("x", bad); err == nil {
			t.Errorf("bad hash %q accepted", bad)
		}
	}
}

func TestParseSessionID(t *testing.T) {
	id, hash := NewSessionID()
	if got, ok := ParseSessionID(id); !ok || got != id || string(Hash(id)) != string(hash) {
		t.Errorf("ParseSessionID(%q) = %q, %v", id, got, ok)
	}
	for _, bad := range []string{"", "short", id + "A", strings.Repeat("+", 43), id[:42] + "="} {
		if _, ok := ParseSessionID(bad); ok {
			t.Errorf("ParseSessionID(%q) accepted", bad)
		}
	}
}

func TestCanManageUser(t *testing.T) {
	admin := Principal{Role: RoleTenantAdmin, Tenant: "a"}
	for _, tt := range []struct {
		u    User
		want bool
	}{
		{User{Tenant: "a", Role: RoleTenantAdmin}, true},
		{User{Tenant: "a", Role: RoleTenantViewer}, true},
		{User{Tenant: "b", Role: RoleTenantViewer}, false},
		{User{Role: RoleProviderAnalyst}, false},
	} {
		if got := admin.CanManageUser(tt.u); got != tt.want {
			t.Errorf("tenant admin of a managing %+v = %v", tt.u, got)
		}
	}
	if !(Principal{Role: RoleProviderAdmin}).CanManageUser(User{Role: RoleProviderAdmin}) {
		t.Error("provider-admin cannot manage a provider-admin")
	}
	if (Principal{Role: RoleTenantAnalyst, Tenant: "a"}).CanManageUser(User{Tenant: "a", Role: RoleTenantViewer}) {
		t.Error("tenant-analyst manages users")
	}
	if err := (User{Name: "i", Tenant: "a", Role: RoleIngest}).Validate(); err == nil {
		t.Error("ingest user accepted")
	}
	for _, name := range []string{"", ".x", "a b", strings.Repeat("a", 65)} {
		if ValidUserName(name) == nil {
			t.Errorf("user name %q accepted", name)
		}
	}
}

func FuzzParseSessionID(f *testing.F) {
	id, _ := NewSessionID()
	f.Add(id)
	f.Add("")
	f.Add(strings.Repeat("A", 43))
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseSessionID(s)
		if ok && (got != s || len(s) != 43) {
			t.Fatalf("ParseSessionID(%q) = %q, %v", s, got, ok)
		}
	})
}

func FuzzParseTOTPCode(f *testing.F) {
	for _, s := range []string{"123456", " 123 456 ", "12345", "abcdef", "１２３４５６"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseTOTPCode(s)
		if err != nil {
			return
		}
		if len(c) != 6 || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("ParseTOTPCode(%q) = %q", s, c)
		}
		if _, ok := VerifyTOTP([]byte("12345678901234567890"), s, time.Unix(59, 0), 0); ok && c != "287082" && c != TOTPCode([]byte("12345678901234567890"), 0, 6) && c != TOTPCode([]byte("12345678901234567890"), 2, 6) {
			t.Fatalf("code %q verified", s)
		}
	})
}

func FuzzVerifyPassword(f *testing.F) {
	f.Add(HashPassword("x", PasswordParams{Memory: 8, Time: 1, Threads: 1}))
	f.Add("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Fuzz(func(t *testing.T, s string) {
		// Stored hashes are ours, but a corrupted row must not panic or
		// cost unbounded memory (decodeHash bounds the parameters).
		if p, _, _, err := decodeHash(s); err == nil && p.Memory > 1<<16 {
			return
		}
		VerifyPassword("x", s)
	})
}
