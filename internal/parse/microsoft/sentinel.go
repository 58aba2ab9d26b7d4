package microsoft

import (
	"errors"
	"fmt"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
)

// Sentinel parses a row of any Microsoft Sentinel (Log Analytics) table
// this package knows (TypeSentinel), by its Type column: sign-in tables as
// TypeSignIn, AuditLogs as TypeAudit, OfficeActivity as TypeM365, the
// Defender tables as TypeDefender, AzureActivity as TypeActivity, and
// SecurityEvent, Event and
// WindowsEvent as Windows events (their columns kept under their own
// names, which are the names Sigma rules use, plus ECS). Rows without a
// Type column are recognised by their columns. The zero value is ready;
// it keeps buffers between calls and is not safe for concurrent use.
type Sentinel struct {
	base
	signIn   SignIn
	audit    Audit
	m365     M365
	defender Defender
	activity Activity
}

// Parse reads one Sentinel row.
func (s *Sentinel) Parse(payload []byte, dst *event.Event) error {
	n0 := len(dst.Fields)
	v, err := s.begin(payload, dst)
	if err != nil {
		return fail(dst, n0, err)
	}
	obj, _ := v.Object()
	table := str(obj.Get("Type"))
	switch {
	case sentinelSignInTable(table) != "":
		return s.signIn.Parse(payload, dst)
	case table == "AuditLogs" || table == "" && obj.Get("ActivityDisplayName") != nil && obj.Get("InitiatedBy") != nil:
		return s.audit.Parse(payload, dst)
	case table == "OfficeActivity" || table == "" && obj.Get("OfficeWorkload") != nil:
		return s.m365.Parse(payload, dst)
	case defenderTables[table] || table == "" && obj.Get("Timestamp") != nil && obj.Get("ActionType") != nil:
		return s.defender.Parse(payload, dst)
	case table == "AzureActivity" || table == "" && obj.Get("OperationNameValue") != nil:
		return s.activity.Parse(payload, dst)
	case table == "SecurityEvent" || table == "Event" || table == "WindowsEvent" || table == "" && obj.Get("EventID") != nil:
		s.windows(obj, table, dst)
		s.o.finish()
		return nil
	case table == "":
		return fail(dst, n0, errors.New("row has no Type column and no columns of a known table"))
	}
	// Entra ID audit rows as some exports label them (Type holding the
	// audited object's type).
	if str(obj.Get("SourceSystem")) == "Azure AD" && obj.Get("InitiatedBy") != nil {
		return s.audit.Parse(payload, dst)
	}
	return fail(dst, n0, fmt.Errorf("table %q is not one this parser knows", table))
}

// windows reads a SecurityEvent, Event or WindowsEvent row.
func (s *Sentinel) windows(obj *fastjson.Object, table string, dst *event.Event) {
	o, n := &s.o, &s.n
	// The columns, under their own names (the Sigma names); a column a
	// union export suffixed (ProcessId_string) also under its plain name.
	obj.Visit(func(k []byte, v *fastjson.Value) {
		if len(k) == 0 || v.Type() == fastjson.TypeString && len(v.GetStringBytes()) == 0 {
			return
		}
		name := n.join("", k, false)
		n.walkValue(o, name, v, false)
		for _, suffix := range [...]string{"_string", "_dynamic", "_long"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && base != "" && obj.Get(base) == nil {
				n.walkValue(o, base, v, false)
			}
		}
	})
	c := func(name string) string { return column(obj, name) }
	if t, ok := timeValue(obj.Get("TimeGenerated")); ok {
		dst.Time = t
	}
	eventID := c("EventID")
	channel := c("Channel")
	if channel == "" {
		channel = c("EventLog")
		if channel != "" {
			o.addString("Channel", channel)
		}
	}
	provider := c("EventSourceName")
	if provider == "" {
		provider = c("Source")
	}
	computer := c("Computer")

	if eventID != "" {
		o.addString("event.code", eventID)
		o.addString("winlog.event_id", eventID)
	}
	if channel != "" {
		o.addString("winlog.channel", channel)
	}
	if provider != "" {
		o.addString("event.provider", provider)
		o.addString("winlog.provider_name", provider)
		if c("Provider_Name") == "" {
			o.addString("Provider_Name", provider)
		}
	}
	if computer != "" {
		o.addString("host.name", computer)
		o.addString("winlog.computer_name", computer)
	}
	cat, typ, outcome := windowsCategory(eventID, provider)
	o.lit("event.kind", "event")
	o.lit("event.category", jsonArray(cat))
	o.lit("event.type", jsonArray(typ))
	if outcome != "" {
		o.lit("event.outcome", outcome)
	}
	if a := c("Activity"); a != "" {
		o.addString("event.action", a)
	}

	// The user the event is about: the target of a logon or change, else
	// the subject, else the row's account.
	name, domain, sid := "", "", ""
	for _, p := range [...]string{"Target", "Subject"} {
		if u := c(p + "UserName"); u != "" && u != "-" {
			name, domain, sid = u, c(p+"DomainName"), c(p+"UserSid")
			break
		}
	}
	if name == "" {
		acct := c("Account")
		if acct == "" {
			acct = c("UserName")
		}
		if i := strings.LastIndexByte(acct, '\\'); i >= 0 {
			domain, name = acct[:i], acct[i+1:]
		} else if acct != "N/A" {
			name = acct
		}
	}
	if name != "" && name != "-" {
		o.addString("user.name", name)
		s.users.add(name)
		if domain != "" && domain != "-" {
			o.addString("user.domain", domain)
		}
		if sid != "" && sid != "-" {
			o.addString("user.id", sid)
		}
	}

	// Network ends: a logon's remote address, a filtering platform
	// connection's two ends.
	srcIP, srcPort := c("IpAddress"), c("IpPort")
	if srcIP == "" || srcIP == "-" {
		srcIP, srcPort = c("SourceAddress"), c("SourcePort")
	}
	if a, ok := parseIP(srcIP); ok {
		o.addString("source.ip", a)
		s.ips.add(a)
		if srcPort != "" && srcPort != "-" && srcPort != "0" {
			o.addString("source.port", srcPort)
		}
	}
	if a, ok := parseIP(c("DestAddress")); ok {
		o.addString("destination.ip", a)
		s.ips.add(a)
		if p := c("DestPort"); p != "" {
			o.addString("destination.port", p)
		}
	}
	switch c("Protocol") {
	case "6":
		o.lit("network.transport", "tcp")
	case "17":
		o.lit("network.transport", "udp")
	}

	// The process.
	image := c("NewProcessName")
	if image == "" {
		image = c("Image")
	}
	if image == "" {
		if p := c("Process"); p != "-" {
			image = c("ProcessName")
		}
	}
	if image != "" && image != "-" {
		o.addString("process.executable", image)
		o.addString("process.name", image[strings.LastIndexAny(image, `\/`)+1:])
	}
	if cmd := c("CommandLine"); cmd != "" {
		o.addString("process.command_line", cmd)
	}
	if pid := c("ProcessId"); pid != "" {
		o.addString("process.pid", hexToDecimal(pid))
	}
	s.ips.emit(o, "related.ip")
	s.users.emit(o, "related.user")
	o.lit("event.module", "windows")
	switch table {
	case "SecurityEvent", "":
		o.lit("event.dataset", "sentinel.securityevent")
	default:
		o.addString("event.dataset", "sentinel."+strings.ToLower(table))
	}
	o.lit("ecs.version", ecsVersion)
}

// hexToDecimal writes a process id given as 0x... in decimal, as ECS
// wants it.
func hexToDecimal(s string) string {
	h, ok := strings.CutPrefix(strings.ToLower(s), "0x")
	if !ok || h == "" || len(h) > 15 {
		return s
	}
	var n int64
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= '0' && c <= '9':
			n = n*16 + int64(c-'0')
		case c >= 'a' && c <= 'f':
			n = n*16 + int64(c-'a'+10)
		default:
			return s
		}
	}
	return fmt.Sprint(n)
}

// windowsCategory returns event.category, event.type and event.outcome
// for the common Security and Sysmon event IDs.
func windowsCategory(id, provider string) (cat, typ, outcome string) {
	if strings.Contains(provider, "Sysmon") {
		switch id {
		case "1":
			return "process", "start", ""
		case "3":
			return "network", "connection", ""
		case "5":
			return "process", "end", ""
		case "7":
			return "library", "start", ""
		case "11":
			return "file", "creation", ""
		case "12", "13", "14":
			return "registry", "change", ""
		case "17":
			return "file", "creation", ""
		case "18":
			return "file", "access", ""
		case "22":
			return "network", "protocol", ""
		case "23", "26":
			return "file", "deletion", ""
		}
		return "host", "info", ""
	}
	switch id {
	case "4624":
		return "authentication", "start", "success"
	case "4625":
		return "authentication", "start", "failure"
	case "4634", "4647":
		return "authentication", "end", "success"
	case "4648", "4768", "4769", "4776":
		return "authentication", "start", ""
	case "4771":
		return "authentication", "start", "failure"
	case "4672":
		return "iam", "admin", ""
	case "4688":
		return "process", "start", ""
	case "4689":
		return "process", "end", ""
	case "4720":
		return "iam", "creation", ""
	case "4722", "4723", "4724", "4725", "4738", "4740", "4767":
		return "iam", "change", ""
	case "4726":
		return "iam", "deletion", ""
	case "4727", "4728", "4729", "4731", "4732", "4733", "4735", "4737", "4754", "4756", "4757":
		return "iam", "change", ""
	case "4662", "4663", "5136", "5137", "5141":
		return "iam", "info", ""
	case "5156", "5158":
		return "network", "connection", "success"
	case "5152", "5157":
		return "network", "connection", "failure"
	}
	return "host", "info", ""
}
