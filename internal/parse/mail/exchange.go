package mail

import (
	"errors"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// Errors of the Exchange parser.
var (
	ErrExchangeHeader = errors.New("exchange: a log file's #-header line, not an event")
	ErrExchangeLayout = errors.New("exchange: not a message tracking, HTTP proxy or ECP server log line")
)

// SniffExchange reports whether payload looks like an Exchange Server CSV
// log line: an ISO 8601 UTC time, then a comma. It does not allocate.
func SniffExchange(payload []byte) bool {
	s := payload
	if len(s) < 21 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' {
		return false
	}
	for i := 19; i < len(s) && i < 32; i++ {
		if s[i] == 'Z' {
			return i+1 < len(s) && s[i+1] == ','
		}
	}
	return false
}

// ExchangeParser parses Exchange Server CSV logs: message tracking, the
// HTTP proxy logs (HttpProxy\*), and the ECP server log. The zero value is
// ready; it keeps buffers between calls and is not safe for concurrent use.
type ExchangeParser struct {
	o    out
	cols []string
}

// Message tracking columns, as Elastic's microsoft_exchange_server
// messagetracking pipeline names them (empty: the column is read below).
var trackingColumns = [...]string{
	"", "client.ip", "client.domain", "server.ip", "server.domain",
	"microsoft.exchange.sourcecontext", "microsoft.exchange.connectorid", "microsoft.exchange.source",
	"microsoft.exchange.eventid", "microsoft.exchange.internalmessageid", "email.message_id",
	"microsoft.exchange.networkmessageid", "", "microsoft.exchange.recipientstatus", "network.bytes",
	"microsoft.exchange.recipientcount", "microsoft.exchange.relatedrecipientaddress", "microsoft.exchange.reference",
	"email.subject", "", "microsoft.exchange.returnpath", "microsoft.exchange.messageinfo", "email.direction",
	"microsoft.exchange.tenantid", "microsoft.exchange.originalclientip", "microsoft.exchange.originalserverip",
	"microsoft.exchange.customdata", "microsoft.exchange.transporttraffictype", "microsoft.exchange.logid",
	"microsoft.exchange.schemaversion",
}

// HTTP proxy columns, as Elastic's httpproxy pipeline names them.
var proxyColumns = [...]string{
	"", "microsoft.exchange.requestid", "microsoft.exchange.majorversion", "microsoft.exchange.minorversion",
	"microsoft.exchange.buildversion", "microsoft.exchange.revisionversion", "microsoft.exchange.clientrequestid",
	"microsoft.exchange.protocol", "microsoft.exchange.urlhost", "microsoft.exchange.urlstem",
	"microsoft.exchange.protocolaction", "microsoft.exchange.authenticationtype", "microsoft.exchange.isauthenticated",
	"microsoft.exchange.authenticateduser", "microsoft.exchange.organization", "microsoft.exchange.anchormailbox",
	"user_agent.original", "microsoft.exchange.clientipaddress", "observer.hostname", "http.response.status_code",
	"microsoft.exchange.backendstatus", "microsoft.exchange.errorcode", "http.request.method",
	"microsoft.exchange.proxyaction", "microsoft.exchange.targetserver", "microsoft.exchange.targetserverversion",
	"microsoft.exchange.routingtype", "microsoft.exchange.routinghint", "microsoft.exchange.backendcookie",
	"microsoft.exchange.serverlocatorhost", "microsoft.exchange.serverlocatorlatency", "http.request.bytes",
	"http.response.bytes", "microsoft.exchange.targetoutstandingrequests", "microsoft.exchange.authmoduleperfcontext",
	"microsoft.exchange.httppipelinelatency", "microsoft.exchange.calculatetargetbackendlatency",
	"microsoft.exchange.glslatencybreakup", "microsoft.exchange.totalglslatency",
	"microsoft.exchange.accountforestlatencybreakup", "microsoft.exchange.totalaccountforestlatency",
	"microsoft.exchange.resourceforestlatencybreakup", "microsoft.exchange.totalresourceforestlatency",
	"microsoft.exchange.adlatency", "microsoft.exchange.sharedcachelatencybreakup",
	"microsoft.exchange.totalsharedcachelatency", "microsoft.exchange.activitycontextlifetime",
	"microsoft.exchange.moduletohandlerswitchinglatency", "microsoft.exchange.clientreqstreamlatency",
	"microsoft.exchange.backendreqinitlatency", "microsoft.exchange.backendreqstreamlatency",
	"microsoft.exchange.backendprocessinglatency", "microsoft.exchange.backendrespinitlatency",
	"microsoft.exchange.backendrespstreamlatency", "microsoft.exchange.clientrespstreamlatency",
	"microsoft.exchange.kerberosauthheaderlatency", "microsoft.exchange.handlercompletionlatency",
	"microsoft.exchange.requesthandlerlatency", "microsoft.exchange.handlertomoduleswitchinglatency",
	"microsoft.exchange.proxytime", "microsoft.exchange.corelatency", "microsoft.exchange.routinglatency",
	"microsoft.exchange.httpproxyoverhead", "microsoft.exchange.totalrequesttime",
	"microsoft.exchange.routerefresherlatency", "url.query", "microsoft.exchange.backendgenericinfo",
	"microsoft.exchange.genericinfo", "microsoft.exchange.genericerrors", "microsoft.exchange.edgetraceid",
	"microsoft.exchange.databaseguid", "microsoft.exchange.useradobjectguid",
	"microsoft.exchange.partitionendpointlookuplatency", "microsoft.exchange.routingstatus",
}

// Parse reads one line of an Exchange Server CSV log and appends its
// microsoft.exchange.* and ECS fields to dst.Fields.
func (p *ExchangeParser) Parse(payload []byte, dst *event.Event) error {
	s := strings.TrimRight(string(payload), "\r\n")
	if strings.TrimSpace(s) == "" {
		return ErrEmpty
	}
	if s[0] == '#' {
		return ErrExchangeHeader
	}
	p.cols = p.splitCSV(p.cols[:0], s)
	cols := p.cols
	t, err := time.Parse(time.RFC3339Nano, cols[0])
	if err != nil || len(cols[0]) < 20 || cols[0][13] != ':' || t.Year() < 1970 {
		return ErrExchangeLayout
	}
	var layout func([]string)
	switch {
	case len(cols) >= 20 && isEventID(cols[8]):
		layout = p.tracking
	case len(cols) >= 20 && isGUID(cols[1]) && ecs.IsDigits(cols[2]):
		layout = p.proxy
	case len(cols) == 4 && strings.Contains(cols[2], "."):
		layout = p.ecp
	default:
		return ErrExchangeLayout
	}
	o := &p.o
	o.reset(dst)
	o.module = "microsoft_exchange_server"
	o.add("observer.vendor", "Microsoft")
	o.add("observer.product", "Exchange Server")
	layout(cols)
	dst.Time = t.UTC()
	o.finish()
	return nil
}

// isEventID reports whether s is a message tracking event ID (RECEIVE,
// DELIVER, SEND, FAIL, DSN, AGENTINFO, ...).
func isEventID(s string) bool {
	if len(s) < 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'A' || c > 'Z') && c != '_' {
			return false
		}
	}
	return true
}

func isGUID(s string) bool {
	return len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-'
}

// tracking maps a message tracking line.
func (p *ExchangeParser) tracking(cols []string) {
	o := &p.o
	o.dataset = "microsoft_exchange_server.messagetracking"
	o.add("microsoft.exchange.logtype", "messagetracking")
	for i, c := range cols {
		if i >= len(trackingColumns) || c == "" {
			continue
		}
		switch i {
		case 0:
		case 12: // recipient-address: ';'-separated
			rcpts := strings.Split(c, ";")
			o.add("email.to.address", o.array(rcpts...))
			for _, r := range rcpts {
				o.relUser(r)
			}
		case 19: // sender-address
			o.add("email.sender.address", c)
			o.add("email.from.address", p.originalFrom(cols, c))
			o.relUser(c)
		case 1, 3:
			if isIP(c) {
				o.add(trackingColumns[i], c)
				o.relIP(c)
			}
		case 4:
			o.add(trackingColumns[i], c)
			o.add("observer.hostname", c)
		case 11:
			o.add(trackingColumns[i], c)
			o.add("email.local_id", c)
		default:
			o.add(trackingColumns[i], c)
		}
	}
	o.set(catEmail, typeInfo)
	ev := cols[8]
	o.action = strings.ToLower(ev)
	switch ev {
	case "FAIL":
		o.outcome = "failure"
	case "DELIVER", "SEND", "RECEIVE":
		o.outcome = "success"
	}
}

// originalFrom returns the S:OriginalFromAddress of the custom data
// column when it names one, else the sender address.
func (p *ExchangeParser) originalFrom(cols []string, sender string) string {
	if len(cols) > 26 {
		if _, r, ok := strings.Cut(cols[26], "S:OriginalFromAddress="); ok {
			a, _, _ := strings.Cut(r, ";")
			if a != "" && a != "<>" {
				return a
			}
		}
	}
	return sender
}

// proxy maps an HTTP proxy log line.
func (p *ExchangeParser) proxy(cols []string) {
	o := &p.o
	o.dataset = "microsoft_exchange_server.httpproxy"
	o.add("microsoft.exchange.logtype", "httpproxy")
	status := ""
	for i, c := range cols {
		if i >= len(proxyColumns) || c == "" || i == 0 {
			continue
		}
		o.add(proxyColumns[i], c)
		switch i {
		case 9:
			o.add("url.path", c)
		case 13: // DOMAIN\user or user@domain
			u := c
			if j := strings.LastIndexByte(u, '\\'); j >= 0 {
				u = u[j+1:]
			}
			o.add("user.name", u)
			o.relUser(u)
		case 17: // one address, or "external internal"
			ip, _ := cutWord(strings.TrimSpace(c))
			if isIP(ip) {
				o.add("source.ip", ip)
				o.relIP(ip)
			}
		case 19:
			status = c
		}
	}
	o.set(catWeb, typeAccess)
	if len(status) == 3 && ecs.IsDigits(status) {
		if status[0] < '4' {
			o.outcome = "success"
		} else {
			o.outcome = "failure"
		}
	}
}

// ecp maps an ECP server log line: DateTime,ServerName,EventId,EventData,
// where EventData is "S:KEY=VALUE;..." (a pair may be single-quoted, a
// doubled single quote standing for one).
func (p *ExchangeParser) ecp(cols []string) {
	o := &p.o
	o.dataset = "microsoft_exchange_server.ecp"
	o.add("microsoft.exchange.logtype", "ecp")
	o.add("observer.hostname", cols[1])
	o.add("microsoft.exchange.eventid", cols[2])
	o.add("microsoft.exchange.eventdata", cols[3])
	o.action = cols[2]
	for _, kv := range p.ecpPairs(cols[3]) {
		switch kv.key {
		case "S:CMD":
			o.add("microsoft.exchange.ecp.cmd", kv.val)
		case "S:URL":
			o.add("url.original", kv.val)
			path, _, _ := strings.Cut(kv.val, "?")
			o.add("url.path", path)
		case "S:SID":
			o.add("microsoft.exchange.ecp.sid", kv.val)
		case "S:ACTID":
			o.add("microsoft.exchange.ecp.activity_id", kv.val)
		case "S:REQID":
			o.add("microsoft.exchange.ecp.request_id", kv.val)
		case "S:TIME":
			o.add("microsoft.exchange.ecp.time", kv.val)
		case "S:EX":
			o.add("microsoft.exchange.ecp.exception", kv.val)
		case "S:BLD":
			o.add("microsoft.exchange.ecp.build", kv.val)
		}
	}
	o.set(catWeb, typeAccess)
}

// ecpPairs splits ECP event data into its S:KEY=VALUE pairs; a quoted
// pair ends at a single quote that is not doubled.
func (p *ExchangeParser) ecpPairs(s string) []kvPair {
	var out []kvPair
	for s != "" {
		var item string
		if s[0] == '\'' {
			// quoted: up to a lone quote; a doubled one is a quote
			j := 1
			for j < len(s) {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			item = strings.ReplaceAll(s[1:min(j, len(s))], "''", "'")
			s = s[min(j+1, len(s)):]
			s = strings.TrimPrefix(s, ";")
		} else {
			item, s, _ = strings.Cut(s, ";")
		}
		if k, v, ok := strings.Cut(item, "="); ok && v != "" {
			out = append(out, kvPair{k, v})
		}
	}
	return out
}

// splitCSV splits an RFC 4180 line: fields separated by commas, quoted
// fields with "" for a quote.
func (p *ExchangeParser) splitCSV(dst []string, s string) []string {
	for {
		if strings.HasPrefix(s, `"`) {
			j := 1
			esc := false
			for j < len(s) {
				if s[j] == '"' {
					if j+1 < len(s) && s[j+1] == '"' {
						esc = true
						j += 2
						continue
					}
					break
				}
				j++
			}
			f := s[1:min(j, len(s))]
			if esc {
				f = strings.ReplaceAll(f, `""`, `"`)
			}
			dst = append(dst, f)
			s = s[min(j+1, len(s)):]
			if !strings.HasPrefix(s, ",") {
				return dst
			}
			s = s[1:]
			continue
		}
		f, rest, more := strings.Cut(s, ",")
		dst = append(dst, f)
		if !more {
			return dst
		}
		s = rest
	}
}
