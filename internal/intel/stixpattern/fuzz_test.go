package stixpattern

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']`,
		`([a:b = 1] AND [a:c[*].d NOT IN (1, 2.5, 'x')]) WITHIN 5 SECONDS REPEATS 2 TIMES`,
		`[a:b = t'2020-01-01T00:00:00Z'] START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'`,
		`[a:b MATCHES '\\d+' OR NOT EXISTS a:c] FOLLOWEDBY [a:d = h'00' OR a:e = b'AA==']`,
		`[a:'b\'c'[-1] LIKE '%'] /* c */ // d`,
	} {
		f.Add(s)
	}
	if root := os.Getenv("TARIAN_CORPUS"); root != "" {
		for _, name := range []string{"valid.txt", "invalid.txt"} {
			if fh, err := os.Open(filepath.Join(root, "intel", "stix-patterns", name)); err == nil {
				sc := bufio.NewScanner(fh)
				for sc.Scan() {
					if l := sc.Text(); !strings.HasPrefix(l, "#") {
						f.Add(l)
					}
				}
				fh.Close()
			}
		}
	}
	obs, err := DecodeObservedData([]byte(bundle(
		`2020-01-01T00:00:00Z|2|{"type":"a","b":1,"c":[{"d":"x"},2.5],"e_ref":"x--1","f_hex":"00ff","g":"10.0.0.1"}`,
		`2020-01-01T00:00:05Z|1|{"type":"file","name":"n","hashes":{"MD5":"cead3f77f6cda6ec00f57d76c9a6879f"},"t":"2020-01-01T00:00:00Z"}`,
	)))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Parse(src)
		if err != nil {
			return
		}
		_ = p.Check(Options{Strict: true})
		_ = p.Inspect()
		_, _ = p.Equalities()
		s1 := p.String()
		p2, err := Parse(s1)
		if err != nil {
			t.Fatalf("String() of %q does not parse: %q: %v", src, s1, err)
		}
		if s2 := p2.String(); s1 != s2 {
			t.Fatalf("round trip unstable for %q:\n %q\n %q", src, s1, s2)
		}
		_, _ = p.MatchOptions(obs, MatchOptions{MaxSteps: 1000})
	})
}
