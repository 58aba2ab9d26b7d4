package match

import (
	"net/netip"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// kind is how an event field's value is looked up.
type kind uint8

const (
	kindIP kind = iota + 1
	kindDomain
	kindURL
	kindEmail
	kindSubject
	kindMD5
	kindSHA1
	kindSHA256
	kindHashes // Sysmon's "SHA1=…,MD5=…,SHA256=…,IMPHASH=…"
	kindFileName
	kindPath // a file path whose base name is looked up
)

// fields maps the event fields the matcher reads to how: the Elastic
// Common Schema layer every parser writes, and the Windows native names
// Sigma rules use (Sysmon network, DNS and image-load events).
var fields = map[string]kind{
	"source.ip": kindIP, "destination.ip": kindIP, "client.ip": kindIP, "server.ip": kindIP,
	"related.ip": kindIP, "source.nat.ip": kindIP, "destination.nat.ip": kindIP,
	"SourceIp": kindIP, "DestinationIp": kindIP, "IpAddress": kindIP,
	"dns.question.name": kindDomain, "destination.domain": kindDomain, "source.domain": kindDomain,
	"url.domain": kindDomain, "server.domain": kindDomain, "client.domain": kindDomain,
	"related.hosts": kindDomain, "QueryName": kindDomain, "DestinationHostname": kindDomain,
	"url.full": kindURL, "url.original": kindURL,
	"email.from.address": kindEmail, "email.sender.address": kindEmail, "email.reply_to.address": kindEmail,
	"email.subject": kindSubject,
	"file.hash.md5": kindMD5, "process.hash.md5": kindMD5, "dll.hash.md5": kindMD5,
	"file.hash.sha1": kindSHA1, "process.hash.sha1": kindSHA1, "dll.hash.sha1": kindSHA1,
	"file.hash.sha256": kindSHA256, "process.hash.sha256": kindSHA256, "dll.hash.sha256": kindSHA256,
	"related.hash": kindHashes, "Hashes": kindHashes, "Hash": kindHashes,
	"file.name": kindFileName, "TargetFilename": kindPath,
}

// Fields lists the event fields the matcher reads (for documentation and
// the retro-hunt's queries).
func Fields() []string {
	out := make([]string, 0, len(fields))
	for f := range fields {
		out = append(out, f)
	}
	return out
}

// FieldsFor returns the event fields an observable of type t can be found
// in.
func FieldsFor(t intel.Type) []string {
	var out []string
	for f, k := range fields {
		if kindHolds(k, t) {
			out = append(out, f)
		}
	}
	return out
}

func kindHolds(k kind, t intel.Type) bool {
	switch t {
	case intel.TypeIPv4, intel.TypeIPv6, intel.TypeCIDR:
		return k == kindIP
	case intel.TypeDomain:
		return k == kindDomain || k == kindURL || k == kindEmail
	case intel.TypeURL:
		return k == kindURL
	case intel.TypeEmail:
		return k == kindEmail
	case intel.TypeEmailSubject:
		return k == kindSubject
	case intel.TypeMD5:
		return k == kindMD5 || k == kindHashes
	case intel.TypeSHA1:
		return k == kindSHA1 || k == kindHashes
	case intel.TypeSHA256:
		return k == kindSHA256 || k == kindHashes
	case intel.TypeFileName:
		return k == kindFileName || k == kindPath
	}
	return false
}

// Match calls fn for each indicator that applies to tenant t at now and
// that one of the event's fields matches. One event may hit one indicator
// through several fields; fn sees each (indicator, field) once.
func (x *Index) Match(t tenant.ID, now time.Time, fs []event.Field, fn func(Hit)) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.live == 0 {
		return
	}
	ref, known := x.tenantIdx[t]
	v := viewer{ref: ref, known: known, now: unix32(now)}
	for i := range fs {
		k, ok := fields[fs[i].Name]
		if !ok {
			continue
		}
		val := fs[i].Value
		if len(val) > 0 && val[0] == '[' {
			eachJSONString(val, func(s string) { x.matchValue(v, k, fs[i].Name, s, fn) })
			continue
		}
		x.matchValue(v, k, fs[i].Name, val, fn)
	}
}

func (x *Index) matchValue(v viewer, k kind, field, val string, fn func(Hit)) {
	if val == "" || val == "-" {
		return
	}
	switch k {
	case kindIP:
		x.matchIP(v, field, val, fn)
	case kindDomain:
		x.matchDomain(v, field, val, fn)
	case kindURL:
		u, ok := canonicalURL(val)
		if !ok {
			return
		}
		x.lookup(v, intel.TypeURL, u, field, val, fn)
		if host := intel.URLHost(u); host != "" {
			if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
				x.matchAddr(v, field, val, a, fn)
			} else {
				x.matchDomain(v, field, host, fn)
			}
		}
	case kindEmail:
		e := lower(strings.TrimSpace(val))
		x.lookup(v, intel.TypeEmail, e, field, val, fn)
		if _, d, ok := strings.Cut(e, "@"); ok {
			x.matchDomain(v, field, d, fn)
		}
	case kindSubject:
		x.lookup(v, intel.TypeEmailSubject, strings.TrimSpace(val), field, val, fn)
	case kindMD5:
		x.lookup(v, intel.TypeMD5, lower(val), field, val, fn)
	case kindSHA1:
		x.lookup(v, intel.TypeSHA1, lower(val), field, val, fn)
	case kindSHA256:
		x.lookup(v, intel.TypeSHA256, lower(val), field, val, fn)
	case kindHashes:
		x.matchHashes(v, field, val, fn)
	case kindFileName:
		x.lookup(v, intel.TypeFileName, lower(val), field, val, fn)
	case kindPath:
		base := val
		if i := strings.LastIndexAny(base, `\/`); i >= 0 {
			base = base[i+1:]
		}
		x.lookup(v, intel.TypeFileName, lower(base), field, val, fn)
	}
}

// matchHashes reads "ALG=hex,ALG=hex" or a bare hex value, typed by its
// length.
func (x *Index) matchHashes(v viewer, field, val string, fn func(Hit)) {
	for part := range strings.SplitSeq(val, ",") {
		if _, h, ok := strings.Cut(part, "="); ok {
			part = h
		}
		part = strings.TrimSpace(part)
		switch len(part) {
		case 32:
			x.lookup(v, intel.TypeMD5, lower(part), field, val, fn)
		case 40:
			x.lookup(v, intel.TypeSHA1, lower(part), field, val, fn)
		case 64:
			x.lookup(v, intel.TypeSHA256, lower(part), field, val, fn)
		}
	}
}

func (x *Index) matchIP(v viewer, field, val string, fn func(Hit)) {
	a, err := netip.ParseAddr(val)
	if err != nil {
		return
	}
	x.matchAddr(v, field, val, a, fn)
}

func (x *Index) matchAddr(v viewer, field, val string, a netip.Addr, fn func(Hit)) {
	a = a.Unmap().WithZone("")
	fam := 0
	t := intel.TypeIPv4
	if a.Is6() {
		fam, t = 1, intel.TypeIPv6
	}
	x.walk(v, x.get(x.addrKey(a)), t, func(id string) {
		fn(Hit{Indicator: id, Observable: intel.Observable{Type: t, Value: a.String()}, Field: field, Value: val})
	})
	bits := x.prefixBits[fam]
	max := 32
	if fam == 1 {
		max = 128
	}
	for b := 0; b <= max; b++ {
		if bits[b/64]&(1<<(b%64)) == 0 {
			continue
		}
		p, err := a.Prefix(b)
		if err != nil {
			continue
		}
		q := p
		if fam == 0 {
			q = netip.PrefixFrom(netip.AddrFrom16(p.Addr().As16()), b)
		}
		x.walk(v, x.get(x.prefixKey(q)), intel.TypeCIDR, func(id string) {
			fn(Hit{Indicator: id, Observable: intel.Observable{Type: intel.TypeCIDR, Value: p.String()}, Field: field, Value: val})
		})
	}
}

// matchDomain looks up the name and each parent domain: an indicator for
// evil.example matches www.evil.example.
func (x *Index) matchDomain(v viewer, field, val string, fn func(Hit)) {
	d := lower(strings.TrimSuffix(strings.TrimSpace(val), "."))
	for {
		i := strings.IndexByte(d, '.')
		if i < 0 {
			return // a top-level label alone indicates nothing
		}
		x.lookup(v, intel.TypeDomain, d, field, val, fn)
		d = d[i+1:]
	}
}

func (x *Index) lookup(v viewer, t intel.Type, norm, field, val string, fn func(Hit)) {
	x.walk(v, x.get(x.key(t, norm)), t, func(id string) {
		fn(Hit{Indicator: id, Observable: intel.Observable{Type: t, Value: norm}, Field: field, Value: val})
	})
}

// get returns the first posting of key k, checking the filter first.
func (x *Index) get(k uint64) uint32 {
	if x.filter[k>>filterShift]&(1<<(k&63)) == 0 {
		return 0
	}
	return x.keys[k]
}

func (x *Index) walk(v viewer, p uint32, t intel.Type, fn func(id string)) {
	for p != 0 {
		ps := &x.postings[p-1]
		p = ps.next
		if ps.typ != t {
			continue
		}
		s := &x.slots[ps.slot]
		if x.applies(s, v) {
			fn(x.idOf(s))
		}
	}
}

// lower lower-cases s, without allocating when it has no upper case.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// eachJSONString calls fn with each string of a JSON array of strings (how
// array-valued fields are stored); escapes are rare in addresses, names
// and hashes and such elements are skipped.
func eachJSONString(s string, fn func(string)) {
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			return
		}
		s = s[i+1:]
		j := strings.IndexByte(s, '"')
		if j < 0 {
			return
		}
		if !strings.Contains(s[:j], `\`) {
			fn(s[:j])
		}
		s = s[j+1:]
	}
}

// canonicalURL is intel.Normalize for URLs, with a path that allocates
// nothing for the common case: a lower-case scheme and host, no port,
// escapes or fragment, and a path.
func canonicalURL(s string) (string, bool) {
	i := strings.Index(s, "://")
	if i <= 0 {
		u, err := intel.Normalize(intel.TypeURL, s)
		return u, err == nil
	}
	rest := s[i+3:]
	end := strings.IndexAny(rest, "/?#")
	simple := end >= 0 && rest[end] == '/' && !strings.ContainsAny(s, "%#") && s[len(s)-1] != '?'
	for j := 0; simple && j < i; j++ {
		simple = s[j] >= 'a' && s[j] <= 'z'
	}
	for j := 0; simple && j < end; j++ {
		c := rest[j]
		simple = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
	}
	if simple && end > 0 && rest[end-1] != '.' {
		return s, true
	}
	u, err := intel.Normalize(intel.TypeURL, s)
	return u, err == nil
}
