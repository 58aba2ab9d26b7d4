package microsoft

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/normalize"
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
		if t, ok := normalize.ParseTime(s); ok {
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
		return normalize.ParseTime(v.String())
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
	if a.Is4In6() {
		// Elasticsearch prints ::ffff:a.b.c.d as a.b.c.d.
		a = a.Unmap()
	}
	return a.String(), true
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
	segs := strings.Split(strings.TrimPrefix(id, "/"), "/")
	is := func(i int, lit string) bool { return i < len(segs) && strings.EqualFold(segs[i], lit) }
	if is(0, "subscriptions") && len(segs) > 1 && isGUID(segs[1]) {
		o.addString("azure.subscription_id", segs[1])
		switch {
		case is(2, "resourceGroups") && len(segs) > 3:
			o.addString("azure.resource.group", segs[3])
			if !is(4, "providers") || len(segs) < 6 {
				return
			}
			if len(segs) >= 10 && is(6, "namespaces") && is(8, "authorizationRules") {
				o.addString("azure.resource.provider", segs[5])
				o.addString("azure.resource.namespace", segs[7])
				o.addString("azure.resource.authorization_rule", strings.Join(segs[9:], "/"))
				return
			}
			if len(segs) >= 8 {
				o.addString("azure.resource.provider", segs[5]+"/"+segs[6])
				o.addString("azure.resource.name", strings.Join(segs[7:], "/"))
				return
			}
			o.addString("azure.resource.provider", strings.Join(segs[5:], "/"))
		case is(2, "providers") && len(segs) > 3:
			o.addString("azure.resource.provider", strings.Join(segs[3:], "/"))
		}
		return
	}
	for i := range segs {
		if is(i, "providers") && i+1 < len(segs) {
			o.addString("azure.resource.provider", strings.Join(segs[i+1:], "/"))
			return
		}
	}
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
