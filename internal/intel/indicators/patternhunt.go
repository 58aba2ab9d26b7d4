package indicators

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/stixpattern"
)

// patternFields are the event fields observed reads for each object path a
// pattern can compare (the path as pathKey writes it, hash algorithms as
// canonical spells them), and the intel type of the value
// there, when it has one: a retro-hunt turns a pattern's comparisons into
// searches of these fields. They must be every field observed reads for
// the path (a test checks), or a search would miss events the live
// matcher matches.
var patternFields = map[string]struct {
	fields []string
	typ    intel.Type
}{
	"ipv4-addr:value":               {[]string{"source.ip", "SourceIp", "client.ip", "destination.ip", "DestinationIp", "server.ip"}, intel.TypeIPv4},
	"ipv6-addr:value":               {[]string{"source.ip", "SourceIp", "client.ip", "destination.ip", "DestinationIp", "server.ip"}, intel.TypeIPv6},
	"network-traffic:src_ref.value": {[]string{"source.ip", "SourceIp", "client.ip"}, intel.TypeIPv4},
	"network-traffic:dst_ref.value": {[]string{"destination.ip", "DestinationIp", "server.ip"}, intel.TypeIPv4},
	"network-traffic:src_port":      {[]string{"source.port", "SourcePort"}, ""},
	"network-traffic:dst_port":      {[]string{"destination.port", "DestinationPort"}, ""},
	"network-traffic:protocols[*]":  {[]string{"network.transport", "Protocol"}, ""},
	"domain-name:value":             {[]string{"dns.question.name", "destination.domain", "url.domain", "QueryName", "DestinationHostname"}, intel.TypeDomain},
	"url:value":                     {[]string{"url.full", "url.original"}, intel.TypeURL},
	"file:hashes.MD5":               {[]string{"file.hash.md5", "process.hash.md5", "Hashes", "Hash"}, intel.TypeMD5},
	"file:hashes.SHA-1":             {[]string{"file.hash.sha1", "process.hash.sha1", "Hashes", "Hash"}, intel.TypeSHA1},
	"file:hashes.SHA-256":           {[]string{"file.hash.sha256", "process.hash.sha256", "Hashes", "Hash"}, intel.TypeSHA256},
	"file:name":                     {[]string{"file.name"}, intel.TypeFileName},
	"file:size":                     {[]string{"file.size"}, ""},
	"process:command_line":          {[]string{"process.command_line", "CommandLine"}, ""},
	"process:pid":                   {[]string{"process.pid", "ProcessId"}, ""},
	"email-addr:value":              {[]string{"email.from.address", "email.sender.address"}, intel.TypeEmail},
	"email-message:from_ref.value":  {[]string{"email.from.address", "email.sender.address"}, intel.TypeEmail},
	"email-message:subject":         {[]string{"email.subject"}, intel.TypeEmailSubject},
	"user-account:account_login":    {[]string{"user.name", "TargetUserName", "User"}, ""},
	"user-account:user_id":          {[]string{"user.name", "TargetUserName", "User"}, ""},
}

// pathKey writes path p as patternFields names it: keys joined by dots,
// unquoted, [*] for any element ("file:hashes.SHA-256").
func pathKey(p stixpattern.Path) string {
	var b strings.Builder
	b.WriteString(p.Type + ":")
	for i, s := range p.Steps {
		switch s.Kind {
		case stixpattern.StepKey:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.Key)
		case stixpattern.StepIndex:
			b.WriteString("[" + strconv.FormatInt(s.Index, 10) + "]")
		case stixpattern.StepAny:
			b.WriteString("[*]")
		}
	}
	return b.String()
}

// patternHunt is the search of a pattern indicator's retro-hunt: a LogsQL
// query that every event the pattern matches satisfies (the matcher then
// checks each candidate exactly), or why there is none.
func patternHunt(pattern string) (string, error) {
	p, err := stixpattern.Parse(pattern)
	if err != nil {
		return "", fmt.Errorf("the pattern does not parse: %w", err)
	}
	canonical(p.Root)
	return obsQuery(p.Root)
}

// obsQuery is the query for observation expression e. One event is one
// observed-data: observations joined by AND or FOLLOWEDBY, or repeated,
// need several (STIX matches each observation with an observed-data of
// its own), so neither the live matcher nor a hunt, which both look at
// one event at a time, can match them; observations joined by OR each
// need their query.
func obsQuery(e stixpattern.ObsExpr) (string, error) {
	switch e := e.(type) {
	case *stixpattern.Observation:
		return cmpQuery(e.Cmp)
	case *stixpattern.ObsGroup:
		return obsQuery(e.Expr)
	case *stixpattern.Qualified:
		if e.Q.Kind == stixpattern.QualRepeats && e.Q.Repeats > 1 {
			return "", fmt.Errorf("%s needs several events, and events are matched one at a time", e.Q)
		}
		return obsQuery(e.Expr)
	case *stixpattern.ObsBinary:
		if e.Op != stixpattern.ObsOr {
			return "", fmt.Errorf("observations joined by %s need an event each, and events are matched one at a time", e.Op)
		}
		l, lerr := obsQuery(e.Left)
		r, rerr := obsQuery(e.Right)
		return join(false, l, lerr, r, rerr)
	}
	return "", fmt.Errorf("BUG: observation expression %T", e)
}

func cmpQuery(e stixpattern.CmpExpr) (string, error) {
	switch e := e.(type) {
	case *stixpattern.CmpGroup:
		return cmpQuery(e.Expr)
	case *stixpattern.CmpBinary:
		l, lerr := cmpQuery(e.Left)
		r, rerr := cmpQuery(e.Right)
		return join(e.And, l, lerr, r, rerr)
	case *stixpattern.Comparison:
		return comparisonQuery(e)
	}
	return "", fmt.Errorf("BUG: comparison expression %T", e)
}

// join joins the queries of two sides: with and, the two, or the one that
// has a query (what matches both matches either); with or, both must have
// one.
func join(and bool, l string, lerr error, r string, rerr error) (string, error) {
	switch {
	case and && lerr == nil && rerr == nil:
		return "(" + l + ") AND (" + r + ")", nil
	case and && lerr == nil:
		return l, nil
	case and && rerr == nil:
		return r, nil
	case lerr != nil:
		return "", lerr
	case rerr != nil:
		return "", rerr
	}
	return "(" + l + ") OR (" + r + ")", nil
}

// comparisonQuery is the query for one comparison: = or IN of a path the
// matcher knows.
func comparisonQuery(c *stixpattern.Comparison) (string, error) {
	path := pathKey(c.Path)
	pf, ok := patternFields[path]
	switch {
	case !ok:
		return "", fmt.Errorf("%s is not a property Tarian's events carry", path)
	case !c.Not && c.Op == stixpattern.OpIsSubset && (pf.typ == intel.TypeIPv4 || pf.typ == intel.TypeIPv6) && c.Value.Kind == stixpattern.LitString:
		// An address in a network: the event store's range filter.
		fn := "ipv4_range"
		if strings.Contains(c.Value.Str, ":") {
			fn = "ipv6_range"
		}
		var parts []string
		for _, f := range pf.fields {
			parts = append(parts, quoteField(f)+":"+fn+"("+c.Value.Str+")")
		}
		return strings.Join(parts, " OR "), nil
	case c.Not || c.Op != stixpattern.OpEQ && c.Op != stixpattern.OpIn:
		return "", fmt.Errorf("%s %s cannot be searched (only =, IN and ISSUBSET of an address can)", path, c.OpString())
	}
	vals := []stixpattern.Literal{c.Value}
	if c.Op == stixpattern.OpIn {
		vals = c.Set
	}
	var parts []string
	for _, l := range vals {
		var v string
		switch l.Kind {
		case stixpattern.LitString:
			v = l.Str
		case stixpattern.LitInt:
			v = strconv.FormatInt(l.Int, 10)
		default:
			return "", fmt.Errorf("%s compared with a %s cannot be searched", path, l.Kind)
		}
		if strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("%s compared with an empty value cannot be searched", path)
		}
		for _, f := range pf.fields {
			parts = append(parts, quoteField(f)+":i("+strconv.Quote(v)+")")
		}
	}
	return strings.Join(parts, " OR "), nil
}

// patternKey names an observable of pattern indicator i that the event
// (fields) holds, as the alert observables are named ("type:value"): the
// first value of an = or IN comparison found in a field of its path. A
// retro-hunt does not raise an event again that an alert of another rule
// holds with that observable. "" when there is none.
func patternKey(pattern string, fields []event.Field) string {
	p, err := stixpattern.Parse(pattern)
	if err != nil {
		return ""
	}
	canonical(p.Root)
	var key string
	var walkCmp func(stixpattern.CmpExpr)
	walkCmp = func(e stixpattern.CmpExpr) {
		switch e := e.(type) {
		case *stixpattern.CmpGroup:
			walkCmp(e.Expr)
		case *stixpattern.CmpBinary:
			walkCmp(e.Left)
			walkCmp(e.Right)
		case *stixpattern.Comparison:
			if key != "" || e.Not || e.Op != stixpattern.OpEQ && e.Op != stixpattern.OpIn {
				return
			}
			pf := patternFields[pathKey(e.Path)]
			if pf.typ == "" {
				return
			}
			vals := []stixpattern.Literal{e.Value}
			if e.Op == stixpattern.OpIn {
				vals = e.Set
			}
			for _, l := range vals {
				if l.Kind != stixpattern.LitString {
					continue
				}
				typ := pf.typ
				if typ == intel.TypeIPv4 && strings.Contains(l.Str, ":") {
					typ = intel.TypeIPv6
				}
				want, err := intel.Normalize(typ, l.Str)
				if err != nil {
					continue
				}
				for _, f := range fields {
					if slices.Contains(pf.fields, f.Name) && holdsValue(typ, f, want) {
						key = string(typ) + ":" + want
						return
					}
				}
			}
		}
	}
	var walk func(stixpattern.ObsExpr)
	walk = func(e stixpattern.ObsExpr) {
		switch e := e.(type) {
		case *stixpattern.Observation:
			walkCmp(e.Cmp)
		case *stixpattern.ObsGroup:
			walk(e.Expr)
		case *stixpattern.Qualified:
			walk(e.Expr)
		case *stixpattern.ObsBinary:
			walk(e.Left)
			walk(e.Right)
		}
	}
	walk(p.Root)
	return key
}

// holdsValue says whether event field f holds the value want (normalised
// as an observable of type typ): Sysmon's hash lists
// ("SHA256=…,MD5=…") hold it among others.
func holdsValue(typ intel.Type, f event.Field, want string) bool {
	if f.Name == "Hashes" || f.Name == "Hash" {
		for part := range strings.SplitSeq(f.Value, ",") {
			if _, v, ok := strings.Cut(part, "="); ok && strings.EqualFold(v, want) {
				return true
			}
		}
		return false
	}
	got, err := intel.Normalize(typ, f.Value)
	return err == nil && got == want
}
