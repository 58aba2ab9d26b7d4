package match

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/tenant"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func ind(id string, t intel.Type, v string) intel.Indicator {
	n, err := intel.Normalize(t, v)
	if err != nil {
		panic(err)
	}
	return intel.Indicator{ID: id, TLP: intel.TLPAmber, ValidFrom: now.Add(-time.Hour), Observables: []intel.Observable{{Type: t, Value: n}}}
}

func uid(n int) string { return fmt.Sprintf("indicator--%08x-0000-4000-8000-%012x", n, n) }

func hits(x *Index, t tenant.ID, at time.Time, fs ...string) []string {
	var ev []event.Field
	for i := 0; i+1 < len(fs); i += 2 {
		ev = append(ev, event.Field{Name: fs[i], Value: fs[i+1]})
	}
	var out []string
	x.Match(t, at, ev, func(h Hit) {
		out = append(out, h.Indicator+" "+h.Field+" "+string(h.Observable.Type)+":"+h.Observable.Value)
	})
	slices.Sort(out)
	return out
}

func TestMatchKinds(t *testing.T) {
	x := New()
	x.Put(ind(uid(1), intel.TypeDomain, "Evil.Example."))
	x.Put(ind(uid(2), intel.TypeCIDR, "203.0.113.0/24"))
	x.Put(ind(uid(3), intel.TypeIPv6, "2001:db8:0:0::1"))
	x.Put(ind(uid(4), intel.TypeSHA256, "AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F"))
	x.Put(ind(uid(5), intel.TypeURL, "HTTP://Bad.Example:80/Path#frag"))
	x.Put(ind(uid(6), intel.TypeEmail, "Boss <CEO@phish.example>"))
	x.Put(ind(uid(7), intel.TypeMD5, "d41d8cd98f00b204e9800998ecf8427e"))
	x.Put(ind(uid(8), intel.TypeFileName, "Invoice.EXE"))
	x.Put(ind("custom-id-9", intel.TypeIPv4, "198.51.100.7"))
	cases := []struct {
		name string
		fs   []string
		want []string
	}{
		{"subdomain", []string{"dns.question.name", "WWW.evil.example"}, []string{uid(1) + " dns.question.name domain:evil.example"}},
		{"not a suffix", []string{"dns.question.name", "notevil.example"}, nil},
		{"cidr", []string{"destination.ip", "203.0.113.77"}, []string{uid(2) + " destination.ip cidr:203.0.113.0/24"}},
		{"related array", []string{"related.ip", `["10.0.0.1","203.0.113.9"]`}, []string{uid(2) + " related.ip cidr:203.0.113.0/24"}},
		{"ipv6 compressed", []string{"source.ip", "2001:0db8::0001"}, []string{uid(3) + " source.ip ipv6:2001:db8::1"}},
		{"sysmon hashes", []string{"Hashes", "SHA1=AAAA,MD5=D41D8CD98F00B204E9800998ECF8427E,SHA256=aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"},
			[]string{uid(4) + " Hashes sha256:aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f", uid(7) + " Hashes md5:d41d8cd98f00b204e9800998ecf8427e"}},
		{"url and its host", []string{"url.original", "http://bad.example/Path"}, []string{uid(5) + " url.original url:http://bad.example/Path"}},
		{"url host is a domain indicator", []string{"url.full", "https://cdn.evil.example/x"}, []string{uid(1) + " url.full domain:evil.example"}},
		{"sender and its domain", []string{"email.from.address", "ceo@PHISH.example"}, []string{uid(6) + " email.from.address email:ceo@phish.example"}},
		{"file path", []string{"TargetFilename", `C:\Users\a\Downloads\invoice.exe`}, []string{uid(8) + " TargetFilename filename:invoice.exe"}},
		{"non-uuid id", []string{"SourceIp", "198.51.100.7"}, []string{"custom-id-9 SourceIp ipv4:198.51.100.7"}},
		{"unknown field", []string{"message", "evil.example 203.0.113.1"}, nil},
	}
	for _, c := range cases {
		if got := hits(x, "a", now, c.fs...); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestMatchAudienceTLPAndLife(t *testing.T) {
	x := New()
	own := ind(uid(1), intel.TypeIPv4, "192.0.2.1")
	own.Owner, own.TLP = "a", intel.TLPRed
	x.Put(own)
	red := ind(uid(2), intel.TypeIPv4, "192.0.2.2")
	red.TLP = intel.TLPRed // provider's, audience all: restricted, applies to nobody
	x.Put(red)
	named := ind(uid(3), intel.TypeIPv4, "192.0.2.3")
	named.TLP, named.Audience = intel.TLPAmberStrict, []tenant.ID{"b"}
	x.Put(named)
	expired := ind(uid(4), intel.TypeIPv4, "192.0.2.4")
	expired.ValidUntil = now.Add(-time.Minute)
	x.Put(expired)
	future := ind(uid(5), intel.TypeIPv4, "192.0.2.5")
	future.ValidFrom = now.Add(time.Hour)
	x.Put(future)
	green := ind(uid(6), intel.TypeIPv4, "192.0.2.6")
	green.TLP = intel.TLPGreen
	x.Put(green)

	fs := func(ip string) []string { return []string{"source.ip", ip} }
	check := func(tn tenant.ID, ip string, want bool) {
		t.Helper()
		got := len(hits(x, tn, now, fs(ip)...)) > 0
		if got != want {
			t.Errorf("tenant %s, %s: matched %v, want %v", tn, ip, got, want)
		}
		// The slow rule in package intel must agree with the index.
	}
	check("a", "192.0.2.1", true)
	check("b", "192.0.2.1", false)
	check("a", "192.0.2.2", false)
	check("b", "192.0.2.3", true)
	check("a", "192.0.2.3", false)
	check("new-tenant", "192.0.2.3", false)
	check("a", "192.0.2.4", false)
	check("a", "192.0.2.5", false)
	check("a", "192.0.2.6", true)
	check("never-seen", "192.0.2.6", true)
	for _, i := range []intel.Indicator{own, red, named, green} {
		for _, tn := range []tenant.ID{"a", "b"} {
			if got, want := len(hits(x, tn, now, fs(i.Observables[0].Value)...)) > 0, i.AppliesTo(tn); got != want {
				t.Errorf("%s for %s: index says %v, intel.AppliesTo %v", i.ID, tn, got, want)
			}
		}
	}

	// Revoking and replacing.
	green.Revoked = true
	x.Put(green)
	check("a", "192.0.2.6", false)
	moved := ind(uid(1), intel.TypeIPv4, "192.0.2.9")
	moved.Owner = "a"
	x.Put(moved)
	check("a", "192.0.2.1", false)
	check("a", "192.0.2.9", true)
	x.Remove(uid(1))
	check("a", "192.0.2.9", false)
	// Held: red, named, expired, future (own removed, green revoked).
	if x.Len() != 4 {
		t.Errorf("Len = %d, want 4", x.Len())
	}
}

// event10 is an event with ten observable fields among ordinary ones.
func event10(i int) []event.Field {
	return []event.Field{
		{Name: "@timestamp", Value: "2026-12-01T12:00:00Z"}, {Name: "host.name", Value: "ws-01"},
		{Name: "source.ip", Value: fmt.Sprintf("10.1.%d.%d", i>>8&255, i&255)},
		{Name: "destination.ip", Value: fmt.Sprintf("203.%d.%d.9", i>>8&255, i&255)},
		{Name: "related.ip", Value: fmt.Sprintf(`["10.1.%d.%d","203.%d.%d.9"]`, i>>8&255, i&255, i>>8&255, i&255)},
		{Name: "dns.question.name", Value: fmt.Sprintf("cdn%d.host%d.example.com", i, i%977)},
		{Name: "url.original", Value: fmt.Sprintf("https://host%d.example.com/a/b?c=%d", i%977, i)},
		{Name: "email.from.address", Value: fmt.Sprintf("user%d@mail%d.example", i, i%13)},
		{Name: "email.subject", Value: "Invoice overdue"},
		{Name: "file.hash.sha256", Value: fmt.Sprintf("%064x", i)},
		{Name: "file.hash.md5", Value: fmt.Sprintf("%032x", i)},
		{Name: "file.name", Value: "report.pdf"},
		{Name: "user.name", Value: "alice"}, {Name: "event.action", Value: "connection"},
	}
}

// fill adds n indicators of a realistic mix: hashes, domains, addresses,
// URLs, CIDRs.
func fill(x *Index, n int) {
	for i := range n {
		var t intel.Type
		var v string
		switch i % 10 {
		case 0, 1, 2:
			t, v = intel.TypeSHA256, fmt.Sprintf("%064x", i+1<<40)
		case 3:
			t, v = intel.TypeMD5, fmt.Sprintf("%032x", i+1<<40)
		case 4, 5:
			t, v = intel.TypeDomain, fmt.Sprintf("bad%d.example.net", i)
		case 6, 7:
			t, v = intel.TypeIPv4, fmt.Sprintf("198.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		case 8:
			t, v = intel.TypeURL, fmt.Sprintf("http://bad%d.example.org/p", i)
		default:
			t, v = intel.TypeCIDR, fmt.Sprintf("100.%d.%d.0/24", i>>16&255, i>>8&255)
		}
		x.Put(intel.Indicator{ID: uid(i), TLP: intel.TLPAmber, ValidFrom: now.Add(-time.Hour), Observables: []intel.Observable{{Type: t, Value: v}}})
	}
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkIndex1M reports the memory of one million indicators and the
// cost of matching an event with ten observable fields against them.
func BenchmarkIndex1M(b *testing.B) {
	before := heap()
	start := time.Now()
	x := New()
	fill(x, 1_000_000)
	load := time.Since(start)
	after := heap()
	evs := make([][]event.Field, 1024)
	for i := range evs {
		evs[i] = event10(i)
	}
	b.ResetTimer()
	n := 0
	for i := 0; b.Loop(); i++ {
		x.Match("a", now, evs[i&1023], func(Hit) { n++ })
	}
	b.ReportMetric(float64(after-before)/1e6, "bytes/indicator")
	b.ReportMetric(load.Seconds(), "load-s")
	runtime.KeepAlive(x)
}

// The event path's URL shortcut must agree with intel.Normalize.
func TestCanonicalURL(t *testing.T) {
	for _, u := range []string{
		"https://host.example/a/b?c=1", "HTTPS://Host.Example/a", "http://host.example:80/x", "http://host.example",
		"http://host.example/%7Euser", "http://host.example./a", "http://h.example/a#frag", "http://[2001:DB8::1]/a",
		"http://user@host.example/a", "host.example/a", "http://h.example/a?", "ftp://files.example/f.zip",
	} {
		want, werr := intel.Normalize(intel.TypeURL, u)
		got, ok := canonicalURL(u)
		if ok != (werr == nil) || got != want {
			t.Errorf("canonicalURL(%q) = %q, %v; Normalize = %q, %v", u, got, ok, want, werr)
		}
	}
}
