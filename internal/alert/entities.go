package alert

import (
	"net/netip"
	"strings"

	"github.com/tarian-soc/tarian/internal/event"
)

// entityFields lists, per entity type, the fields that name it, most
// specific first: the ECS layer, then native names (Windows, Sysmon).
var entityFields = []struct {
	typ    string
	fields []string
}{
	{EntityHost, []string{"host.name", "host.hostname", "winlog.computer_name", "Computer", "Hostname"}},
	{EntityUser, []string{"user.name", "winlog.user.name", "TargetUserName", "SubjectUserName", "User", "UserName", "source.user.name"}},
	{EntitySourceIP, []string{"source.ip", "SourceIp", "IpAddress", "client.ip"}},
	{EntityDestinationIP, []string{"destination.ip", "DestinationIp", "server.ip"}},
	{EntityDomain, []string{"dns.question.name", "url.domain", "destination.domain", "QueryName", "DestinationHostname"}},
	{EntityURL, []string{"url.full", "url.original"}},
	{EntityHash, []string{"file.hash.sha256", "process.hash.sha256", "file.hash.sha1", "process.hash.sha1", "file.hash.md5", "process.hash.md5", "Hashes"}},
	{EntityEmailSender, []string{"email.from.address", "email.sender.address"}},
}

// Entities returns what an event's fields say it is about: one entity per
// type at most (host, user, source and destination IP, domain, URL, hash,
// email sender), taken from the ECS layer or, failing that, from native
// field names such as Computer and TargetUserName. Empty values and
// Windows' "-" (and "::"/"127.0.0.1"-style placeholders) name nothing.
func Entities(fields []event.Field) []Entity {
	var out []Entity
	for _, ef := range entityFields {
		if v := first(fields, ef.fields...); v != "" {
			if v = clean(ef.typ, v); v != "" {
				out = append(out, Entity{Type: ef.typ, Value: v})
			}
		}
	}
	return out
}

// clean normalises an entity value, or returns "" when it names nothing.
func clean(typ, v string) string {
	switch typ {
	case EntitySourceIP, EntityDestinationIP:
		a, err := netip.ParseAddr(v)
		if err != nil || a.IsUnspecified() || a.IsLoopback() {
			return ""
		}
		return a.Unmap().String()
	case EntityDomain:
		return strings.TrimSuffix(strings.ToLower(v), ".")
	case EntityHash:
		// Sysmon's Hashes is "SHA1=..,MD5=..,SHA256=..": keep the strongest.
		if strings.Contains(v, "=") {
			best := ""
			for _, kv := range strings.Split(v, ",") {
				k, h, _ := strings.Cut(kv, "=")
				switch strings.ToUpper(strings.TrimSpace(k)) {
				case "SHA256":
					return strings.ToLower(h)
				case "SHA1", "MD5":
					if best == "" || len(h) > len(best) {
						best = h
					}
				}
			}
			return strings.ToLower(best)
		}
		return strings.ToLower(v)
	case EntityEmailSender:
		return strings.ToLower(v)
	}
	return v
}

// first returns the value of the first of names that fields hold, skipping
// empty values and Windows' "-".
func first(fields []event.Field, names ...string) string {
	for _, name := range names {
		for _, f := range fields {
			if f.Name == name && f.Value != "" && f.Value != "-" {
				return f.Value
			}
		}
	}
	return ""
}
