package notify

import (
	"net/netip"
	"testing"
)

// TestPublic: the addresses a tenant's channel may reach, including those
// an IPv6 transition address only hides (NAT64, 6to4, Teredo).
func TestPublic(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"203.0.113.9", true},
		{"2a00:1450:4009:81f::200e", true},
		{"127.0.0.1", false},
		{"10.1.2.3", false},
		{"169.254.169.254", false},
		{"100.64.0.1", false},
		{"::1", false},
		{"::ffff:127.0.0.1", false},
		{"fd00::1", false},
		{"fe80::1", false},
		// NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
		{"64:ff9b::7f00:1", false},
		{"64:ff9b::a9fe:a9fe", false},
		{"64:ff9b::c0a8:101", false},
		{"64:ff9b::cb00:7109", true},
		{"64:ff9b:1::1", false},
		// 6to4 (2002::/16) reaches the IPv4 address in bits 16 to 47.
		{"2002:7f00:1::1", false},
		{"2002:a00:1::1", false},
		{"2002:cb00:7109::1", true},
		// Teredo hides it.
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", false},
	} {
		if got := public(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("public(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}
