package stixpattern

import (
	"fmt"
	"testing"
)

func BenchmarkParse(b *testing.B) {
	const src = `[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' AND file:name MATCHES '^Final Report.+\\.exe$'] FOLLOWEDBY [network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24'] WITHIN 300 SECONDS`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Validate(src, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatchSimple(b *testing.B) {
	var entries []string
	for i := range 100 {
		entries = append(entries, fmt.Sprintf(`2020-01-01T00:%02d:%02dZ|1|{"type":"ipv4-addr","value":"10.0.%d.%d"}`, i/60, i%60, i/256, i%256))
	}
	obs, err := DecodeObservedData([]byte(bundle(entries...)))
	if err != nil {
		b.Fatal(err)
	}
	p, err := Parse(`[ipv4-addr:value = '10.0.0.99']`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ok, err := p.Match(obs)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
