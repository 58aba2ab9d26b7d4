package indicators

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/stixpattern"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// patterns holds the indicators whose STIX pattern is more than a list of
// values (the index cannot hold them): each event of a tenant they apply
// to is turned into cyber-observable objects and evaluated against them.
// An observation expression spanning several events (FOLLOWEDBY,
// REPEATS, WITHIN across events) cannot match one event.
type patterns struct {
	mu  sync.RWMutex
	all map[string]compiledPattern
}

type compiledPattern struct {
	ind intel.Indicator
	p   *stixpattern.Pattern
}

func newPatterns() *patterns { return &patterns{all: map[string]compiledPattern{}} }

// put adds, replaces or (revoked, or no pattern to evaluate) removes i.
func (ps *patterns) put(i intel.Indicator) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	delete(ps.all, i.ID)
	if i.Revoked || len(i.Observables) > 0 || i.Pattern == "" {
		return
	}
	p, err := stixpattern.Parse(i.Pattern)
	if err != nil {
		return // reported when it was imported
	}
	canonical(p.Root)
	ps.all[i.ID] = compiledPattern{ind: i, p: p}
}

// canonical rewrites a pattern's comparisons to compare values the way
// observed writes an event's: hash algorithm names as the STIX
// vocabulary spells them ("SHA256", "sha256" → "SHA-256") and hash values
// in lower case; domain names and e-mail addresses in lower case; URLs
// normalised as the index's (Normalize). Feeds write "file:hashes.SHA256 =
// 'AEC0…'" as often as the vocabulary's form, and a match must not depend
// on it. Only =, != and IN are rewritten; LIKE and MATCHES keep what the
// author wrote.
func canonical(e stixpattern.ObsExpr) {
	switch e := e.(type) {
	case *stixpattern.Observation:
		canonicalCmp(e.Cmp)
	case *stixpattern.ObsGroup:
		canonical(e.Expr)
	case *stixpattern.ObsBinary:
		canonical(e.Left)
		canonical(e.Right)
	case *stixpattern.Qualified:
		canonical(e.Expr)
	}
}

func canonicalCmp(e stixpattern.CmpExpr) {
	switch e := e.(type) {
	case *stixpattern.CmpGroup:
		canonicalCmp(e.Expr)
	case *stixpattern.CmpBinary:
		canonicalCmp(e.Left)
		canonicalCmp(e.Right)
	case *stixpattern.Comparison:
		kind := pathKind(e.Path)
		if kind == "" {
			return
		}
		if kind == "hash" {
			last := &e.Path.Steps[len(e.Path.Steps)-1]
			last.Key = hashAlgorithm(last.Key)
			if !hexHash[last.Key] {
				return // SSDEEP and the like: case matters
			}
		}
		switch e.Op {
		case stixpattern.OpEQ, stixpattern.OpNE, stixpattern.OpIn:
		default:
			return
		}
		e.Value = canonicalLiteral(kind, e.Value)
		for k := range e.Set {
			e.Set[k] = canonicalLiteral(kind, e.Set[k])
		}
	}
}

// pathKind says how values at path p are compared: "hash", "lower"
// (domain names, e-mail addresses), "url", or "" (as written).
func pathKind(p stixpattern.Path) string {
	n := len(p.Steps)
	if n == 0 {
		return ""
	}
	last := p.Steps[n-1]
	if last.Kind != stixpattern.StepKey {
		return ""
	}
	if n >= 2 && p.Steps[n-2].Kind == stixpattern.StepKey && p.Steps[n-2].Key == "hashes" {
		return "hash"
	}
	switch {
	case n == 1 && last.Key == "value" && (p.Type == "domain-name" || p.Type == "email-addr"):
		return "lower"
	case n == 1 && last.Key == "value" && p.Type == "url":
		return "url"
	case n >= 2 && last.Key == "value" && p.Type == "email-message":
		return "lower" // from_ref.value, sender_ref.value, to_refs[*].value
	}
	return ""
}

// hexHash are the algorithms whose values are hex digits, in either case.
var hexHash = map[string]bool{"MD5": true, "SHA-1": true, "SHA-224": true, "SHA-256": true, "SHA-384": true, "SHA-512": true, "SHA3-256": true, "SHA3-512": true}

// hashAlgorithm spells the common hash algorithms as the STIX vocabulary
// does; other names are kept.
func hashAlgorithm(k string) string {
	switch strings.NewReplacer("-", "", "_", "").Replace(strings.ToUpper(k)) {
	case "MD5":
		return "MD5"
	case "SHA1":
		return "SHA-1"
	case "SHA224":
		return "SHA-224"
	case "SHA256":
		return "SHA-256"
	case "SHA384":
		return "SHA-384"
	case "SHA512":
		return "SHA-512"
	case "SHA3256":
		return "SHA3-256"
	case "SHA3512":
		return "SHA3-512"
	}
	return k
}

func canonicalLiteral(kind string, l stixpattern.Literal) stixpattern.Literal {
	if l.Kind != stixpattern.LitString {
		return l
	}
	switch kind {
	case "hash", "lower":
		l.Str = strings.ToLower(l.Str)
	case "url":
		if u, err := intel.Normalize(intel.TypeURL, l.Str); err == nil {
			l.Str = u
		}
	}
	return l
}

func (ps *patterns) len() int {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	return len(ps.all)
}

// match returns the indicators whose pattern one event of tenant t
// matches.
func (ps *patterns) match(t tenant.ID, now time.Time, fields []event.Field) []intel.Indicator {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	if len(ps.all) == 0 {
		return nil
	}
	var od []stixpattern.ObservedData
	var out []intel.Indicator
	for _, c := range ps.all {
		if !c.ind.Active(now) || !c.ind.AppliesTo(t) {
			continue
		}
		if od == nil {
			od = []stixpattern.ObservedData{observed(fields, now)}
		}
		if ok, err := c.p.Match(od); err == nil && ok {
			out = append(out, c.ind)
		}
	}
	return out
}

// observed turns an event's Elastic Common Schema fields into the STIX
// cyber-observable objects of one observed-data: addresses, the network
// traffic between them, domain names, URLs, the file with its hashes, the
// process, e-mail addresses and message, the user account.
func observed(fields []event.Field, at time.Time) stixpattern.ObservedData {
	od := stixpattern.ObservedData{ID: "observed-data--event", FirstObserved: at, LastObserved: at, NumberObserved: 1, Objects: map[string]map[string]any{}}
	n := 0
	add := func(o map[string]any) string {
		k := strconv.Itoa(n)
		n++
		od.Objects[k] = o
		return k
	}
	get := map[string]string{}
	for _, f := range fields {
		if _, ok := get[f.Name]; !ok {
			get[f.Name] = f.Value
		}
	}
	first := func(names ...string) string {
		for _, name := range names {
			if v := get[name]; v != "" && v != "-" {
				return v
			}
		}
		return ""
	}
	addr := func(v string) string {
		if v == "" {
			return ""
		}
		typ := "ipv4-addr"
		if strings.Contains(v, ":") {
			typ = "ipv6-addr"
		}
		return add(map[string]any{"type": typ, "value": v})
	}
	src := addr(first("source.ip", "SourceIp", "client.ip"))
	dst := addr(first("destination.ip", "DestinationIp", "server.ip"))
	if src != "" || dst != "" {
		nt := map[string]any{"type": "network-traffic"}
		if src != "" {
			nt["src_ref"] = src
		}
		if dst != "" {
			nt["dst_ref"] = dst
		}
		for k, names := range map[string][]string{"src_port": {"source.port", "SourcePort"}, "dst_port": {"destination.port", "DestinationPort"}} {
			if p, err := strconv.Atoi(first(names...)); err == nil {
				nt[k] = p
			}
		}
		if p := first("network.transport", "Protocol"); p != "" {
			nt["protocols"] = []any{strings.ToLower(p)}
		}
		add(nt)
	}
	for _, name := range []string{"dns.question.name", "destination.domain", "url.domain", "QueryName", "DestinationHostname"} {
		if v := get[name]; v != "" {
			add(map[string]any{"type": "domain-name", "value": strings.ToLower(v)})
		}
	}
	if v := first("url.full", "url.original"); v != "" {
		if u, err := intel.Normalize(intel.TypeURL, v); err == nil {
			v = u
		}
		add(map[string]any{"type": "url", "value": v})
	}
	hashes := map[string]any{}
	for alg, names := range map[string][]string{"MD5": {"file.hash.md5", "process.hash.md5"}, "SHA-1": {"file.hash.sha1", "process.hash.sha1"}, "SHA-256": {"file.hash.sha256", "process.hash.sha256"}} {
		if v := first(names...); v != "" {
			hashes[alg] = strings.ToLower(v)
		}
	}
	for part := range strings.SplitSeq(first("Hashes", "Hash"), ",") {
		alg, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		switch strings.ToUpper(alg) {
		case "MD5":
			hashes["MD5"] = strings.ToLower(v)
		case "SHA1":
			hashes["SHA-1"] = strings.ToLower(v)
		case "SHA256":
			hashes["SHA-256"] = strings.ToLower(v)
		}
	}
	file := map[string]any{"type": "file"}
	if len(hashes) > 0 {
		file["hashes"] = hashes
	}
	if v := first("file.name"); v != "" {
		file["name"] = v
	}
	if v := first("file.size"); v != "" {
		if s, err := strconv.Atoi(v); err == nil {
			file["size"] = s
		}
	}
	if len(file) > 1 {
		add(file)
	}
	proc := map[string]any{"type": "process"}
	if v := first("process.command_line", "CommandLine"); v != "" {
		proc["command_line"] = v
	}
	if v, err := strconv.Atoi(first("process.pid", "ProcessId")); err == nil {
		proc["pid"] = v
	}
	if len(proc) > 1 {
		add(proc)
	}
	msg := map[string]any{"type": "email-message", "is_multipart": false}
	if v := first("email.from.address", "email.sender.address"); v != "" {
		msg["from_ref"] = add(map[string]any{"type": "email-addr", "value": strings.ToLower(v)})
	}
	if v := first("email.subject"); v != "" {
		msg["subject"] = v
	}
	if len(msg) > 2 {
		add(msg)
	}
	if v := first("user.name", "TargetUserName", "User"); v != "" {
		add(map[string]any{"type": "user-account", "account_login": v, "user_id": v})
	}
	return od
}
