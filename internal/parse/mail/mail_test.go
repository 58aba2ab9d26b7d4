package mail

import (
	"errors"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

var ref = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

type parseFunc func([]byte, *event.Event) error

// parsers returns a fresh parser of each type.
func parsers() map[string]parseFunc {
	return map[string]parseFunc{
		TypePostfix:     (&PostfixParser{}).Parse,
		TypeFortiMail:   (&FortiMailParser{}).Parse,
		TypeMailScanner: (&MailScannerParser{}).Parse,
		TypeExchange:    (&ExchangeParser{}).Parse,
	}
}

func run(t *testing.T, parse parseFunc, line string, env ...event.Field) (map[string]string, time.Time) {
	t.Helper()
	ev := event.Event{Time: ref, Fields: env}
	if err := parse([]byte(line), &ev); err != nil {
		t.Fatalf("Parse(%q): %v", line, err)
	}
	for _, f := range ev.Fields {
		if f.Name == event.FieldOriginal {
			t.Error("the parser must not emit event.original")
		}
	}
	return parsertest.Fields(&ev), ev.Time
}

// check reports each wanted field the event lacks or holds with another
// value; "-" wants the field absent.
func check(t *testing.T, got, want map[string]string) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		switch {
		case w == "-" && ok:
			t.Errorf("%s = %q, want it absent", k, g)
		case w != "-" && !ok:
			t.Errorf("%s missing, want %q", k, w)
		case w != "-" && g != w:
			t.Errorf("%s = %q, want %q", k, g, w)
		}
	}
}

func TestPostfix(t *testing.T) {
	for _, c := range []struct {
		name, line string
		want       map[string]string
	}{
		{"smtpd connect", "Mar  1 10:00:00 mx1 postfix/smtpd[100]: connect from mail.example.org[192.0.2.10]",
			map[string]string{"source.ip": "192.0.2.10", "source.domain": "mail.example.org", "event.category": `["email","network"]`,
				"event.type": `["connection","start"]`, "event.action": "connect", "postfix.component": "smtpd",
				"host.hostname": "mx1", "process.name": "postfix/smtpd", "process.pid": "100", "event.module": "postfix",
				"event.dataset": "postfix.log", "event.kind": "event", "ecs.version": "8.17.0", "related.ip": `["192.0.2.10"]`}},
		{"smtpd disconnect of an unknown client", "Mar  1 10:00:01 mx1 postfix/smtpd[100]: disconnect from unknown[192.0.2.11] ehlo=1 mail=1 rcpt=0/1 commands=2/3",
			map[string]string{"source.ip": "192.0.2.11", "source.domain": "-", "event.type": `["connection","end"]`}},
		{"client with sasl login", "Mar  1 10:00:02 mx1 postfix/submission/smtpd[101]: 4F2A91C0D3: client=laptop.example.org[198.51.100.4]:51234, sasl_method=PLAIN, sasl_username=alice@example.org",
			map[string]string{"postfix.queue_id": "4F2A91C0D3", "postfix.component": "smtpd", "source.ip": "198.51.100.4", "source.port": "51234",
				"postfix.sasl_method": "PLAIN", "user.name": "alice@example.org", "related.user": `["alice@example.org"]`}},
		{"cleanup message-id", "Mar  1 10:00:03 mx1 postfix/cleanup[102]: 4F2A91C0D3: message-id=<20260301100003.ABC@example.org>",
			map[string]string{"email.message_id": "20260301100003.ABC@example.org", "postfix.queue_id": "4F2A91C0D3"}},
		{"qmgr from", "Mar  1 10:00:04 mx1 postfix/qmgr[103]: 4F2A91C0D3: from=<alice@example.org>, size=2048, nrcpt=2 (queue active)",
			map[string]string{"email.from.address": "alice@example.org", "postfix.size": "2048", "postfix.nrcpt": "2"}},
		{"smtp sent", "Mar  1 10:00:05 mx1 postfix/smtp[104]: 4F2A91C0D3: to=<bob@example.net>, relay=mx.example.net[203.0.113.25]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9XYZ)",
			map[string]string{"email.to.address": "bob@example.net", "destination.ip": "203.0.113.25", "destination.port": "25",
				"destination.domain": "mx.example.net", "postfix.delay": "1.2", "postfix.delays": "0.1/0/0.5/0.6", "postfix.dsn": "2.0.0",
				"postfix.status": "sent", "postfix.response": "250 2.0.0 Ok: queued as 9XYZ", "event.outcome": "success", "event.action": "sent",
				"postfix.relay": "mx.example.net[203.0.113.25]:25"}},
		{"smtp bounced with orig_to", "Mar  1 10:00:06 mx1 postfix/smtp[104]: 4F2A91C0D3: to=<carol@example.net>, orig_to=<c@example.net>, relay=mx.example.net[203.0.113.25]:25, delay=0.3, delays=0/0/0.1/0.2, dsn=5.1.1, status=bounced (host mx.example.net[203.0.113.25] said: 550 5.1.1 user unknown (in reply to RCPT TO command))",
			map[string]string{"postfix.status": "bounced", "event.outcome": "failure", "postfix.orig_to": "c@example.net",
				"event.reason": "host mx.example.net[203.0.113.25] said: 550 5.1.1 user unknown (in reply to RCPT TO command)"}},
		{"deferred to a local transport", "Mar  1 10:00:07 mx1 postfix/lmtp[105]: 4F2A91C0D3: to=<dave@example.org>, relay=private/dovecot-lmtp, delay=30, delays=0/0/30/0, dsn=4.4.2, status=deferred (lost connection)",
			map[string]string{"event.outcome": "unknown", "postfix.relay": "private/dovecot-lmtp", "destination.domain": "-", "destination.ip": "-"}},
		{"noqueue reject", "Mar  1 10:00:08 mx1 postfix/smtpd[106]: NOQUEUE: reject: RCPT from unknown[192.0.2.66]:40000: 554 5.7.1 <victim@example.org>: Relay access denied; from=<spam@bad.example> to=<victim@example.org> proto=ESMTP helo=<bad.example>",
			map[string]string{"postfix.queue_id": "-", "postfix.action": "reject", "postfix.stage": "RCPT", "source.ip": "192.0.2.66", "source.port": "40000",
				"postfix.response_code": "554", "postfix.dsn": "5.7.1", "event.reason": "<victim@example.org>: Relay access denied",
				"email.from.address": "spam@bad.example", "email.to.address": "victim@example.org", "postfix.proto": "ESMTP",
				"postfix.helo": "bad.example", "event.outcome": "failure", "event.action": "reject"}},
		{"milter reject", "Mar  1 10:00:09 mx1 postfix/cleanup[107]: 5A1B2C3D4E: milter-reject: END-OF-MESSAGE from unknown[192.0.2.67]: 5.7.1 Spam message rejected; from=<x@bad.example> to=<y@example.org> proto=ESMTP helo=<h>",
			map[string]string{"postfix.action": "milter-reject", "postfix.stage": "END-OF-MESSAGE", "postfix.dsn": "5.7.1", "event.outcome": "failure",
				"source.ip": "192.0.2.67", "email.from.address": "x@bad.example"}},
		{"header check with subject", "Mar  1 10:00:10 mx1 postfix/cleanup[107]: 6A1B2C3D4E: warning: header Subject: Invoice 42 from unknown[192.0.2.68]; from=<x@bad.example> to=<y@example.org> proto=ESMTP helo=<h>",
			map[string]string{"email.subject": "Invoice 42", "postfix.action": "warning", "source.ip": "192.0.2.68", "email.to.address": "y@example.org"}},
		{"sasl failure", "Mar  1 10:00:11 mx1 postfix/smtpd[108]: warning: unknown[192.0.2.69]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
			map[string]string{"source.ip": "192.0.2.69", "postfix.sasl_method": "LOGIN", "event.outcome": "failure",
				"event.category": `["email","authentication"]`}},
		{"postscreen connect", "Mar  1 10:00:12 mx1 postfix/postscreen[109]: CONNECT from [192.0.2.70]:5555 to [198.51.100.1]:25",
			map[string]string{"source.ip": "192.0.2.70", "source.port": "5555", "destination.ip": "198.51.100.1", "destination.port": "25"}},
		{"postscreen dnsbl", "Mar  1 10:00:13 mx1 postfix/postscreen[109]: DNSBL rank 3 for [192.0.2.71]:5556",
			map[string]string{"source.ip": "192.0.2.71", "source.port": "5556", "event.action": "dnsbl"}},
		{"pickup", "Mar  1 10:00:14 mx1 postfix/pickup[110]: 7A1B2C3D4E: uid=0 from=<root>",
			map[string]string{"user.id": "0", "email.from.address": "root"}},
		{"long queue id removed", "Mar  1 10:00:15 mx1 postfix/qmgr[103]: 4Wb8Q63D7Sz9sB8: removed",
			map[string]string{"postfix.queue_id": "4Wb8Q63D7Sz9sB8", "event.action": "removed"}},
		{"unknown postfix message keeps its header", "Mar  1 10:00:16 mx1 postfix/master[1]: daemon started -- version 3.8.1",
			map[string]string{"event.category": `["host"]`, "host.hostname": "mx1"}},
		{"address in brackets anywhere", "Mar  1 10:00:17 mx1 postfix/smtpd[111]: warning: hostname x.example does not resolve to address 192.0.2.72: Name or service not known",
			map[string]string{"event.category": `["host"]`}},
		{"ipv6 client", "Mar  1 10:00:18 mx1 postfix/smtpd[112]: connect from mail.example.org[2001:db8::25]",
			map[string]string{"source.ip": "2001:db8::25"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _ := run(t, (&PostfixParser{}).Parse, c.line)
			check(t, got, c.want)
		})
	}
}

// TestPostfixEnvelope: the message alone, host and program from the
// envelope.
func TestPostfixEnvelope(t *testing.T) {
	got, tm := run(t, (&PostfixParser{}).Parse, "4F2A91C0D3: message-id=<a@b>",
		event.Field{Name: "log.syslog.hostname", Value: "mx2"}, event.Field{Name: "log.syslog.appname", Value: "postfix/cleanup"})
	check(t, got, map[string]string{"host.hostname": "mx2", "postfix.component": "cleanup", "email.message_id": "a@b"})
	if !tm.Equal(ref) {
		t.Errorf("time %v, want the envelope's %v", tm, ref)
	}
}

func TestFortiMail(t *testing.T) {
	for _, c := range []struct {
		name, line string
		want       map[string]string
	}{
		{"statistics, space separated, behind a header",
			`2026-03-01T10:00:00.5+01:00 192.0.2.1 date=2026-03-01 time=10:00:01.250 device_id=FE000TEST0000001 log_id=0200001234 type=statistics pri=information session_id="abc-1" client_name="mail.example.org" client_ip="198.51.100.7" dst_ip="192.0.2.25" from="alice@example.org" to="bob@example.com" subject="Quarterly \"numbers\"" direction="in" resolved="OK" message_id="m1@example.org" disposition="Accept" message_length="1024"`,
			map[string]string{"observer.vendor": "Fortinet", "observer.product": "FortiMail", "observer.ip": "192.0.2.1",
				"observer.serial_number": "FE000TEST0000001", "event.code": "0200001234", "fortinet_fortimail.log.type": "statistics",
				"log.level": "information", "source.ip": "198.51.100.7", "source.user.name": "mail.example.org", "destination.ip": "192.0.2.25",
				"email.from.address": "alice@example.org", "email.to.address": "bob@example.com", "email.subject": `Quarterly "numbers"`,
				"email.direction": "in", "email.message_id": "m1@example.org", "fortinet_fortimail.log.message_length": "1024",
				"event.outcome": "success", "event.category": `["email"]`, "event.type": `["info"]`,
				"event.module": "fortinet_fortimail", "event.dataset": "fortinet_fortimail.log",
				"related.ip": `["198.51.100.7","192.0.2.25"]`}},
		{"comma separated with a PRI, as Elastic's integration expects",
			`<189>date=2026-03-01,time=10:00:02,device_id=FE000TEST0000001,log_id=0001001623,type=kevent,subtype=admin,pri=warning,user=admin,ui=ssh(192.0.2.50),action=login,status=failure,msg="User admin login failed from ssh(192.0.2.50)"`,
			map[string]string{"user.name": "admin", "source.ip": "192.0.2.50", "network.protocol": "ssh", "event.action": "login",
				"event.outcome": "failure", "event.category": `["authentication"]`, "fortinet_fortimail.log.status": "failure",
				"message": "User admin login failed from ssh(192.0.2.50)", "fortinet_fortimail.log.sub_type": "admin"}},
		{"config deletion", `date=2026-03-01 time=10:00:03 device_id=FE000TEST0000001 log_id=0001001700 type=kevent subtype=config pri=information user=admin ui=GUI(192.0.2.51) msg="deleted policy 7"`,
			map[string]string{"event.category": `["configuration"]`, "event.type": `["deletion"]`}},
		{"virus", `date=2026-03-01 time=10:00:04 device_id=FE000TEST0000001 log_id=0100000924 type=virus subtype=infected pri=information from="x@bad.example" to="y@example.org" src=192.0.2.52 msg="The file a.exe is infected with TEST_SIG."`,
			map[string]string{"source.ip": "192.0.2.52", "event.category": `["email","malware"]`, "email.from.address": "x@bad.example"}},
		{"spam with a bracketed client", `date=2026-03-01 time=10:00:05 device_id=FE000TEST0000001 log_id=0300000924 type=spam pri=information client_name="[192.0.2.53]" to="y@example.org" msg="Detected by test"`,
			map[string]string{"source.ip": "192.0.2.53", "source.user.name": "[192.0.2.53]"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _ := run(t, (&FortiMailParser{}).Parse, c.line)
			check(t, got, c.want)
		})
	}
	_, tm := run(t, (&FortiMailParser{}).Parse, `date=2026-03-01 time=10:00:01.250 device_id=FE1 log_id=1 type=statistics`)
	if want := time.Date(2026, 3, 1, 10, 0, 1, 250e6, time.UTC); !tm.Equal(want) {
		t.Errorf("time %v, want %v", tm, want)
	}
}

func TestMailScanner(t *testing.T) {
	for _, c := range []struct {
		name, line string
		want       map[string]string
	}{
		{"spam", "Mar  1 10:00:00 mx1 MailScanner[2000]: Message 4F2A91C0D3.A1B2C from 192.0.2.80 (spam@bad.example) to example.org is spam, SpamAssassin (not cached, score=14.2, required 5, BAYES_99 3.50)",
			map[string]string{"mailscanner.message_id": "4F2A91C0D3.A1B2C", "source.ip": "192.0.2.80", "email.from.address": "spam@bad.example",
				"mailscanner.to_domain": "example.org", "mailscanner.verdict": "spam", "mailscanner.score": "14.2", "event.action": "spam",
				"event.category": `["email"]`, "host.hostname": "mx1", "process.name": "MailScanner", "event.module": "mailscanner"}},
		{"not spam", "Mar  1 10:00:01 mx1 MailScanner[2000]: Message 5F2A91C0D3.A1B2C from 192.0.2.81 (a@example.net) to example.org is not spam, SpamAssassin (cached, score=0.3, required 5)",
			map[string]string{"event.action": "not-spam", "mailscanner.score": "0.3"}},
		{"infected", "Mar  1 10:00:02 mx1 MailScanner[2000]: Infected message 6F2A91C0D3.A1B2C came from 192.0.2.82",
			map[string]string{"source.ip": "192.0.2.82", "event.category": `["email","malware"]`, "event.action": "virus"}},
		{"notice", "Mar  1 10:00:03 mx1 MailScanner[2000]: Spam Checks: Found 2 spam messages",
			map[string]string{"event.action": "spam-checks", "event.category": `["email"]`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _ := run(t, (&MailScannerParser{}).Parse, c.line)
			check(t, got, c.want)
		})
	}
}

// trackingLine is a synthetic Exchange message tracking line (30 columns).
const trackingLine = `2026-03-01T10:00:00.123Z,192.0.2.90,client.example.org,192.0.2.91,EXCH01,08DA1234;250 2.0.0 OK,EXCH01\Default Frontend,SMTP,RECEIVE,12345,<m2@example.org>,0f1e2d3c-0000-1111-2222-333344445555,bob@example.org;carol@example.org,,4096,2,,,"Hello, ""world""",alice@example.net,alice@example.net,,Incoming,,,,S:OriginalFromAddress=alice@example.net;,Email,,15.02.1118.007`

func TestExchange(t *testing.T) {
	for _, c := range []struct {
		name, line string
		want       map[string]string
	}{
		{"message tracking", trackingLine,
			map[string]string{"client.ip": "192.0.2.90", "client.domain": "client.example.org", "server.ip": "192.0.2.91", "server.domain": "EXCH01",
				"observer.hostname": "EXCH01", "microsoft.exchange.eventid": "RECEIVE", "email.message_id": "<m2@example.org>",
				"email.to.address": `["bob@example.org","carol@example.org"]`, "network.bytes": "4096", "microsoft.exchange.recipientcount": "2",
				"email.subject": `Hello, "world"`, "email.sender.address": "alice@example.net", "email.from.address": "alice@example.net",
				"email.direction": "Incoming", "email.local_id": "0f1e2d3c-0000-1111-2222-333344445555",
				"microsoft.exchange.schemaversion": "15.02.1118.007", "event.action": "receive", "event.outcome": "success",
				"event.category": `["email"]`, "event.dataset": "microsoft_exchange_server.messagetracking",
				"related.user": `["bob@example.org","carol@example.org","alice@example.net"]`}},
		{"http proxy", `2026-03-01T10:00:01.000Z,0a1b2c3d-0000-1111-2222-333344445555,15,2,1118,7,,Owa,mail.example.org,/owa/service.svc,,Negotiate,True,EXAMPLE\alice,,,Mozilla/5.0,192.0.2.92,EXCH01,500,500,,POST,Proxy,exch02.example.org,15.02.1118.007`,
			map[string]string{"microsoft.exchange.protocol": "Owa", "url.path": "/owa/service.svc", "user.name": "alice",
				"microsoft.exchange.authenticateduser": `EXAMPLE\alice`, "source.ip": "192.0.2.92", "observer.hostname": "EXCH01",
				"http.response.status_code": "500", "http.request.method": "POST", "event.outcome": "failure", "event.category": `["web"]`}},
		{"ecp server log", `2026-03-01T10:00:02.000Z,EXCH01,ECP.Request,"S:TIME=12;'S:CMD=Get-Mailbox.Identity=''alice''';S:URL=/ecp/x.svc?a=1;S:EX="`,
			map[string]string{"observer.hostname": "EXCH01", "microsoft.exchange.ecp.cmd": "Get-Mailbox.Identity='alice'",
				"url.original": "/ecp/x.svc?a=1", "url.path": "/ecp/x.svc", "event.action": "ECP.Request", "microsoft.exchange.ecp.exception": "-"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _ := run(t, (&ExchangeParser{}).Parse, c.line)
			check(t, got, c.want)
		})
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		typ, in string
		want    error
	}{
		{TypePostfix, "", ErrEmpty},
		{TypePostfix, "hello there", ErrNotPostfix},
		{TypeFortiMail, " \n", ErrEmpty},
		{TypeFortiMail, "no pairs at all", ErrNoPairs},
		{TypeFortiMail, "a=1 b=2", ErrNotFortiMail},
		{TypeMailScanner, "plain words", ErrNotMailScanner},
		{TypeExchange, "#Fields: date-time,client-ip", ErrExchangeHeader},
		{TypeExchange, "2026-03-01T10:00:00Z,a,b", ErrExchangeLayout},
		{TypeExchange, "not,a,log", ErrExchangeLayout},
	} {
		ev := event.Event{Time: ref}
		if err := parsers()[c.typ](([]byte)(c.in), &ev); !errors.Is(err, c.want) {
			t.Errorf("%s %q: %v, want %v", c.typ, c.in, err, c.want)
		}
	}
}

func TestSniff(t *testing.T) {
	for _, c := range []struct {
		in                   string
		postfix, fm, ms, exc bool
	}{
		{"Mar  1 10:00:00 mx1 postfix/smtpd[100]: connect from x[192.0.2.1]", true, false, false, false},
		{"NOQUEUE: reject: RCPT from x[192.0.2.1]: 554", true, false, false, false},
		{"date=2026-03-01 time=10:00:00 device_id=FE100 log_id=1 type=statistics", false, true, false, false},
		{"date=2026-03-01 time=10:00:00 devname=fw device_id=FGT60 log_id=1 type=traffic", false, false, false, false},
		{"Mar  1 10:00:00 mx1 MailScanner[2000]: Message x from 1.2.3.4", false, false, true, false},
		{trackingLine, false, false, false, true},
		{"2026-03-01T10:00:00Z host sshd[1]: x", false, false, false, false},
		{"Mar  1 10:00:00 mx1 postfix-out/smtp[2]: 4F1: to=<a@b>", true, false, false, false},
		{"Mar  1 10:00:00 mx1 MailScanner: Message x", false, false, true, false},
		{"Mar  1 10:00:00 mx1 MailScanner/x: Message x", false, false, false, false},
	} {
		if got := SniffPostfix([]byte(c.in)); got != c.postfix {
			t.Errorf("SniffPostfix(%q) = %v", c.in, got)
		}
		if got := SniffFortiMail([]byte(c.in)); got != c.fm {
			t.Errorf("SniffFortiMail(%q) = %v", c.in, got)
		}
		if got := SniffMailScanner([]byte(c.in)); got != c.ms {
			t.Errorf("SniffMailScanner(%q) = %v", c.in, got)
		}
		if got := SniffExchange([]byte(c.in)); got != c.exc {
			t.Errorf("SniffExchange(%q) = %v", c.in, got)
		}
	}
	b := []byte(trackingLine)
	if n := testing.AllocsPerRun(50, func() { SniffPostfix(b); SniffFortiMail(b); SniffMailScanner(b); SniffExchange(b) }); n != 0 {
		t.Errorf("sniffers allocate %.0f times", n)
	}
}
