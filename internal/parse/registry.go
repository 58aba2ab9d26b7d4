package parse

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/asa"
	"github.com/tarian-soc/tarian/internal/parse/auditd"
	"github.com/tarian-soc/tarian/internal/parse/cef"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/parse/fortigate"
	"github.com/tarian-soc/tarian/internal/parse/ios"
	"github.com/tarian-soc/tarian/internal/parse/leef"
	"github.com/tarian-soc/tarian/internal/parse/linuxauth"
	"github.com/tarian-soc/tarian/internal/parse/mail"
	"github.com/tarian-soc/tarian/internal/parse/microsoft"
	"github.com/tarian-soc/tarian/internal/parse/netlog"
	"github.com/tarian-soc/tarian/internal/parse/opencanary"
	"github.com/tarian-soc/tarian/internal/parse/panos"
	"github.com/tarian-soc/tarian/internal/parse/sophos"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
	"github.com/tarian-soc/tarian/internal/parse/windows"
	"github.com/tarian-soc/tarian/internal/parse/zeek"
)

// formats are the known types, in detection order: the most specific
// sniffers first. Adding a format is one entry here.
var formats = []*Format{
	// JSON formats, then Windows (JSON and XML), then text formats. The
	// Microsoft cloud sniffers look for their own keys; Sentinel takes any
	// Log Analytics row, so it comes after Windows, whose flat shape
	// Sentinel's SecurityEvent rows also have.
	{Type: microsoft.TypeSignIn, Title: "Entra ID sign-in logs (Azure Monitor / Event Hub, Graph signIns)", JSON: true,
		New: func() FormatParser { return &microsoft.SignIn{} }, SniffJSON: microsoft.SniffSignIn, Split: microsoft.Split},
	{Type: microsoft.TypeAudit, Title: "Entra ID audit logs (Azure Monitor, Graph directoryAudits, Sentinel AuditLogs)", JSON: true,
		New: func() FormatParser { return &microsoft.Audit{} }, SniffJSON: microsoft.SniffAudit, Split: microsoft.Split},
	{Type: microsoft.TypeM365, Title: "Microsoft 365 unified audit log (Management Activity API, OfficeActivity)", JSON: true,
		New: func() FormatParser { return &microsoft.M365{} }, SniffJSON: microsoft.SniffM365, Split: microsoft.Split},
	{Type: microsoft.TypeDefender, Title: "Microsoft 365 Defender advanced hunting rows and Graph security alerts", JSON: true,
		New: func() FormatParser { return &microsoft.Defender{} }, SniffJSON: microsoft.SniffDefender, Split: microsoft.Split},
	{Type: microsoft.TypeActivity, Title: "Azure Activity log: subscription operations (Azure Monitor / Event Hub, Sentinel AzureActivity)", JSON: true,
		New: func() FormatParser { return &microsoft.Activity{} }, SniffJSON: microsoft.SniffActivity, Split: microsoft.Split},
	{Type: zeek.Type, Title: "Zeek logs as JSON (conn, dns, http, ssl, x509, files, smb_files, dce_rpc, kerberos, ntlm, rdp, ssh, smtp, notice, weird, ...)", JSON: true, Text: true,
		New: func() FormatParser { return &zeek.Parser{} }, SniffJSON: zeek.SniffJSON, Sniff: zeek.Sniff},
	{Type: opencanary.Type, Title: "OpenCanary honeypot events (JSON file or syslog handler records)", JSON: true, Text: true,
		New: func() FormatParser { return &opencanary.Parser{} }, SniffJSON: opencanary.SniffJSON, Sniff: opencanary.Sniff},
	{Type: windows.Type, Title: "Windows events (Security, Sysmon, PowerShell, System, ...): evtx JSON, flat JSON, Winlogbeat, or XML", JSON: true, Text: true,
		New: func() FormatParser { return &windows.Parser{} }, Sniff: windows.SniffXML, SniffJSON: windows.SniffJSON, Lead: windows.EvtxLead},
	{Type: microsoft.TypeSentinel, Title: "Microsoft Sentinel (Log Analytics) table rows, by their Type column", JSON: true,
		New: func() FormatParser { return &microsoft.Sentinel{} }, SniffJSON: microsoft.SniffSentinel, Split: microsoft.Split},
	{Type: cef.Type, Title: "ArcSight Common Event Format (CEF:0|...), bare or after a syslog header",
		New: func() FormatParser { return &cef.Parser{} }, Sniff: cef.Sniff},
	{Type: leef.Type, Title: "IBM QRadar Log Event Extended Format (LEEF:1.0 and 2.0)",
		New: func() FormatParser { return &leef.Parser{} }, Sniff: leef.Sniff},
	// Sophos and FortiMail key=value lines would also pass FortiGate's sniffer.
	{Type: sophos.Type, Title: "Sophos XG / SFOS firewall key=value logs",
		New: func() FormatParser { return &sophos.Parser{} }, Sniff: sophos.Sniff},
	{Type: mail.TypeFortiMail, Title: "Fortinet FortiMail key=value logs",
		New: func() FormatParser { return &mail.FortiMailParser{} }, Sniff: mail.SniffFortiMail},
	{Type: fortigate.Type, Title: "Fortinet FortiGate key=value syslog (FortiOS 4-7)",
		New: func() FormatParser { return &fortigate.Parser{} }, Sniff: fortigate.Sniff},
	{Type: asa.Type, Title: "Cisco ASA / FTD syslog (%ASA-n-nnnnnn)",
		New: func() FormatParser { return &asa.Parser{} }, Sniff: asa.Sniff},
	{Type: ios.Type, Title: "Cisco IOS, IOS XE and NX-OS syslog (%FACILITY-SEVERITY-MNEMONIC)",
		New: func() FormatParser { return &ios.Parser{} }, Sniff: ios.Sniff},
	{Type: panos.Type, Title: "Palo Alto Networks PAN-OS syslog CSV (TRAFFIC, THREAT, SYSTEM, CONFIG, GLOBALPROTECT, ...)",
		New: func() FormatParser { return &panos.Parser{} }, Sniff: panos.Sniff},
	{Type: netlog.TypeIPTables, Title: "Linux netfilter packet logs (iptables, nftables, UFW, ulogd, EdgeOS)",
		New: func() FormatParser { return &netlog.IPTables{} }, Sniff: netlog.SniffIPTables},
	{Type: netlog.TypeSquid, Title: "Squid access.log (native, common, combined)",
		New: func() FormatParser { return &netlog.Squid{} }, Sniff: netlog.SniffSquid},
	// After Squid, whose common and combined lines this sniffer also takes.
	{Type: netlog.TypeWeb, Title: "Web server access logs: Apache and nginx (common, combined, vhost_combined), IIS W3C (default fields)",
		New: func() FormatParser { return &netlog.Web{} }, Sniff: netlog.SniffWeb},
	{Type: mail.TypePostfix, Title: "Postfix mail server logs (smtpd, cleanup, qmgr, smtp, postscreen)",
		New: func() FormatParser { return &mail.PostfixParser{} }, Sniff: mail.SniffPostfix},
	{Type: mail.TypeMailScanner, Title: "MailScanner verdicts (spam, virus)",
		New: func() FormatParser { return &mail.MailScannerParser{} }, Sniff: mail.SniffMailScanner},
	{Type: mail.TypeExchange, Title: "Microsoft Exchange message tracking and HttpProxy / ECP logs",
		New: func() FormatParser { return &mail.ExchangeParser{} }, Sniff: mail.SniffExchange},
	{Type: auditd.Type, Title: "Linux audit records (auditd: SYSCALL, EXECVE, USER_*, AVC, ...)",
		New: func() FormatParser { return &auditd.Parser{} }, Sniff: auditd.Sniff},
	{Type: linuxauth.TypeAuth, Title: "Linux authentication: sshd, sudo, PAM, su, user and group changes, logind, cron",
		New: func() FormatParser { return &linuxauth.Parser{} }, Sniff: linuxauth.Sniff, SniffApp: linuxauth.SniffApp},
	// The fallback of text fallbacks: any syslog line, by its program.
	{Type: linuxauth.TypeSyslog, Title: "any syslog line: program, pid and host from the header, the message kept",
		New: func() FormatParser { return &linuxauth.SyslogParser{} }, Sniff: syslogheader.Sniff},
	// Last: any JSON object sent as text (an application's JSON in a syslog
	// message, rsyslog's "@cee:" records, a shipper's line) that no
	// format above took.
	{Type: plainJSONType, Title: "plain JSON: fields flattened to dotted names (also a JSON object, or an @cee: record, sent as a syslog message or a line); a source's field_map adds ECS names", JSON: true, Text: true,
		New: func() FormatParser { return &plainJSON{} }, Sniff: sniffJSONText},
}

// plainJSONType is the type of a JSON document read as it is: declared,
// or detected for a JSON record that no format took and that has no
// message to parse.
const plainJSONType = "json"

// plainJSON is the "json" type: the document's own fields, flattened.
type plainJSON struct {
	p    fastjson.Parser
	flat envelope.JSON
}

// errNotObject is the plain JSON type's answer to a text payload that is
// not a JSON object (a source declared json that sends plain text).
var errNotObject = errors.New("the record is not a JSON object")

func (j *plainJSON) Parse(payload []byte, dst *event.Event) error {
	b := jsonText(payload)
	if len(b) == 0 || b[0] != '{' {
		return errNotObject
	}
	v, err := j.p.ParseBytes(b)
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	o, err := v.Object()
	if err != nil {
		return envelope.ErrNotObject
	}
	n := len(dst.Fields)
	dst.Fields = j.flat.Flatten(dst.Fields, o)
	// The document's own time, not an envelope's (a syslog header's
	// @timestamp is already in dst).
	own := event.Event{Fields: dst.Fields[n:]}
	for _, name := range envelope.TimeFields {
		if s, ok := own.Get(name); ok {
			if t, ok := ecs.ParseTime(s); ok {
				dst.Time = t
				break
			}
		}
	}
	return nil
}

// ceeCookie starts a CEE-enhanced syslog message (rsyslog's mmjsonparse,
// syslog-ng's json-parser): the JSON object follows it.
const ceeCookie = "@cee:"

// jsonText returns the JSON object a text payload holds: payload without
// leading white space and a leading @cee: cookie.
func jsonText(payload []byte) []byte {
	b := bytes.TrimLeft(payload, " \t")
	if after, ok := bytes.CutPrefix(b, []byte(ceeCookie)); ok {
		b = bytes.TrimLeft(after, " \t")
	}
	return b
}

// sniffJSONText reports whether a text payload is a JSON object (from its
// first and last bytes; parsing tells for sure).
func sniffJSONText(payload []byte) bool {
	b := bytes.TrimRight(jsonText(payload), " \t\r\n")
	return len(b) >= 2 && b[0] == '{' && b[len(b)-1] == '}'
}
