package windows

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
	"github.com/tarian-soc/tarian/internal/parse/sniff"
)

// parse parses payload into a fresh event and returns its fields by name.
func parse(t *testing.T, payload string) (map[string]string, *event.Event) {
	t.Helper()
	p := Parser{aliases: true}
	ev := &event.Event{}
	if err := p.Parse([]byte(payload), ev); err != nil {
		t.Fatalf("Parse: %v\n%s", err, payload)
	}
	return parsertest.Fields(ev), ev
}

// check asserts every want field; a value "<absent>" asserts the name is
// missing.
func check(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		g, ok := got[k]
		switch {
		case v == "<absent>":
			if ok {
				t.Errorf("%s = %q, want it absent", k, g)
			}
		case !ok:
			t.Errorf("%s missing, want %q", k, v)
		case g != v:
			t.Errorf("%s = %q, want %q", k, g, v)
		}
	}
}

const absent = "<absent>"

func TestEvtxJSONVariants(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     map[string]string
	}{
		{"attributes objects", `{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"}},"EventID":11,"Version":2,"Level":4,"Task":11,"Opcode":0,"Keywords":"0x8000000000000000","TimeCreated":{"#attributes":{"SystemTime":"2026-01-02T03:04:05.123456Z"}},"EventRecordID":77,"Correlation":null,"Execution":{"#attributes":{"ProcessID":2000,"ThreadID":3000}},"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"pc1","Security":{"#attributes":{"UserID":"S-1-5-18"}}},"EventData":{"RuleName":"-","UtcTime":"2026-01-02 03:04:05.100","ProcessGuid":"{a}","ProcessId":42,"Image":"C:\\x\\a.exe","TargetFilename":"C:\\t\\b.txt","CreationUtcTime":"2026-01-02 03:04:05.000"}}}`,
			map[string]string{"EventID": "11", "Provider_Name": "Microsoft-Windows-Sysmon", "Provider_Guid": "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}",
				"TimeCreated_SystemTime": "2026-01-02T03:04:05.123456Z", "Execution_ProcessID": "2000", "Execution_ThreadID": "3000",
				"Security_UserID": "S-1-5-18", "EventRecordID": "77", "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "pc1",
				"ProcessId": "42", "TargetFilename": `C:\t\b.txt`, "winlog.event_data.ProcessId": "42", "winlog.record_id": "77",
				"Correlation_ActivityID": absent, "file.path": `C:\t\b.txt`, "file.name": "b.txt", "file.extension": "txt"}},
		{"separate attributes and text objects", `{"Event_attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},"Event":{"System":{"Provider_attributes":{"Name":"EventLog"},"EventID_attributes":{"Qualifiers":32768},"EventID":6009,"Level":4,"Keywords":"0x80000000000000","TimeCreated_attributes":{"SystemTime":"2017-07-12T17:16:28.214161Z"},"EventRecordID":1,"Channel":"System","Computer":"W1","Security":null},"EventData":{"Data":{"#text":["10.00.","15063","","Multiprocessor Free","0"]},"Binary":null}}}`,
			map[string]string{"EventID": "6009", "EventID_Qualifiers": "32768", "Provider_Name": "EventLog", "Data": `["10.00.","15063","","Multiprocessor Free","0"]`,
				"param1": "10.00.", "param3": "", "param5": "0", "winlog.event_data.param2": "15063", "Binary": absent,
				"winlog.keywords": `["Classic"]`, "event.module": "system", "event.dataset": "system.system", "Event_attributes.xmlns": absent}},
		{"event id as text object", `{"Event":{"System":{"Provider":{"#attributes":{"Name":"P"}},"EventID":{"#attributes":{"Qualifiers":16384},"#text":7036},"Channel":"System","Computer":"c"},"EventData":{"param1":"Windows Update","param2":"running"}}}`,
			map[string]string{"EventID": "7036", "EventID_Qualifiers": "16384", "param1": "Windows Update", "Data": `["Windows Update","running"]`}},
		{"named data items", `{"Event":{"System":{"Provider":{"#attributes":{"Name":"P"}},"EventID":1,"Channel":"C","Computer":"c"},"EventData":{"Data":[{"#attributes":{"Name":"A"},"#text":"1"},{"Name":"B","Value":2},{"#attributes":{"Name":"C"}}]}}}`,
			map[string]string{"A": "1", "B": "2", "C": "", "Data": absent}},
		{"single named data object", `{"Event":{"System":{"Provider":{"#attributes":{"Name":"P"}},"EventID":1,"Channel":"C","Computer":"c"},"EventData":{"Data":{"Name":"ErrorCode","Value":2147942450}}}}`,
			map[string]string{"ErrorCode": "2147942450", "winlog.event_data.ErrorCode": "2147942450"}},
		{"user data", `{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Eventlog"}},"EventID":1102,"Channel":"Security","Computer":"dc","Keywords":"0x4020000000000000"},"UserData":{"LogFileCleared":{"#attributes":{"xmlns":"http://manifests.microsoft.com/win/2004/08/windows/eventlog"},"SubjectUserSid":"S-1-5-21-1-2-3-500","SubjectUserName":"admin","SubjectDomainName":"CORP","SubjectLogonId":"0x7b186"}}}}`,
			map[string]string{"SubjectUserName": "admin", "winlog.user_data.xml_name": "LogFileCleared", "winlog.user_data.SubjectUserName": "admin",
				"xmlns": absent, "event.action": "audit-log-cleared", "user.name": "admin", "user.id": "S-1-5-21-1-2-3-500", "user.domain": "CORP",
				"winlog.logon.id": "0x7b186", "event.outcome": "success", "related.user": `["admin"]`}},
		{"nested user data", `{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-CAPI2"}},"EventID":53,"Channel":"Microsoft-Windows-CAPI2/Operational","Computer":"c"},"UserData":{"CryptRetrieveObjectByUrlWire":{"URL":{"#attributes":{"scheme":"http"},"#text":"http://crl.example/x.crl"},"Object":{"#attributes":{"type":"CONTEXT_OID_CRL"}},"AdditionalInfo":{"Action":{"#attributes":{"name":"NoProxy"}},"Action_1":{"#attributes":{"name":"NoProxy"}},"Headers":{"Header":"GET /x","Header_1":"Accept: */*"}}}}}}`,
			map[string]string{"URL": "http://crl.example/x.crl", "URL_scheme": "http", "Object_type": "CONTEXT_OID_CRL", "Object": absent,
				"AdditionalInfo.Action_name": "NoProxy", "AdditionalInfo.Action_1_name": "NoProxy", "AdditionalInfo.Headers.Header_1": "Accept: */*",
				"event.module": "winlog"}},
		{"rendering info", `{"Event":{"System":{"Provider":{"#attributes":{"Name":"P"}},"EventID":1,"Level":2,"Channel":"Application","Computer":"c"},"RenderingInfo":{"Message":"It broke.","Level":"Error","Keywords":{"Keyword":"Classic"}}}}`,
			map[string]string{"message": "It broke.", "log.level": "error", "winlog.keywords": `["Classic"]`, "event.dataset": "system.application"}},
		{"data colliding with the header", `{"Event":{"System":{"Provider":{"#attributes":{"Name":"P"}},"EventID":1,"Level":4,"Channel":"C","Computer":"c"},"EventData":{"Level":"9"}}}`,
			map[string]string{"Level": "4", "winlog.event_data.Level": "9"}},
		{"shipper fields beside Event", `{"@timestamp":"2026-01-01T00:00:00Z","host":{"name":"collector"},"Event":{"System":{"Provider":{"#attributes":{"Name":"P"}},"EventID":1,"Channel":"C","Computer":"c"}}}`,
			map[string]string{"host.name": "c", "EventID": "1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _ := parse(t, c.in)
			check(t, got, c.want)
		})
	}
}

func TestXMLVariants(t *testing.T) {
	const sys = `<System><Provider Name='Microsoft-Windows-Security-Auditing' Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/><EventID>4688</EventID><Version>2</Version><Level>0</Level><Task>13312</Task><Opcode>0</Opcode><Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime='2026-02-03T04:05:06.7890123Z'/><EventRecordID>9</EventRecordID><Correlation/><Execution ProcessID='4' ThreadID='8'/><Channel>Security</Channel><Computer>host1</Computer><Security/></System>`
	for _, c := range []struct {
		name, in string
		want     map[string]string
	}{
		{"entities and trailing spaces", `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>` + sys +
			`<EventData><Data Name='CommandLine'>cmd /c "a &amp; b" &lt;x&gt; &#65;&#x42; </Data><Data Name='NewProcessName'>C:\Windows\System32\cmd.exe</Data><Data Name='Empty'></Data><Data Name='SubjectUserName'>bob</Data></EventData></Event>`,
			map[string]string{"CommandLine": `cmd /c "a & b" <x> AB `, "NewProcessName": `C:\Windows\System32\cmd.exe`, "Empty": "",
				"Provider_Name": "Microsoft-Windows-Security-Auditing", "Execution_ProcessID": "4", "Security_UserID": absent,
				"Correlation_ActivityID": absent, "process.name": "cmd.exe", "event.action": "created-process", "event.outcome": "success",
				"process.args": `["cmd","/c","\"a & b\"","<x>","AB",""]`}},
		{"prefixes, double quotes, comments, CDATA, declaration", "\ufeff<?xml version=\"1.1\" encoding=\"utf-8\"?>\n<!-- one event -->\n<e:Event xmlns:e=\"http://schemas.microsoft.com/win/2004/08/events/event\">" +
			`<e:System><e:Provider Name="Microsoft-Windows-Sysmon"/><e:EventID>1</e:EventID><e:TimeCreated SystemTime="2026-02-03 04:05:06.5"/><e:Channel>Microsoft-Windows-Sysmon/Operational</e:Channel><e:Computer>h</e:Computer></e:System>` +
			`<e:EventData><e:Data Name="CommandLine"><![CDATA[a<b&c]]> tail</e:Data><!-- x --><e:Data Name="Image">C:\a.exe</e:Data></e:EventData></e:Event>` + "\n",
			map[string]string{"CommandLine": "a<b&c tail", "Image": `C:\a.exe`, "EventID": "1", "event.created": "2026-02-03T04:05:06.500Z", "process.executable": `C:\a.exe`}},
		{"unnamed data, binary, pretty printed", "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">\n  <System>\n    <Provider Name=\"EventLog\">\n    </Provider>\n    <EventID Qualifiers=\"32768\">6009</EventID>\n    <Level>4</Level>\n    <Channel>System</Channel>\n    <Computer>W</Computer>\n    <Security>\n    </Security>\n  </System>\n  <EventData>\n    <Data>10.00.</Data>\n    <Data>\n    </Data>\n    <Data>  padded  </Data>\n    <Binary>00FF</Binary>\n  </EventData>\n</Event>",
			map[string]string{"Data": `["10.00.","","  padded  "]`, "param2": "", "param3": "  padded  ", "Binary": "00FF", "EventID_Qualifiers": "32768",
				"Provider_Name": "EventLog", "Security_UserID": absent, "winlog.event_data.Binary": "00FF"}},
		{"user data with repeats", `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-CAPI2'/><EventID>53</EventID><Channel>Microsoft-Windows-CAPI2/Operational</Channel><Computer>c</Computer></System><UserData><CryptRetrieveObjectByUrlWire xmlns='http://schemas.microsoft.com/win/2004/08/events'><URL scheme='http'>http://crl.example/x.crl</URL><Object type='CONTEXT_OID_CRL'></Object><AdditionalInfo><Action name='NoProxy'/><Action name='NoProxy'/><Headers><Header>GET /x</Header><Header>Accept: */*</Header></Headers></AdditionalInfo></CryptRetrieveObjectByUrlWire></UserData></Event>`,
			map[string]string{"URL": "http://crl.example/x.crl", "URL_scheme": "http", "Object_type": "CONTEXT_OID_CRL", "Object": absent,
				"AdditionalInfo.Action_name": "NoProxy", "AdditionalInfo.Action_1_name": "NoProxy", "AdditionalInfo.Headers.Header": "GET /x",
				"AdditionalInfo.Headers.Header_1": "Accept: */*", "winlog.user_data.xml_name": "CryptRetrieveObjectByUrlWire", "xmlns": absent}},
		{"rendering info", `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='P'/><EventID>5</EventID><Level>3</Level><Channel>Application</Channel><Computer>c</Computer></System><EventData><Data>x</Data></EventData><RenderingInfo Culture='en-US'><Message>Disk &quot;C:&quot; is full.</Message><Level>Warning</Level><Task>None</Task><Opcode>Info</Opcode><Keywords><Keyword>Classic</Keyword><Keyword>Disk</Keyword></Keywords></RenderingInfo></Event>`,
			map[string]string{"message": `Disk "C:" is full.`, "log.level": "warning", "winlog.task": "None", "winlog.keywords": `["Classic","Disk"]`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _ := parse(t, c.in)
			check(t, got, c.want)
		})
	}
}

func TestFlatVariants(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     map[string]string
	}{
		{"NXLog", `{"EventTime":"2020-09-16 23:39:22","Hostname":"MORDORDC.theshire.local","Keywords":-9223372036854775808,"EventType":"INFO","SeverityValue":2,"Severity":"INFO","EventID":7,"SourceName":"Microsoft-Windows-Sysmon","ProviderGuid":"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}","Version":3,"Task":7,"OpcodeValue":0,"RecordNumber":397164,"ExecutionProcessID":3716,"ThreadID":652,"Channel":"Microsoft-Windows-Sysmon/Operational","Domain":"NT AUTHORITY","AccountName":"SYSTEM","UserID":"S-1-5-18","AccountType":"User","Category":"Image loaded (rule: ImageLoad)","Opcode":"Info","UtcTime":"2020-09-17 03:39:22.392","ProcessGuid":"{7a5bd989-6b0e-5f62-ab00-000000000300}","ProcessId":"1444","Image":"C:\\Windows\\System32\\svchost.exe","ImageLoaded":"C:\\Windows\\System32\\perfctrs.dll","Hashes":"SHA1=F81D76B9C3499F8712FA6398554C10D389103930","Signed":"true","SignatureStatus":"Valid","EventReceivedTime":"2020-09-16 23:39:24","SourceModuleName":"eventlog","SourceModuleType":"im_msvistalog","@timestamp":"2020-09-17T03:39:24.507Z","host":"wec.internal.cloudapp.net","tags":["mordorDataset"]}`,
			map[string]string{"EventID": "7", "Keywords": "0x8000000000000000", "Provider_Name": "Microsoft-Windows-Sysmon", "SourceName": "Microsoft-Windows-Sysmon",
				"Computer": "MORDORDC.theshire.local", "Hostname": "MORDORDC.theshire.local", "EventRecordID": "397164", "Execution_ProcessID": "3716",
				"Execution_ThreadID": "652", "Security_UserID": "S-1-5-18", "Level": "4", "Opcode": "0", "Provider_Guid": "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}",
				"winlog.user.name": "SYSTEM", "winlog.user.domain": "NT AUTHORITY", "winlog.task": "Image loaded (rule: ImageLoad)", "winlog.opcode": "Info",
				"winlog.event_data.ImageLoaded": `C:\Windows\System32\perfctrs.dll`, "winlog.event_data.AccountName": absent, "winlog.event_data.EventType": absent,
				"tags": `["mordorDataset"]`, "host": "wec.internal.cloudapp.net", "dll.path": `C:\Windows\System32\perfctrs.dll`,
				"file.code_signature.signed": "true", "file.code_signature.valid": "true", "file.code_signature.trusted": "true",
				"related.hash": `["f81d76b9c3499f8712fa6398554c10d389103930"]`, "log.level": "information"}},
		{"OTRF without NXLog metadata", `{"TimeCreated":"2020-10-21T08:45:33.684Z","CommandLine":"sc config Fax","NewProcessId":"0xc28","SubjectUserSid":"S-1-5-21-1","SubjectUserName":"wardog","SubjectDomainName":"W5","NewProcessName":"C:\\Windows\\System32\\sc.exe","Level":"0","Channel":"Security","Task":"13312","SourceName":"Microsoft-Windows-Security-Auditing","Hostname":"WORKSTATION5","ProcessId":"0x21f4","TargetUserName":"-","ParentProcessName":"C:\\Windows\\System32\\cmd.exe","EventID":4688,"Keywords":"0x8020000000000000","AccountName":"not NXLog's"}`,
			map[string]string{"TimeCreated_SystemTime": "2020-10-21T08:45:33.684Z", "process.pid": "3112", "process.parent.pid": "8692", "process.name": "sc.exe",
				"process.parent.name": "cmd.exe", "user.name": "wardog", "event.action": "created-process", "event.outcome": "success",
				"winlog.event_data.AccountName": "not NXLog's", "winlog.user.name": absent, "process.args": `["sc","config","Fax"]`}},
		{"Sysmon registry EventType is data", `{"EventID":13,"Channel":"Microsoft-Windows-Sysmon/Operational","SourceName":"Microsoft-Windows-Sysmon","Hostname":"h","EventType":"SetValue","TargetObject":"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\x","Details":"DWORD (0x00000001)","UtcTime":"2026-01-01 00:00:00.000"}`,
			map[string]string{"EventType": "SetValue", "winlog.event_data.EventType": "SetValue", "registry.hive": "HKLM",
				"registry.key": `SOFTWARE\Microsoft\Windows\CurrentVersion\Run\x`, "registry.value": "x", "registry.data.type": "SZ_DWORD", "registry.data.strings": `["1"]`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _ := parse(t, c.in)
			check(t, got, c.want)
		})
	}
}

func TestWinlogbeat(t *testing.T) {
	in := `{"@timestamp":"2026-01-01T00:00:00.500Z","agent":{"type":"winlogbeat","version":"8.17.0"},"host":{"name":"collector-1"},"event":{"code":"4625","kind":"event","provider":"Microsoft-Windows-Security-Auditing","outcome":"failure"},"log":{"level":"information"},"message":"An account failed to log on.","winlog":{"api":"wineventlog","channel":"Security","event_id":"4625","provider_name":"Microsoft-Windows-Security-Auditing","provider_guid":"{54849625-5478-4994-a5ba-3e3b0328c30d}","computer_name":"dc-01.corp.example","record_id":"1001","task":"Logon","opcode":"Info","keywords":["Audit Failure"],"level":"information","time_created":"2026-01-01T00:00:00.123Z","process":{"pid":700,"thread":{"id":812}},"event_data":{"SubjectUserSid":"S-1-0-0","TargetUserName":"bob@corp.example","TargetDomainName":"CORP","Status":"0xc000006d","SubStatus":"0xc000006a","FailureReason":"%%2313","LogonType":"3","IpAddress":"::ffff:203.0.113.9","IpPort":"51234","WorkstationName":"KALI","ProcessId":"0x0","ProcessName":"-"}}}`
	got, ev := parse(t, in)
	check(t, got, map[string]string{
		"EventID": "4625", "Channel": "Security", "Computer": "dc-01.corp.example", "Execution_ProcessID": "700", "EventRecordID": "1001",
		"Keywords": "0x8010000000000000", "Level": "4", "TargetUserName": "bob@corp.example", "Task": absent,
		"winlog.api": "wineventlog", "winlog.task": "Logon", "winlog.keywords": `["Audit Failure"]`, "agent.type": "winlogbeat",
		"host.name": "collector-1", "message": "An account failed to log on.", "event.outcome": "failure", "event.action": "logon-failed",
		"event.category": `["authentication"]`, "user.name": "bob", "user.domain": "CORP", "source.ip": "203.0.113.9", "source.port": "51234",
		"source.domain": "KALI", "winlog.logon.type": "Network", "winlog.logon.failure.reason": "Unknown user name or bad password.",
		"winlog.logon.failure.status":     "This is either due to a bad username or authentication information",
		"winlog.logon.failure.sub_status": "User logon with misspelled or bad password", "related.ip": `["203.0.113.9"]`,
		"related.user": `["bob"]`, "process.pid": "0", "ecs.version": "8.17.0", "event.created": "2026-01-01T00:00:00.123Z",
	})
	if want := time.Date(2026, 1, 1, 0, 0, 0, 123e6, time.UTC); !ev.Time.Equal(want) {
		t.Errorf("time %v, want %v", ev.Time, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
		is             error
	}{
		{"empty", "  ", "empty payload", ErrNotWindows},
		{"text", "hello", "neither a JSON object nor an XML <Event>", ErrNotWindows},
		{"bad JSON", `{"Event":`, "invalid JSON", nil},
		{"other JSON", `{"a":1}`, "neither Event.System, winlog, win.system, EventID nor an XML <Event> in message", ErrNotWindows},
		{"empty System", `{"Event":{"System":{}}}`, "Event.System is empty", ErrNotWindows},
		{"winlog without id", `{"winlog":{"api":"x"}}`, "winlog has neither event_id nor channel", ErrNotWindows},
		{"XML root", `<Events><Event/></Events>`, "the root element is <Events>", ErrXML},
		{"XML mismatch", `<Event><System><EventID>1</Channel></System></Event>`, "does not match", ErrXML},
		{"XML unterminated", `<Event><System><EventID>1</EventID>`, "unexpected end", ErrXML},
		{"XML entity", `<Event><System><EventID>&bogus;</EventID></System></Event>`, "unknown reference", ErrXML},
		{"XML DTD", `<!DOCTYPE x [<!ENTITY a "b">]><Event/>`, "DTDs", ErrXML},
		{"XML two events", `<Event><System><EventID>1</EventID></System></Event><Event/>`, "content after", ErrXML},
		{"XML no System", `<Event><EventData/></Event>`, "has no <System>", ErrXML},
		{"XML unquoted", `<Event><System><Provider Name=x/></System></Event>`, "not quoted", ErrXML},
		{"XML deep", strings.Repeat("<Event>", 1) + strings.Repeat("<a>", 70), "nested deeper", ErrXML},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := Parser{aliases: true}
			ev := &event.Event{Fields: []event.Field{{Name: "log.syslog.hostname", Value: "relay"}}}
			err := p.Parse([]byte(c.in), ev)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			if len(ev.Fields) != 1 || ev.Fields[0].Name != "log.syslog.hostname" {
				t.Errorf("a failed parse changed the envelope's fields: %v", ev.Fields)
			}
		})
	}
}

func TestParseAppends(t *testing.T) {
	p := Parser{aliases: true}
	ev := &event.Event{Fields: []event.Field{{Name: "log.syslog.hostname", Value: "relay"}}}
	if err := p.Parse([]byte(sampleEvtx[0]), ev); err != nil {
		t.Fatal(err)
	}
	if ev.Fields[0].Name != "log.syslog.hostname" || len(ev.Fields) < 50 {
		t.Fatalf("fields not appended after the envelope: %d fields, first %v", len(ev.Fields), ev.Fields[0])
	}
	// A second event through the same parser leaves the first intact.
	first := parsertest.Fields(ev)
	ev2 := &event.Event{}
	if err := p.Parse([]byte(sampleEvtx[2]), ev2); err != nil {
		t.Fatal(err)
	}
	if got := parsertest.Fields(ev); len(got) != len(first) || got["Image"] != first["Image"] || got["CommandLine"] != first["CommandLine"] {
		t.Fatal("parsing a second event changed the first")
	}
}

func TestSniff(t *testing.T) {
	for _, c := range []struct {
		in        string
		json, xml bool
	}{
		{sampleEvtx[0], true, false},
		{`{"winlog":{"event_id":"1"}}`, true, false},
		{`{"EventID":4624,"Channel":"Security"}`, true, false},
		{`{"EventID":4624,"SourceName":"x"}`, true, false},
		{`{"EventID":4624}`, false, false},
		{`{"message":"hello"}`, false, false},
		{"<Event xmlns='x'><System/></Event>", false, true},
		{"\ufeff<?xml version='1.0'?>\n<!-- c -->\n<Event>", false, true},
		{"<Events>", false, false},
		{"<EventData>", false, false},
		{"<134>Oct 11 22:14:15 host app: msg", false, false},
		{"", false, false},
	} {
		if got := isObject(c.in) && SniffJSON(sniff.Of([]byte(c.in))); got != c.json {
			t.Errorf("SniffJSON(%.40q) = %v", c.in, got)
		}
		if got := SniffXML([]byte(c.in)); got != c.xml {
			t.Errorf("SniffXML(%.40q) = %v", c.in, got)
		}
	}
	strs := sniff.Of([]byte(sampleEvtx[1]))
	if n := testing.AllocsPerRun(100, func() { SniffJSON(strs) }); n != 0 {
		t.Errorf("SniffJSON allocates %v times", n)
	}
}

// isObject is the parse stage's test before it asks SniffJSON.
func isObject(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), "{") }

func TestSplitXML(t *testing.T) {
	doc := "<?xml version=\"1.1\"?>\n<Events>\n<Event xmlns='x'><System><EventID>1</EventID></System></Event>\n\n<Event><System><EventID>2</EventID></System></Event><EventsEnd/></Events>"
	evs, err := SplitXML([]byte(doc))
	if err != nil || len(evs) != 2 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	for i, want := range []string{"1", "2"} {
		got, _ := parse(t, string(evs[i]))
		if got["EventID"] != want {
			t.Errorf("event %d: EventID %q", i, got["EventID"])
		}
	}
	if _, err := SplitXML([]byte("<Event><System>")); err == nil {
		t.Error("an unterminated event split without error")
	}
}

func TestParseTime(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2020-10-28T02:39:26.388325200Z", time.Date(2020, 10, 28, 2, 39, 26, 388325200, time.UTC), true},
		{"2020-10-28 02:39:26.374", time.Date(2020, 10, 28, 2, 39, 26, 374e6, time.UTC), true},
		{"2016-06-29 15:24:34.345999", time.Date(2016, 6, 29, 15, 24, 34, 345999e3, time.UTC), true},
		{"2020-10-28T02:39:26Z", time.Date(2020, 10, 28, 2, 39, 26, 0, time.UTC), true},
		{"2020-10-28T04:39:26+02:00", time.Date(2020, 10, 28, 2, 39, 26, 0, time.UTC), true},
		{"2020-02-30T00:00:00Z", time.Time{}, false},
		{"2020-10-28T02:39:26.Z", time.Time{}, false},
		{"2020-10-28", time.Time{}, false},
		{"yesterday", time.Time{}, false},
	} {
		got, ok := parseTime(c.in)
		if ok != c.ok || !got.Equal(c.want) {
			t.Errorf("parseTime(%q) = %v, %v", c.in, got, ok)
		}
	}
}

func TestXMLInJSONRecord(t *testing.T) {
	in := `{"host":{"name":"relay-1"},"channel":"wec","message":"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4688</EventID><Channel>Security</Channel><Computer>ws1</Computer><TimeCreated SystemTime='2026-01-01T00:00:00Z'/></System><EventData><Data Name='NewProcessName'>C:\\a.exe</Data></EventData></Event>"}`
	p := Parser{aliases: true}
	ev := &event.Event{}
	shape, err := p.ParseShape([]byte(in), ev)
	if err != nil || shape != ShapeXML {
		t.Fatalf("shape %v, %v", shape, err)
	}
	got := parsertest.Fields(ev)
	check(t, got, map[string]string{"EventID": "4688", "NewProcessName": `C:\a.exe`, "process.name": "a.exe", "channel": "wec",
		"host.name": "ws1", "message": absent})
}

// TestFlatTimes: a flat record without TimeCreated takes its time from the
// keys the generic JSON path reads (envelope.TimeFields, in its order),
// as RFC 3339 or an epoch number, else a UtcTime of any channel; never the
// receive time when it holds one.
func TestFlatTimes(t *testing.T) {
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339Nano, s); return v }
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{`{"EventID":4625,"Channel":"Security","TargetUserName":"eve","timestamp":"2024-05-01T10:00:00Z"}`, at("2024-05-01T10:00:00Z")},
		{`{"EventID":4625,"Channel":"Security","time":"2024-05-01T10:00:00+02:00"}`, at("2024-05-01T08:00:00Z")},
		{`{"EventID":4625,"Channel":"Security","@timestamp":1717236000}`, at("2024-06-01T10:00:00Z")},
		{`{"EventID":4625,"Channel":"Security","@timestamp":1717236000123}`, at("2024-06-01T10:00:00.123Z")},
		{`{"EventID":4625,"Channel":"Security","TargetUserName":"bob","UtcTime":"2024-05-01 10:00:00.000"}`, at("2024-05-01T10:00:00Z")},
		// TimeFields' order, whatever the keys' order.
		{`{"EventID":4625,"Channel":"Security","EventTime":"2024-05-01 09:00:00","timestamp":"2024-05-01T10:00:00Z","@timestamp":"2024-05-01T11:00:00Z"}`, at("2024-05-01T11:00:00Z")},
		{`{"EventID":4625,"Channel":"Security","TimeGenerated":"2024-05-01T12:00:00Z","EventTime":"2024-05-01 09:00:00"}`, at("2024-05-01T09:00:00Z")},
		// TimeCreated first.
		{`{"EventID":4625,"Channel":"Security","@timestamp":"2024-05-01T11:00:00Z","TimeCreated":"2024-05-01T08:00:00Z","UtcTime":"2024-05-01 07:00:00.000"}`, at("2024-05-01T08:00:00Z")},
		// Winlogbeat's numeric @timestamp.
		{`{"@timestamp":1717236000,"winlog":{"event_id":4625,"channel":"Security"}}`, at("2024-06-01T10:00:00Z")},
	} {
		_, ev := parse(t, c.in)
		if !ev.Time.Equal(c.want) {
			t.Errorf("%s: time %s, want %s", c.in, ev.Time.UTC(), c.want)
		}
	}
}

// TestRelayedXMLHost: Windows XML relayed in a syslog message or a JSON
// record's message: the event's host is its Computer (host.name and
// host.hostname alike), the relay's stays log.syslog.hostname. (That the
// XML is not kept again as the message is the pipeline's:
// parse.TestJSONFormatOfText.)
func TestRelayedXMLHost(t *testing.T) {
	const xml = `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4625</EventID><Channel>Security</Channel><Computer>FS02.example.local</Computer><TimeCreated SystemTime='2026-11-09T06:31:44.8827319Z'/></System><EventData><Data Name='TargetUserName'>tomos</Data></EventData></Event>`
	// What the syslog envelope gives, then the message as the payload.
	ev := &event.Event{Fields: []event.Field{
		{Name: "log.syslog.hostname", Value: "wec-relay-2"}, {Name: "host.hostname", Value: "wec-relay-2"}, {Name: "host.name", Value: "wec-relay-2"},
		{Name: "log.syslog.appname", Value: "EventLog"}, {Name: "message", Value: xml}, {Name: "event.original", Value: "<14>Nov  9 06:31:45 wec-relay-2 EventLog: " + xml},
	}}
	var p Parser
	if err := p.Parse([]byte(xml), ev); err != nil {
		t.Fatal(err)
	}
	got := parsertest.Fields(ev)
	check(t, got, map[string]string{"host.name": "FS02.example.local", "host.hostname": "FS02.example.local", "log.syslog.hostname": "wec-relay-2",
		"Computer": "FS02.example.local", "TargetUserName": "tomos"})
	// A rendered message is the event's message.
	ev = &event.Event{Fields: []event.Field{{Name: "host.name", Value: "relay-1"}, {Name: "message", Value: xml}}}
	withText := strings.Replace(xml, "</Event>", "<RenderingInfo Culture='en-US'><Message>An account failed to log on.</Message></RenderingInfo></Event>", 1)
	ev.Fields[1].Value = withText
	if err := p.Parse([]byte(withText), ev); err != nil {
		t.Fatal(err)
	}
	check(t, parsertest.Fields(ev), map[string]string{"host.name": "FS02.example.local", "message": "An account failed to log on.", "host.hostname": absent})
}
