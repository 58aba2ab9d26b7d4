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
	ps.all[i.ID] = compiledPattern{ind: i, p: p}
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
