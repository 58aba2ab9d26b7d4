package microsoft

import (
	"errors"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
)

// Defender parses Microsoft 365 Defender records (TypeDefender): advanced
// hunting rows as the streaming API sends them through Event Hub
// ({"category":"AdvancedHunting-<Table>","properties":{...}}) or as
// Sentinel tables export them, and Microsoft Graph security alerts
// (alerts_v2). The native layer is m365_defender.event.* (snake_case,
// InitiatingProcess* under initiating_process.*) and m365_defender.alert.*;
// the ECS layer is a proportionate mapping of our own (Elastic's
// m365_defender pipelines are not emulated field by field). The zero
// value is ready; it keeps buffers between calls and is not safe for
// concurrent use.
type Defender struct{ base }

// defenderTables are the advanced-hunting tables the parser recognises in
// a Sentinel row's Type column.
var defenderTables = map[string]bool{
	"AlertEvidence": true, "AlertInfo": true, "BehaviorEntities": true, "BehaviorInfo": true,
	"CloudAppEvents": true, "DeviceEvents": true, "DeviceFileCertificateInfo": true,
	"DeviceFileEvents": true, "DeviceImageLoadEvents": true, "DeviceInfo": true,
	"DeviceLogonEvents": true, "DeviceNetworkEvents": true, "DeviceNetworkInfo": true,
	"DeviceProcessEvents": true, "DeviceRegistryEvents": true, "EmailAttachmentInfo": true,
	"EmailEvents": true, "EmailPostDeliveryEvents": true, "EmailUrlInfo": true,
	"IdentityDirectoryEvents": true, "IdentityLogonEvents": true, "IdentityQueryEvents": true,
	"IdentityInfo": true, "UrlClickEvents": true,
}

// Parse reads one Defender record.
func (d *Defender) Parse(payload []byte, dst *event.Event) error {
	n0 := len(dst.Fields)
	v, err := d.begin(payload, dst)
	if err != nil {
		return fail(dst, n0, err)
	}
	obj, _ := v.Object()
	cat := str(obj.Get("category"))
	props := obj.Get("properties")
	switch {
	case strings.HasPrefix(cat, "AdvancedHunting-") && props != nil && props.Type() == fastjson.TypeObject:
		d.streamed(obj, strings.TrimPrefix(cat, "AdvancedHunting-"), dst)
	case isGraphAlert(obj):
		d.graphAlert(obj, dst)
	case defenderTables[str(obj.Get("Type"))] || obj.Get("Timestamp") != nil && obj.Get("ActionType") != nil:
		d.row(obj, str(obj.Get("Type")), dst)
	default:
		return fail(dst, n0, errors.New("not a Defender record: no AdvancedHunting category, Timestamp and ActionType, or Graph alert"))
	}
	d.o.finish()
	return nil
}

func isGraphAlert(obj *fastjson.Object) bool {
	if t := str(obj.Get("@odata.type")); strings.HasPrefix(t, "#microsoft.graph.security.alert") {
		return true
	}
	return obj.Get("evidence") != nil && obj.Get("title") != nil && obj.Get("severity") != nil && obj.Get("createdDateTime") != nil
}

// streamed reads a record of the streaming API.
func (d *Defender) streamed(obj *fastjson.Object, table string, dst *event.Event) {
	o := &d.o
	const ns = "m365_defender.event."
	obj.Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case "category":
			o.value(ns+"category", v)
		case "operationName":
			o.value(ns+"operation_name", v)
		case "tenantId":
			o.value(ns+"tenant.id", v)
		case "Tenant":
			o.value(ns+"tenant.name", v)
		case "time":
			if t, ok := timeValue(v); ok {
				dst.Time = t
				o.addString(ns+"time", t.Format(isoMillis))
			}
		case "properties":
		default:
			d.n.walkValue(o, d.n.join(ns, k, true), v, true)
		}
	})
	props, _ := obj.Get("properties").Object()
	d.row(props, table, dst)
}

// row reads an advanced-hunting row of table (guessed from its columns
// when empty).
func (d *Defender) row(obj *fastjson.Object, table string, dst *event.Event) {
	o, n := &d.o, &d.n
	const ns = "m365_defender.event."
	var ip list
	obj.Visit(func(k []byte, v *fastjson.Value) {
		if string(k) == "Type" {
			return
		}
		if v.Type() == fastjson.TypeString && len(v.GetStringBytes()) == 0 {
			return // a column of the union export this table does not have
		}
		if rest, ok := strings.CutPrefix(string(k), "InitiatingProcess"); ok && rest != "" {
			n.walkValue(o, n.join(ns+"initiating_process.", []byte(rest), true), d.sub(v), true)
			return
		}
		n.walkValue(o, n.join(ns, k, true), d.sub(v), true)
	})
	c := func(name string) string { return column(obj, name) }
	if table == "" {
		table = guessTable(obj)
	}
	if t, ok := timeValue(obj.Get("Timestamp")); ok {
		dst.Time = t
	}
	action := c("ActionType")
	cat, typ, kind := defenderCategory(table, action)
	o.lit("event.kind", kind)
	o.lit("event.category", jsonArray(cat))
	o.lit("event.type", jsonArray(typ))
	if action != "" {
		o.addString("event.action", action)
	}
	if table != "" {
		o.addString("event.provider", table)
	}
	if id := c("ReportId"); id != "" {
		o.addString("event.id", id)
	}
	switch action {
	case "LogonSuccess":
		o.lit("event.outcome", "success")
	case "LogonFailed":
		o.lit("event.outcome", "failure")
	}

	// Host and user.
	if h := c("DeviceName"); h != "" {
		o.addString("host.name", h)
		d.hosts.add(h)
	}
	if id := c("DeviceId"); id != "" {
		o.addString("host.id", id)
	}
	if p := c("OSPlatform"); p != "" && p != "Unknown" {
		o.addString("host.os.platform", p)
	}
	acct := "Account"
	if c("AccountName") == "" && c("AccountUpn") == "" && c("AccountObjectId") == "" {
		acct = "InitiatingProcessAccount"
	}
	if u := c(acct + "Name"); u != "" {
		o.addString("user.name", u)
		d.users.add(u)
	}
	if u := c(acct + "Domain"); u != "" {
		o.addString("user.domain", u)
	}
	if u := c(acct + "Upn"); u != "" {
		o.addString("user.email", u)
		d.users.add(u)
	}
	if u := c(acct + "Sid"); u != "" {
		o.addString("user.id", u)
	} else if u := c(acct + "ObjectId"); u != "" {
		o.addString("user.id", u)
	}
	if u := c("AccountDisplayName"); u != "" && acct == "Account" {
		o.addString("user.full_name", u)
	}

	// Processes and files.
	if action == "ProcessCreated" || table == "DeviceProcessEvents" {
		d.process("process.", obj, "")
		d.process("process.parent.", obj, "InitiatingProcess")
	} else {
		d.process("process.", obj, "InitiatingProcess")
		if pid := c("InitiatingProcessParentId"); pid != "" {
			o.addString("process.parent.pid", pid)
		}
		if name := c("InitiatingProcessParentFileName"); name != "" {
			o.addString("process.parent.name", name)
		}
		if cat == "file" || cat == "library" {
			if name := c("FileName"); name != "" {
				o.addString("file.name", name)
			}
			if p := c("FolderPath"); p != "" {
				o.addString("file.path", p)
			}
			d.hashes("file.hash.", obj, "")
		}
	}
	if k := c("RegistryKey"); k != "" {
		o.addString("registry.key", k)
		if val := c("RegistryValueName"); val != "" {
			o.addString("registry.value", val)
		}
		if data := c("RegistryValueData"); data != "" {
			o.addString("registry.data.strings", jsonArray(data))
		}
	}

	// Network ends.
	src, srcPort := c("LocalIP"), c("LocalPort")
	dstIP, dstPort := c("RemoteIP"), c("RemotePort")
	if cat == "authentication" {
		// A logon's remote end is where it came from.
		src, srcPort, dstIP, dstPort = dstIP, dstPort, src, srcPort
	}
	if src == "" {
		src, srcPort = c("IPAddress"), c("Port")
	}
	if dstIP == "" {
		dstIP, dstPort = c("DestinationIPAddress"), c("DestinationPort")
	}
	if a, ok := parseIP(src); ok {
		o.addString("source.ip", a)
		ip.add(a)
		if srcPort != "" && srcPort != "0" {
			o.addString("source.port", srcPort)
		}
	}
	if a, ok := parseIP(dstIP); ok {
		o.addString("destination.ip", a)
		ip.add(a)
		if dstPort != "" && dstPort != "0" {
			o.addString("destination.port", dstPort)
		}
	}
	if h := c("DestinationDeviceName"); h != "" {
		o.addString("destination.domain", h)
		d.hosts.add(h)
	} else if h := c("RemoteDeviceName"); h != "" {
		o.addString("destination.domain", h)
	}
	if u := c("RemoteUrl"); u != "" {
		o.addString("url.original", u)
	}
	if p := c("Protocol"); p != "" {
		o.addString("network.protocol", strings.ToLower(p))
	}
	if cc := c("CountryCode"); cc != "" {
		o.addString("source.geo.country_iso_code", cc)
	}
	if city := c("City"); city != "" {
		o.addString("source.geo.city_name", city)
	}
	if ua := c("UserAgent"); ua != "" {
		userAgent(o, ua)
	}
	for _, s := range ip.items {
		d.ips.add(s)
	}
	d.ips.emit(o, "related.ip")
	d.users.emit(o, "related.user")
	d.hashs.emit(o, "related.hash")
	d.hosts.emit(o, "related.hosts")
	o.lit("event.module", "m365_defender")
	o.lit("event.dataset", "m365_defender.event")
	o.lit("observer.vendor", "Microsoft")
	o.lit("observer.product", "Microsoft 365 Defender")
	o.lit("ecs.version", ecsVersion)
}

// process adds a process's fields from the columns named with prefix
// (e.g. InitiatingProcess) or a process event's own columns.
func (d *Defender) process(to string, obj *fastjson.Object, from string) {
	o := &d.o
	c := func(name string) string { return column(obj, from+name) }
	name, path, cmd, pid := c("FileName"), c("FolderPath"), c("CommandLine"), c("Id")
	if from == "" {
		cmd, pid = c("ProcessCommandLine"), c("ProcessId")
	}
	if name == "" && path == "" && cmd == "" && pid == "" {
		return
	}
	if name != "" {
		o.addString(to+"name", name)
	}
	if path != "" {
		o.addString(to+"executable", path)
	}
	if cmd != "" {
		o.addString(to+"command_line", cmd)
	}
	if pid != "" {
		o.addString(to+"pid", pid)
	}
	d.hashes(to+"hash.", obj, from)
}

// hashes adds the SHA1, SHA256 and MD5 columns named with prefix from.
func (d *Defender) hashes(to string, obj *fastjson.Object, from string) {
	for _, h := range [...]struct{ col, field string }{{"SHA1", "sha1"}, {"SHA256", "sha256"}, {"MD5", "md5"}} {
		if v := column(obj, from+h.col); v != "" {
			d.o.addString(to+h.field, v)
			d.hashs.add(v)
		}
	}
}

// column returns a row's column as text, also under the _string, _long
// and _dynamic names a union export gives it.
func column(obj *fastjson.Object, name string) string {
	if s := text(obj.Get(name)); s != "" {
		return s
	}
	for _, suffix := range [...]string{"_string", "_long", "_dynamic"} {
		if s := text(obj.Get(name + suffix)); s != "" {
			return s
		}
	}
	return ""
}

// guessTable names the table of a row without a Type column.
func guessTable(obj *fastjson.Object) string {
	c := func(name string) string { return column(obj, name) }
	switch {
	case c("RegistryKey") != "":
		return "DeviceRegistryEvents"
	case c("RemoteIP") != "" || c("LocalIP") != "":
		return "DeviceNetworkEvents"
	case c("DeviceId") != "" || c("InitiatingProcessFileName") != "":
		return "DeviceEvents"
	case c("Application") != "" && c("ActivityType") != "":
		return "CloudAppEvents"
	case c("DestinationDeviceName") != "" || c("Protocol") != "":
		return "IdentityDirectoryEvents"
	case c("NetworkMessageId") != "":
		return "EmailEvents"
	case c("AlertId") != "":
		return "AlertInfo"
	}
	return ""
}

// defenderCategory returns event.category, event.type and event.kind for
// a row's table and action.
func defenderCategory(table, action string) (cat, typ, kind string) {
	switch action {
	case "ProcessCreated":
		return "process", "start", "event"
	case "ConnectionSuccess", "ConnectionAttempt", "ConnectionFailed", "ConnectionRequest",
		"ConnectionFound", "InboundConnectionAccepted", "ListeningConnectionCreated":
		return "network", "connection", "event"
	case "FileCreated":
		return "file", "creation", "event"
	case "FileModified", "FileRenamed":
		return "file", "change", "event"
	case "FileDeleted":
		return "file", "deletion", "event"
	case "RegistryKeyCreated":
		return "registry", "creation", "event"
	case "RegistryKeyDeleted", "RegistryValueDeleted":
		return "registry", "deletion", "event"
	case "RegistryValueSet", "RegistryKeyRenamed":
		return "registry", "change", "event"
	case "LogonSuccess", "LogonFailed", "LogonAttempted":
		return "authentication", "start", "event"
	case "ImageLoaded":
		return "library", "start", "event"
	case "LdapSearch", "DnsQuery", "DnsQueryResponse":
		return "network", "protocol", "event"
	}
	switch {
	case strings.HasPrefix(table, "Alert"):
		return "threat", "indicator", "alert"
	case table == "IdentityLogonEvents":
		return "authentication", "start", "event"
	case strings.HasPrefix(table, "Identity"):
		return "iam", "info", "event"
	case table == "CloudAppEvents":
		return "web", "info", "event"
	case strings.HasPrefix(table, "Email") || table == "UrlClickEvents":
		return "email", "info", "event"
	}
	return "host", "info", "event"
}

// graphAlert reads a Microsoft Graph security alert (alerts_v2).
func (d *Defender) graphAlert(obj *fastjson.Object, dst *event.Event) {
	o, n := &d.o, &d.n
	n.walk(o, "m365_defender.alert.", obj, true)
	c := func(name string) string { return text(obj.Get(name)) }
	if t, ok := timeValue(obj.Get("createdDateTime")); ok {
		dst.Time = t
		o.addString("event.created", t.Format(isoMillis))
	}
	if t, ok := timeValue(obj.Get("firstActivityDateTime")); ok {
		o.addString("event.start", t.Format(isoMillis))
	}
	if t, ok := timeValue(obj.Get("lastActivityDateTime")); ok {
		o.addString("event.end", t.Format(isoMillis))
	}
	o.lit("event.kind", "alert")
	if strings.EqualFold(c("category"), "Malware") {
		o.lit("event.category", `["malware"]`)
	} else {
		o.lit("event.category", `["intrusion_detection"]`)
	}
	o.lit("event.type", `["info"]`)
	if id := c("id"); id != "" {
		o.addString("event.id", id)
	}
	if title := c("title"); title != "" {
		o.addString("message", title)
		o.addString("rule.name", title)
	}
	if desc := c("description"); desc != "" {
		o.addString("rule.description", desc)
	}
	if s := c("serviceSource"); s != "" {
		o.addString("event.provider", s)
	}
	if s := c("detectionSource"); s != "" {
		o.addString("event.action", s)
	}
	switch strings.ToLower(c("severity")) {
	case "informational":
		o.lit("event.severity", "1")
	case "low":
		o.lit("event.severity", "2")
	case "medium":
		o.lit("event.severity", "3")
	case "high":
		o.lit("event.severity", "4")
	}
	var techniques list
	for _, t := range obj.Get("mitreTechniques").GetArray() {
		techniques.add(str(t))
	}
	techniques.emit(o, "threat.technique.id")

	// The first evidence of each kind.
	var host, user, file, proc, url bool
	for _, e := range obj.Get("evidence").GetArray() {
		switch t := str(e.Get("@odata.type")); {
		case strings.HasSuffix(t, "deviceEvidence") && !host:
			host = true
			if h := str(e.Get("hostName")); h != "" {
				o.addString("host.hostname", h)
			}
			if h := str(e.Get("deviceDnsName")); h != "" {
				o.addString("host.name", h)
				d.hosts.add(h)
			}
			if id := str(e.Get("mdeDeviceId")); id != "" {
				o.addString("host.id", id)
			}
			if p := str(e.Get("osPlatform")); p != "" {
				o.addString("host.os.platform", p)
			}
			for _, k := range [...]string{"lastIpAddress", "lastExternalIpAddress"} {
				if a, ok := parseIP(str(e.Get(k))); ok {
					d.ips.add(a)
				}
			}
			if ips := d.ips.items; len(ips) > 0 {
				o.addString("host.ip", jsonArray(ips...))
			}
			if u := e.Get("loggedOnUsers", "0"); u != nil && !user {
				user = true
				d.alertUser(u.Get("accountName"), u.Get("domainName"))
			}
		case strings.HasSuffix(t, "userEvidence") && !user:
			user = true
			acct := e.Get("userAccount")
			d.alertUser(acct.Get("accountName"), acct.Get("domainName"))
			if upn := str(acct.Get("userPrincipalName")); upn != "" {
				o.addString("user.email", upn)
			}
		case strings.HasSuffix(t, "fileEvidence") && !file:
			file = true
			fd := e.Get("fileDetails")
			if name := str(fd.Get("fileName")); name != "" {
				o.addString("file.name", name)
			}
			if p := str(fd.Get("filePath")); p != "" {
				o.addString("file.directory", p)
			}
			for _, h := range [...]string{"sha1", "sha256", "md5"} {
				if v := str(fd.Get(h)); v != "" {
					o.addString("file.hash."+h, v)
					d.hashs.add(v)
				}
			}
		case strings.HasSuffix(t, "processEvidence") && !proc:
			proc = true
			if id := text(e.Get("processId")); id != "" {
				o.addString("process.pid", id)
			}
			if cmd := str(e.Get("processCommandLine")); cmd != "" {
				o.addString("process.command_line", cmd)
			}
			if name := str(e.Get("imageFile", "fileName")); name != "" {
				o.addString("process.name", name)
			}
		case strings.HasSuffix(t, "urlEvidence") && !url:
			url = true
			if u := str(e.Get("url")); u != "" {
				o.addString("url.original", u)
			}
		}
	}
	d.ips.emit(o, "related.ip")
	d.users.emit(o, "related.user")
	d.hashs.emit(o, "related.hash")
	d.hosts.emit(o, "related.hosts")
	o.lit("event.module", "m365_defender")
	o.lit("event.dataset", "m365_defender.alert")
	o.lit("observer.vendor", "Microsoft")
	o.lit("observer.product", "Microsoft 365 Defender")
	o.lit("ecs.version", ecsVersion)
}

// alertUser adds user.name and user.domain from an alert's evidence.
func (d *Defender) alertUser(name, domain *fastjson.Value) {
	if u := str(name); u != "" {
		d.o.addString("user.name", u)
		d.users.add(u)
	}
	if dom := str(domain); dom != "" {
		d.o.addString("user.domain", dom)
	}
}
