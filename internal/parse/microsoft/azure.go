package microsoft

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// parseTime reads the times Microsoft records carry: ISO 8601 (with or
// without a zone; none means UTC) and the US forms Azure services also
// write ("1/9/2007 10:41:00 AM +01:00", "1/9/2007 9:41:00 AM",
// "01/09/2007 09:41:00"). The result is cut to milliseconds, as
// Elasticsearch's date processor keeps it.
func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if s[0] >= '0' && s[0] <= '9' && len(s) >= 10 && s[4] == '-' {
		if t, ok := ecs.ParseTime(s); ok {
			return t.Truncate(time.Millisecond), true
		}
		return time.Time{}, false
	}
	if strings.IndexByte(s, '/') < 0 {
		return time.Time{}, false
	}
	for _, layout := range usLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Millisecond), true
		}
	}
	return time.Time{}, false
}

var usLayouts = []string{
	"1/2/2006 3:04:05 PM -07:00",
	"1/2/2006 3:04:05 PM",
	"1/2/2006 15:04:05",
}

// timeValue reads a time from a JSON string or epoch number.
func timeValue(v *fastjson.Value) (time.Time, bool) {
	if v == nil {
		return time.Time{}, false
	}
	switch v.Type() {
	case fastjson.TypeString:
		return parseTime(string(v.GetStringBytes()))
	case fastjson.TypeNumber:
		return ecs.ParseTime(v.String())
	}
	return time.Time{}, false
}

// parseIP reports whether s is an IP address as Elasticsearch's ip type
// takes it, and returns its canonical text.
func parseIP(s string) (string, bool) {
	if s == "" || len(s) > 64 {
		return "", false
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return "", false
	}
	if a.Is4() {
		return s, true // dotted decimal parses only in its canonical form
	}
	if a.Is4In6() {
		// Elasticsearch prints ::ffff:a.b.c.d as a.b.c.d.
		return a.Unmap().String(), true
	}
	var buf [48]byte
	if c := a.AppendTo(buf[:0]); string(c) != s {
		return string(c), true
	}
	return s, true
}

// resource adds the fields Elastic's azure shared pipeline takes from a
// resource ID: azure.resource.id and, as its grok patterns find them,
// azure.subscription_id, azure.resource.group, .provider, .name,
// .namespace and .authorization_rule. Literal segments match in any case.
func resource(o *out, id string) {
	if id == "" {
		return
	}
	o.addString("azure.resource.id", id)
	// The segments' bounds in id, the last holding the rest.
	var lo, hi [11]int
	n, i := 0, 0
	if strings.HasPrefix(id, "/") {
		i = 1
	}
	for n < len(lo) && i <= len(id) {
		j := strings.IndexByte(id[i:], '/')
		if j < 0 || n == len(lo)-1 {
			lo[n], hi[n] = i, len(id)
			n++
			break
		}
		lo[n], hi[n] = i, i+j
		n++
		i += j + 1
	}
	seg := func(k int) string { return id[lo[k]:hi[k]] }
	from := func(k int) string { return id[lo[k]:] } // segment k to the end
	is := func(k int, lit string) bool { return k < n && strings.EqualFold(seg(k), lit) }
	if is(0, "subscriptions") && n > 1 && isGUID(seg(1)) {
		o.addString("azure.subscription_id", seg(1))
		switch {
		case is(2, "resourceGroups") && n > 3:
			o.addString("azure.resource.group", seg(3))
			if !is(4, "providers") || n < 6 {
				return
			}
			if n >= 10 && is(6, "namespaces") && is(8, "authorizationRules") {
				o.addString("azure.resource.provider", seg(5))
				o.addString("azure.resource.namespace", seg(7))
				o.addString("azure.resource.authorization_rule", from(9))
				return
			}
			if n >= 8 {
				o.addString("azure.resource.provider", id[lo[5]:hi[6]])
				o.addString("azure.resource.name", from(7))
				return
			}
			o.addString("azure.resource.provider", from(5))
		case is(2, "providers") && n > 3:
			o.addString("azure.resource.provider", from(3))
		}
		return
	}
	for k := 0; k < n-1; k++ {
		if is(k, "providers") {
			o.addString("azure.resource.provider", from(k+1))
			return
		}
	}
	// Past the segments kept: look for /providers/ in the rest.
	if k := indexFold(id, "/providers/"); k >= 0 && k+len("/providers/") < len(id) {
		o.addString("azure.resource.provider", id[k+len("/providers/"):])
	}
}

// indexFold is strings.Index, ignoring ASCII case.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// isGUID reports whether s looks like a GUID, braces allowed.
func isGUID(s string) bool {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// splitUPN splits a user principal name or e-mail address at its one '@'.
func splitUPN(s string) (name, domain string, ok bool) {
	i := strings.IndexByte(s, '@')
	if i <= 0 || i == len(s)-1 || strings.IndexByte(s[i+1:], '@') >= 0 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// intValue reads an integer from a number or a numeric string.
func intValue(v *fastjson.Value) (int64, bool) {
	if v == nil {
		return 0, false
	}
	switch v.Type() {
	case fastjson.TypeNumber:
		if n, err := v.Int64(); err == nil {
			return n, true
		}
		if f, err := v.Float64(); err == nil {
			return int64(f), true
		}
	case fastjson.TypeString:
		if n, err := strconv.ParseInt(strings.TrimSpace(string(v.GetStringBytes())), 10, 64); err == nil {
			return n, true
		}
	}
	return 0, false
}
