package detect

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/sigma"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// ruleChecker compiles rules (id: the rest of a Sigma rule after its title
// and id) with the default mapping, and tells which of them fire on a
// record parsed as the server parses it: how says how it came, "syslog"
// (a syslog line), "line" (a file shipper's line, as JSON with the line in
// message) or "json" (a JSON record as it is), the last two by HTTP,
// "plain" (a JSON record of a source declared as the plain json type), or
// "bulk" (a document of the Elasticsearch bulk receiver).
func ruleChecker(t *testing.T, rules map[string]string) func(t *testing.T, how, record string) (typ string, fired []string) {
	t.Helper()
	var rs []*sigma.Rule
	for _, id := range slices.Sorted(maps.Keys(rules)) {
		parsed, err := sigma.Parse(id+".yml", []byte("title: "+id+"\nid: "+id+"\n"+rules[id]+"\n"))
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		rs = append(rs, parsed...)
	}
	e, err := Compile(rs, Options{})
	if err != nil || len(e.Skipped()) != 0 {
		t.Fatalf("compile: %v %+v", err, e.Skipped())
	}
	p, err := parse.New(parse.Config{Sources: []parse.Source{{Tenant: "plain", Type: "json"}}})
	if err != nil {
		t.Fatal(err)
	}
	pp := p.NewParser()
	received := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	return func(t *testing.T, how, record string) (string, []string) {
		t.Helper()
		data, source, tenantID := []byte(record), "http", "council-a"
		switch how {
		case "plain":
			tenantID = "plain"
		case "syslog":
			source = "syslog"
		case "bulk":
			source = string(event.KindElasticsearch)
		case "line":
			data, _ = json.Marshal(map[string]string{"message": record})
		}
		evs, err := pp.Parse(tenant.ID(tenantID), event.Raw{Received: received, Source: source, Data: data}, nil)
		if err != nil || len(evs) != 1 {
			t.Fatalf("parse: %d events, %v", len(evs), err)
		}
		typ, _ := evs[0].Get("tarian.source.type")
		var fired []string
		e.EvaluateFields(nil, evs[0].Fields, func(m Match) { fired = append(fired, m.RuleID) })
		slices.Sort(fired)
		return typ, fired
	}
}

// formatCase is a record, how it comes (see ruleChecker), and the rules
// that must fire on it, no others.
type formatCase struct {
	how, record string
	want        []string
}

func checkFormat(t *testing.T, typ string, rules map[string]string, cases []formatCase) {
	fired := ruleChecker(t, rules)
	for i, tc := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			got, ids := fired(t, tc.how, tc.record)
			if got != typ {
				t.Fatalf("detected as %q, want %s", got, typ)
			}
			if diff := cmp.Diff(tc.want, ids); diff != "" {
				t.Errorf("%s\nrules fired (-want +got):\n%s", tc.record, diff)
			}
		})
	}
}

// TestWebServerRules: access log lines of Apache, nginx and IIS against
// rules written as SigmaHQ's webserver rules are (cs-uri-query the whole
// request target, keywords over the line); a proxy rule does not read them.
func TestWebServerRules(t *testing.T) {
	checkFormat(t, "web-access", map[string]string{
		"traversal": "logsource: {category: webserver}\ndetection:\n  s: {cs-uri-query|contains: '../../../etc/'}\n  condition: s",
		"scanner":   "logsource: {category: webserver}\ndetection:\n  s: {sc-status: 404, cs-user-agent|contains: 'Nikto'}\n  condition: s",
		"owa-query": "logsource: {category: webserver}\ndetection:\n  s: {cs-uri-query|contains: 'logon.aspx?replaceCurrent', cs-method: GET}\n  condition: s",
		"ecp-user":  "logsource: {category: webserver}\ndetection:\n  s: {cs-uri-stem|startswith: '/ecp/', cs-username: bob, c-ip: 198.51.100.7}\n  condition: s",
		"ognl":      "logsource: {category: webserver}\ndetection:\n  keywords: ['${(#a=@']\n  condition: keywords",
		"referrer":  "logsource: {category: webserver}\ndetection:\n  s: {cs-referer|contains: 'evil.example'}\n  condition: s",
		"proxy-get": "logsource: {category: proxy}\ndetection:\n  s: {cs-method: GET}\n  condition: s",
	}, []formatCase{
		{"syslog", `<14>Dec  7 10:00:02 web01 nginx: 198.51.100.4 - - [07/Dec/2026:10:00:03 +0100] "GET /cgi-bin/../../../etc/passwd HTTP/1.1" 400 0 "-" "curl/8.0"`, []string{"traversal"}},
		{"line", `203.0.113.9 - - [07/Dec/2026:10:00:02 +0000] "GET /admin.php HTTP/1.1" 404 153 "https://evil.example/x" "Mozilla/5.00 (Nikto/2.5.0)"`, []string{"referrer", "scanner"}},
		{"line", `www.council.gov.uk:443 203.0.113.50 - - [07/Dec/2026:10:01:00 +0000] "GET /index.action?redirect:${(#a=@java.lang.Runtime@getRuntime().exec(%22id%22))} HTTP/1.1" 200 12 "-" "Mozilla/5.0"`, []string{"ognl"}},
		{"line", `2026-12-07 10:00:02 10.0.0.5 GET /owa/auth/logon.aspx replaceCurrent=1&url=https%3a%2f%2fmail 443 - 198.51.100.7 Mozilla/5.0+(Windows+NT+10.0) - 200 0 0 15`, []string{"owa-query"}},
		{"line", `2026-12-07 10:00:05 10.0.0.5 POST /ecp/DDI/DDIService.svc/GetList - 443 CONTOSO\bob 198.51.100.7 python-requests/2.31 302 0 0 31`, []string{"ecp-user"}},
		{"line", `192.168.1.2 - - [07/Dec/2026:10:00:06 +0000] "GET /etc/passwd HTTP/1.1" 200 157 "-" "-"`, nil},
	})
}

// TestCiscoIOSRules: IOS messages against rules written as SigmaHQ's
// cisco rules are (keywords over the message): the aaa ones read only the
// configuration commands the archive logger records, the syslog ones
// every message.
func TestCiscoIOSRules(t *testing.T) {
	checkFormat(t, "cisco-ios", map[string]string{
		"aaa-logging":  "logsource: {product: cisco, service: aaa}\ndetection:\n  keywords: ['no logging', 'no aaa new-model']\n  condition: keywords",
		"aaa-account":  "logsource: {product: cisco, service: aaa}\ndetection:\n  keywords: ['username']\n  condition: keywords",
		"syslog-webui": "logsource: {product: cisco, service: syslog}\ndetection:\n  event: ['%SYS-5-CONFIG_P:']\n  user: ['cisco_tac_admin']\n  condition: event and user",
		"bgp-md5":      "logsource: {product: cisco, service: bgp}\ndetection:\n  k:\n    '|all': [':179', 'IP-TCP-3-BADAUTH']\n  condition: k",
		"login-failed": "logsource: {product: cisco, service: syslog}\ndetection:\n  s: {event.outcome: failure, user.name: admin, source.ip: 198.51.100.9}\n  condition: s",
	}, []formatCase{
		{"syslog", `<189>2010: rtr1: Dec  7 10:00:09 UTC: %PARSER-5-CFGLOG_LOGGEDCMD: User:netadmin  logged command:no logging host 192.0.2.50`, []string{"aaa-logging"}},
		{"syslog", `<189>2011: rtr1: Dec  7 10:00:10 UTC: %PARSER-5-CFGLOG_LOGGEDCMD: User:netadmin  logged command:username backdoor privilege 15 secret 0 x`, []string{"aaa-account"}},
		// Not a command: the aaa rules do not read it.
		{"syslog", `<189>2012: rtr1: Dec  7 10:00:11 UTC: %SYS-5-LOG_CONFIG_CHANGE: Buffer logging: level debugging, no logging username check`, nil},
		{"syslog", `<189>2004: Dec  7 10:00:04 UTC: %SYS-5-CONFIG_P: Configured programmatically by process SEP_webui_wsma_http from console as cisco_tac_admin on line`, []string{"syslog-webui"}},
		{"syslog", `<187>2013: rtr1: Dec  7 10:00:12 UTC: %IP-TCP-3-BADAUTH: Invalid MD5 digest from 192.0.2.9:179 to 192.0.2.1:33211`, []string{"bgp-md5"}},
		{"line", `88: Dec  7 10:00:01.500 GMT: %SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: admin] [Source: 198.51.100.9] [localport: 22] [Reason: Login Authentication Failed] at 10:00:01 GMT Mon Dec 7 2026`, []string{"login-failed"}},
	})
}

// TestSaaSAuditRules: cloud and SaaS audit records sent as their own JSON
// (the json type) against rules on the fields SigmaHQ's rules for them
// read; each source's rule fires on its records alone.
func TestSaaSAuditRules(t *testing.T) {
	rule := func(product, service, sel string) string {
		return "logsource: {product: " + product + ", service: " + service + "}\ndetection:\n  s: {" + sel + "}\n  condition: s"
	}
	checkFormat(t, "json", map[string]string{
		"okta":      rule("okta", "okta", "eventType: user.mfa.factor.deactivate, outcome.result: SUCCESS"),
		"github":    rule("github", "audit", "action: secret_scanning.disable"),
		"k8s":       rule("kubernetes", "audit", "verb: create, objectRef.resource: pods, objectRef.subresource: exec"),
		"k8s-app":   "logsource: {product: kubernetes, category: application, service: audit}\ndetection:\n  s: {verb: delete, objectRef.resource: secrets}\n  condition: s",
		"bitbucket": rule("bitbucket", "audit", "auditType.category: Data pipeline, auditType.action: Full data export triggered"),
		"onelogin":  rule("onelogin", "onelogin.events", "event_type_id: 17"),
		"gcp":       rule("gcp", "gcp.audit", "gcp.audit.method_name: v1.compute.firewalls.delete"),
	}, []formatCase{
		{"json", `{"uuid":"5e3a","published":"2026-12-07T08:15:02.123Z","eventType":"user.mfa.factor.deactivate","actor":{"id":"00u1","type":"User","alternateId":"admin@council.example"},"outcome":{"result":"SUCCESS"},"displayMessage":"Reset factor for user"}`, []string{"okta"}},
		{"json", `{"_document_id":"Yx0w","action":"secret_scanning.disable","actor":"mallory","org":"council-digital","created_at":1796631302000}`, []string{"github"}},
		{"json", `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a1","stage":"ResponseComplete","verb":"create","requestURI":"/api/v1/namespaces/web/pods/app-1/exec?command=sh","objectRef":{"resource":"pods","namespace":"web","name":"app-1","subresource":"exec"},"requestReceivedTimestamp":"2026-12-07T08:16:00.000000Z"}`, []string{"k8s"}},
		{"json", `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a2","verb":"delete","objectRef":{"resource":"secrets","namespace":"web"}}`, []string{"k8s-app"}},
		{"json", `{"auditType":{"area":"GLOBAL_CONFIG","category":"Data pipeline","action":"Full data export triggered","level":"BASE"},"author":{"name":"admin"},"source":"192.0.2.8","timestamp":{"epochSecond":1796631302}}`, []string{"bitbucket"}},
		{"json", `{"id":999,"created_at":"2026-12-07T08:17:00Z","account_id":42,"user_id":7,"event_type_id":17,"ipaddr":"198.51.100.4"}`, []string{"onelogin"}},
		{"json", `{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","serviceName":"compute.googleapis.com","methodName":"v1.compute.firewalls.delete","authenticationInfo":{"principalEmail":"ops@council.example"}},"insertId":"i1","resource":{"type":"gce_firewall_rule"},"timestamp":"2026-12-07T08:18:00Z","logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity"}`, []string{"gcp"}},
		// Alike, but none of those sources: an app's own JSON with an action
		// and a verb.
		{"json", `{"action":"secret_scanning.disable","verb":"create","objectRef":{"resource":"pods","subresource":"exec"},"eventType":"user.mfa.factor.deactivate","outcome":{"result":"SUCCESS"}}`, nil},
	})
}

// TestAzureActivityRules: Azure Activity log records in both forms against
// rules on the fields SigmaHQ's activitylogs rules read: operationName
// (Azure Monitor's, and Sentinel's OperationNameValue for it), Sentinel's
// own column names, and properties.message.
func TestAzureActivityRules(t *testing.T) {
	rule := func(sel string) string {
		return "logsource: {product: azure, service: activitylogs}\ndetection:\n  s: {" + sel + "}\n  condition: s"
	}
	const monitor = `{"time":"2026-12-07T10:00:00Z","resourceId":"/SUBSCRIPTIONS/6A1F2B3C-0000-4000-8000-000000000001/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG/SECURITYRULES/ALLOW-RDP","operationName":"MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/DELETE","category":"Administrative","resultType":"Success","correlationId":"c1","callerIpAddress":"198.51.100.9","properties":{"message":"Microsoft.Network/networkSecurityGroups/securityRules/delete"}}`
	const sentinel = `{"Type":"AzureActivity","TimeGenerated":"2026-12-07T09:31:00Z","OperationNameValue":"MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE","CategoryValue":"Administrative","ResourceProviderValue":"MICROSOFT.INSIGHTS","ResourceId":"/SUBSCRIPTIONS/6A1F2B3C-0000-4000-8000-000000000001/RESOURCEGROUPS/RG-SEC/PROVIDERS/MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/TO-SENTINEL","ActivityStatusValue":"Success","Caller":"mallory@council.example.gov.uk","CallerIpAddress":"203.0.113.61","Properties":"{\"message\":\"microsoft.insights/diagnosticSettings/delete\"}"}`
	checkFormat(t, "azure-activity", map[string]string{
		"nsg-rule":    rule("operationName|startswith: MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/"),
		"diag-delete": rule("operationName: MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE"),
		"provider":    rule("CategoryValue: Administrative, ResourceProviderValue: Microsoft.Insights, OperationNameValue|endswith: /delete"),
		"message":     rule("properties.message|endswith: securityRules/delete"),
		"resource":    rule("ResourceId|contains: /DIAGNOSTICSETTINGS/"),
	}, []formatCase{
		{"json", monitor, []string{"message", "nsg-rule"}},
		{"json", `{"records":[` + monitor + `]}`, []string{"message", "nsg-rule"}},
		{"json", sentinel, []string{"diag-delete", "provider", "resource"}},
	})
}

// TestZeekRules: Zeek's JSON logs, with and without the _path that the
// json-streaming-logs package adds, against rules on the names SigmaHQ's
// zeek rules read; a conn.log record and an application's JSON with a
// query and a uid belong to none of the logs.
func TestZeekRules(t *testing.T) {
	rule := func(service, sel string) string {
		return "logsource: {product: zeek, service: " + service + "}\ndetection:\n  s: {" + sel + "}\n  condition: s"
	}
	const private = "[10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]"
	rules := map[string]string{
		"dns-mining":  rule("dns", "query|endswith: .supportxmr.com"),
		"dns-answer":  rule("dns", "answers: 141.94.96.144, rejected: 'false'"),
		"http-webdav": "logsource: {product: zeek, service: http}\ndetection:\n  s: {user_agent|contains: WebDAV, method: PUT}\n  f: {id.resp_h|cidr: " + private + "}\n  condition: s and not f",
		"smb-spoolss": rule("smb_files", "path|endswith: IPC$, name: spoolss"),
		"dce-efs":     rule("dce_rpc", "operation|startswith: EfsRpc"),
		"krb-rc4":     rule("kerberos", "request_type: TGS, cipher: rc4-hmac"),
		"rdp-public":  "logsource: {product: zeek, service: rdp}\ndetection:\n  s: {id.orig_h|cidr: " + private + "}\n  condition: not s",
		"x509-cs":     rule("x509", "certificate.serial: 8BB00EE"),
		// The generic categories Sigma's Zeek pipeline serves from them.
		"cat-dns":   "logsource: {category: dns}\ndetection:\n  s: {query|contains: supportxmr, record_type: A, answer: 141.94.96.144}\n  condition: s",
		"cat-proxy": "logsource: {category: proxy}\ndetection:\n  s: {c-uri|endswith: .exe, cs-method: PUT, sc-status: 201, c-useragent|contains: WebDAV}\n  condition: s",
	}
	// Each record as the zeek type reads it (detected), then as a source
	// declared plain json keeps it: the same rules fire.
	records := []formatCase{
		{"json", `{"ts":1796631302.123071,"uid":"CHFRflzsgM15k9et4","id.orig_h":"10.20.1.15","id.orig_p":58506,"id.resp_h":"10.20.0.2","id.resp_p":53,"proto":"udp","trans_id":50763,"rtt":0.0226,"query":"pool.supportxmr.com","qclass":1,"qclass_name":"C_INTERNET","qtype":1,"qtype_name":"A","rcode":0,"rcode_name":"NOERROR","AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"answers":["pool.supportxmr.com.cdn.example","141.94.96.144"],"TTLs":[300.0,300.0],"rejected":false}`, []string{"cat-dns", "dns-answer", "dns-mining"}},
		{"json", `{"_path":"dns","_write_ts":"2026-12-07T08:21:00.000000Z","ts":"2026-12-07T08:20:59.123456Z","uid":"C6","id.orig_h":"10.20.1.16","query":"x.supportxmr.com"}`, []string{"dns-mining"}},
		{"json", `{"ts":1796631310.5,"uid":"Cw1","id.orig_h":"10.20.1.15","id.orig_p":49712,"id.resp_h":"203.0.113.80","id.resp_p":80,"trans_depth":1,"method":"PUT","host":"203.0.113.80","uri":"/dav/update.exe","version":"1.1","user_agent":"Microsoft-WebDAV-MiniRedir/10.0.19045","request_body_len":73802,"response_body_len":0,"status_code":201,"status_msg":"Created","tags":[],"resp_mime_types":["text/html"]}`, []string{"cat-proxy", "http-webdav"}},
		{"json", `{"ts":1796631311.5,"uid":"Cw2","id.orig_h":"10.20.1.15","id.resp_h":"10.20.0.80","trans_depth":1,"method":"PUT","user_agent":"Microsoft-WebDAV-MiniRedir/10.0.19045","request_body_len":10,"response_body_len":0}`, nil},
		{"json", `{"ts":1796631312.0,"uid":"Cs1","id.orig_h":"10.20.1.40","id.orig_p":50211,"id.resp_h":"10.20.0.10","id.resp_p":445,"action":"SMB::FILE_OPEN","path":"\\\\\\\\FS01\\\\IPC$","name":"spoolss","size":0,"times.modified":1796631312.0}`, []string{"smb-spoolss"}},
		{"json", `{"ts":1796631313.0,"uid":"Cd1","id.orig_h":"10.20.1.40","id.resp_h":"10.20.0.5","id.resp_p":445,"rtt":0.0003,"named_pipe":"\\\\pipe\\\\lsass","endpoint":"efsrpc","operation":"EfsRpcOpenFileRaw"}`, []string{"dce-efs"}},
		{"json", `{"ts":1796631314.0,"uid":"Ck1","id.orig_h":"10.20.1.41","id.resp_h":"10.20.0.5","id.resp_p":88,"request_type":"TGS","client":"alice/COUNCIL.LOCAL","service":"MSSQLSvc/db01.council.local:1433","success":true,"cipher":"rc4-hmac","forwardable":true,"renewable":true}`, []string{"krb-rc4"}},
		{"json", `{"ts":1796631315.0,"uid":"Cr1","id.orig_h":"198.51.100.23","id.orig_p":51000,"id.resp_h":"10.20.0.30","id.resp_p":3389,"cookie":"administr","result":"encrypted","security_protocol":"HYBRID","cert_count":0,"ssl":true}`, []string{"rdp-public"}},
		{"json", `{"ts":1796631316.0,"uid":"Cr2","id.orig_h":"10.20.1.50","id.resp_h":"10.20.0.30","id.resp_p":3389,"security_protocol":"HYBRID","cert_count":0}`, nil},
		{"json", `{"ts":1796631317.0,"fingerprint":"6ece5ece4192683d2d84e25b0ba7e04f9cb7eb7c","certificate.version":3,"certificate.serial":"8BB00EE","certificate.subject":"CN=,OU=,O=,L=,ST=,C=","certificate.issuer":"CN=,OU=,O=,L=,ST=,C=","certificate.key_alg":"rsaEncryption","host_cert":true,"client_cert":false}`, []string{"x509-cs"}},
		// Not one of those logs: conn.log.
		{"json", `{"ts":1796631318.0,"uid":"Cc1","id.orig_h":"198.51.100.23","id.resp_h":"10.20.0.30","id.resp_p":3389,"proto":"tcp","service":"rdp","duration":3.2,"conn_state":"SF","history":"ShADadFf"}`, nil},
	}
	checkFormat(t, "zeek", rules, records)
	plain := slices.Clone(records)
	for i := range plain {
		plain[i].how = "plain"
	}
	checkFormat(t, "json", rules, plain)
	// A file shipper's line sent as text (in message) is read as well.
	checkFormat(t, "zeek", rules, []formatCase{{"line", records[0].record, records[0].want}})
	// An application's JSON with some of the same keys is not Zeek's.
	checkFormat(t, "json", rules, []formatCase{
		{"json", `{"ts":1796631319,"uid":"u-7","query":"pool.supportxmr.com","method":"PUT","user_agent":"WebDAV","operation":"EfsRpcOpen","request_type":"TGS","cipher":"rc4-hmac"}`, nil},
	})
}

// TestOpenCanaryRules: OpenCanary's JSON records (log type numbers, the
// canary's node id, the attempt under logdata), as the opencanary type
// reads them and as a plain json source keeps them, select its log
// source; a record without a node id does not.
func TestOpenCanaryRules(t *testing.T) {
	rule := func(sel string) string {
		return "logsource: {product: opencanary, category: application}\ndetection:\n  s: {" + sel + "}\n  condition: s"
	}
	rules := map[string]string{
		"ftp-login": rule("logtype: 2000"),
		"ssh-login": rule("logtype: 4002, src_host|cidr: 10.0.0.0/8"),
		"smb-open":  rule("logtype: 5000, logdata.FILENAME|endswith: .xlsx"),
		"admin":     rule("logdata.USERNAME: admin, node_id: canary-civic-centre"),
	}
	records := []formatCase{
		{"json", `{"dst_host":"10.20.9.9","dst_port":21,"local_time":"2026-12-07 09:15:02.123456","local_time_adjusted":"2026-12-07 09:15:02.123456","logdata":{"PASSWORD":"Winter2026!","USERNAME":"admin"},"logtype":2000,"node_id":"canary-civic-centre","src_host":"10.20.1.77","src_port":51514,"utc_time":"2026-12-07 08:15:02.123456"}`, []string{"admin", "ftp-login"}},
		{"json", `{"dst_host":"10.20.9.9","dst_port":22,"logdata":{"LOCALVERSION":"SSH-2.0-OpenSSH_5.1p1 Debian-4","PASSWORD":"x","REMOTEVERSION":"SSH-2.0-libssh2_1.10.0","USERNAME":"root"},"logtype":4002,"node_id":"canary-civic-centre","src_host":"10.20.1.77","src_port":51600,"utc_time":"2026-12-07 08:15:09.000000"}`, []string{"ssh-login"}},
		{"json", `{"dst_host":"10.20.9.9","dst_port":445,"logdata":{"AUDITACTION":"pread","FILENAME":"Payroll 2026.xlsx","HOST":"WS-114","USER":"jsmith"},"logtype":5000,"node_id":"canary-civic-centre","src_host":"10.20.1.77","src_port":-1,"utc_time":"2026-12-07 08:16:00.000000"}`, []string{"smb-open"}},
	}
	checkFormat(t, "opencanary", rules, records)
	plain := slices.Clone(records)
	for i := range plain {
		plain[i].how = "plain"
	}
	checkFormat(t, "json", rules, plain)
	checkFormat(t, "json", rules, []formatCase{{"json", `{"logtype":2000,"dst_port":21,"src_host":"10.20.1.77"}`, nil}})
	// The canary's syslog handler sends the same object as the message.
	checkFormat(t, "opencanary", rules, []formatCase{
		{"syslog", `<134>1 2026-12-07T08:15:02Z canary1 opencanaryd - - - ` + records[0].record, []string{"admin", "ftp-login"}},
	})
}

// TestElasticDefendRules: Elastic Defend's documents (Elastic Agent's
// endpoint integration, through the bulk receiver) against Windows, Linux
// and macOS rules on Sysmon's names; the same process's exit, and a fork,
// are not process creations.
func TestElasticDefendRules(t *testing.T) {
	rule := func(product, category, sel string) string {
		return "logsource: {product: " + product + ", category: " + category + "}\ndetection:\n  s: {" + sel + "}\n  condition: s"
	}
	doc := func(dataset, os, action, rest string) string {
		return `{"@timestamp":"2026-12-07T09:00:00.123Z","agent":{"type":"endpoint","version":"8.15.0"},"data_stream":{"dataset":"` + dataset +
			`","namespace":"default","type":"logs"},"event":{"action":"` + action + `","category":["process"],"dataset":"` + dataset +
			`","kind":"event","module":"endpoint"},"host":{"hostname":"h1","name":"h1","os":{"type":"` + os + `"}},` + rest + `}`
	}
	const winword = `"process":{"executable":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","name":"powershell.exe","command_line":"powershell.exe -nop -w hidden -enc SQBFAFgA","pid":4242,"pe":{"original_file_name":"PowerShell.EXE"},"parent":{"executable":"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE","command_line":"\"WINWORD.EXE\" /n report.docm","pid":3100},"Ext":{"token":{"integrity_level_name":"medium"}}},"user":{"domain":"COUNCIL","name":"jsmith"}`
	checkFormat(t, "json", map[string]string{
		"win-office":   rule("windows", "process_creation", `ParentImage|endswith: \WINWORD.EXE, Image|endswith: \powershell.exe, IntegrityLevel: Medium`),
		"win-enc":      rule("windows", "process_creation", `CommandLine|contains: ' -enc ', OriginalFileName: PowerShell.EXE`),
		"win-system":   rule("windows", "process_creation", `User|contains: AUTHORI, Image|endswith: \whoami.exe`),
		"win-hta":      rule("windows", "file_event", `TargetFilename|endswith: .hta`),
		"win-history":  rule("windows", "file_delete", `TargetFilename|endswith: \ConsoleHost_history.txt`),
		"win-vault":    rule("windows", "image_load", `ImageLoaded|endswith: \vaultcli.dll, Image|endswith: \rundll32.exe`),
		"win-dns":      rule("windows", "dns_query", `QueryName|endswith: .ngrok-free.app, Image|endswith: \mshta.exe`),
		"win-access":   rule("windows", "file_access", `FileName|contains: \Microsoft\Protect\, Image|endswith: \rundll32.exe`),
		"win-rename":   rule("windows", "file_rename", `SourceFilename|endswith: .docx, TargetFilename|endswith: .locked`),
		"linux-b64":    rule("linux", "process_creation", `Image|endswith: /base64, CommandLine|contains: ' -d'`),
		"linux-cron":   rule("linux", "file_event", `TargetFilename|startswith: /etc/cron.d/`),
		"mac-osa":      rule("macos", "process_creation", `Image: /usr/bin/osascript, CommandLine|contains: display dialog, ParentImage|endswith: /bash`),
		"mac-launchag": rule("macos", "file_event", `TargetFilename|contains: /Library/LaunchAgents/`),
	}, []formatCase{
		{"bulk", doc("endpoint.events.process", "windows", "start", winword), []string{"win-enc", "win-office"}},
		{"bulk", doc("endpoint.events.process", "windows", "end", winword), nil},
		{"bulk", doc("endpoint.events.process", "windows", "start", `"process":{"executable":"C:\\Windows\\System32\\whoami.exe","command_line":"whoami /all","pid":77},"user":{"domain":"NT AUTHORITY","name":"SYSTEM"}`), []string{"win-system"}},
		{"bulk", doc("endpoint.events.file", "windows", "creation", `"file":{"path":"C:\\Users\\jsmith\\AppData\\Local\\Temp\\invoice.hta","name":"invoice.hta"},"process":{"executable":"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE","pid":900}`), []string{"win-hta"}},
		{"bulk", doc("endpoint.events.file", "windows", "deletion", `"file":{"path":"C:\\Users\\jsmith\\AppData\\Roaming\\Microsoft\\Windows\\PowerShell\\PSReadLine\\ConsoleHost_history.txt"},"process":{"executable":"C:\\Windows\\System32\\cmd.exe","pid":901}`), []string{"win-history"}},
		{"bulk", doc("endpoint.events.library", "windows", "load", `"dll":{"path":"C:\\Windows\\System32\\vaultcli.dll","name":"vaultcli.dll"},"process":{"executable":"C:\\Windows\\System32\\rundll32.exe","pid":902}`), []string{"win-vault"}},
		{"bulk", doc("endpoint.events.file", "windows", "open", `"file":{"path":"C:\\Users\\jsmith\\AppData\\Roaming\\Microsoft\\Protect\\S-1-5-21-1\\4f2a"},"process":{"executable":"C:\\Windows\\System32\\rundll32.exe","pid":904}`), []string{"win-access"}},
		{"bulk", doc("endpoint.events.file", "windows", "rename", `"file":{"path":"C:\\Shares\\Finance\\budget.docx.locked","Ext":{"original":{"path":"C:\\Shares\\Finance\\budget.docx"}}},"process":{"executable":"C:\\Users\\Public\\x.exe","pid":905}`), []string{"win-rename"}},
		{"bulk", doc("endpoint.events.network", "windows", "lookup_result", `"dns":{"question":{"name":"a1b2.ngrok-free.app","type":"A"}},"process":{"executable":"C:\\Windows\\System32\\mshta.exe","pid":903}`), []string{"win-dns"}},
		{"bulk", doc("endpoint.events.network", "windows", "lookup_requested", `"dns":{"question":{"name":"a1b2.ngrok-free.app"}},"process":{"executable":"C:\\Windows\\System32\\mshta.exe","pid":903}`), nil},
		{"bulk", doc("endpoint.events.process", "linux", "exec", `"process":{"executable":"/usr/bin/base64","command_line":"base64 -d /tmp/p.b64","args":["base64","-d","/tmp/p.b64"],"pid":5120,"parent":{"executable":"/bin/bash","pid":5100}},"user":{"name":"www-data"}`), []string{"linux-b64"}},
		{"bulk", doc("endpoint.events.process", "linux", "fork", `"process":{"executable":"/usr/bin/base64","command_line":"base64 -d /tmp/p.b64","pid":5121}`), nil},
		{"bulk", doc("endpoint.events.file", "linux", "creation", `"file":{"path":"/etc/cron.d/update"},"process":{"executable":"/usr/bin/tee","pid":5122}`), []string{"linux-cron"}},
		{"bulk", doc("endpoint.events.process", "macos", "exec", `"process":{"executable":"/usr/bin/osascript","command_line":"osascript -e display dialog \"Password:\" default answer \"\" with hidden answer","pid":611,"parent":{"executable":"/bin/bash","pid":600}},"user":{"name":"jsmith"}`), []string{"mac-osa"}},
		{"bulk", doc("endpoint.events.file", "macos", "creation", `"file":{"path":"/Users/jsmith/Library/LaunchAgents/com.update.plist"},"process":{"executable":"/bin/cp","pid":612}`), []string{"mac-launchag"}},
	})
}
