package intel

import "testing"

func TestNormalizeDomainWildcard(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "*.Evil.Example", want: "evil.example"},
		{in: ".evil.example.", want: "evil.example"},
		{in: "*.sub.evil.example", want: "sub.evil.example"},
		{in: "evil*.example", err: `domain "evil*.example": a wildcard other than a leading "*." matches no host name (a domain indicator already matches its subdomains)`},
		{in: "*", err: `domain "*": empty host name`},
	} {
		got, err := Normalize(TypeDomain, tc.in)
		switch {
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
