package windows

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

func TestCommunityID(t *testing.T) {
	// The Community ID specification's own example flows.
	for _, c := range []struct {
		src, dst, sport, dport, proto, want string
	}{
		{"128.232.110.120", "66.35.250.204", "34855", "80", "tcp", "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"66.35.250.204", "128.232.110.120", "80", "34855", "tcp", "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"10.0.0.1", "10.0.0.2", "1", "2", "icmp", ""},
		{"10.0.0.1", "::1", "1", "2", "tcp", ""},
		{"10.0.0.1", "10.0.0.2", "x", "2", "tcp", ""},
	} {
		if got := communityID(c.src, c.dst, c.sport, c.dport, c.proto); got != c.want {
			t.Errorf("communityID(%s:%s → %s:%s %s) = %q, want %q", c.src, c.sport, c.dst, c.dport, c.proto, got, c.want)
		}
	}
}

func TestRegisteredDomain(t *testing.T) {
	for _, c := range []struct {
		in, reg, sub, tld string
		ok                bool
	}{
		{"go.microsoft.com", "microsoft.com", "go", "com", true},
		{"www.example.co.uk", "example.co.uk", "www", "co.uk", true},
		{"example.com", "example.com", "", "com", true},
		// akamaized.net is a private suffix: Elastic uses the ICANN one.
		{"static-global-s-msn-com.akamaized.net", "akamaized.net", "static-global-s-msn-com", "net", true},
		{"a.b.blogspot.co.uk", "blogspot.co.uk", "a.b", "co.uk", true},
		{"wpad", "", "", "", false},
		{"host.localdomain", "", "", "", false},
		{"com", "", "", "", false},
	} {
		reg, sub, tld, ok := registeredDomain(c.in)
		if reg != c.reg || sub != c.sub || tld != c.tld || ok != c.ok {
			t.Errorf("registeredDomain(%q) = %q %q %q %v", c.in, reg, sub, tld, ok)
		}
	}
}

func TestSplitCommandLine(t *testing.T) {
	// CommandLineToArgvW's rules, as Elastic's pipelines implement them.
	for _, c := range []struct {
		in   string
		want []string
	}{
		{`a b  c`, []string{"a", "b", "c"}},
		{`"C:\Program Files\x.exe" -a`, []string{`C:\Program Files\x.exe`, "-a"}},
		{`a\\\"b`, []string{`a\"b`}},
		{`a\\\\"b c"`, []string{`a\\b c`}},
		{`a\\b`, []string{`a\\b`}},
		{`"a""b"`, []string{`a"b`}},
		{`"unterminated arg`, []string{"unterminated arg"}},
		{"\t  ", nil},
		{`x ""`, []string{"x", ""}},
	} {
		if got := splitCommandLine(nil, c.in); !cmp.Equal(got, c.want) {
			t.Errorf("splitCommandLine(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSecurityArgs(t *testing.T) {
	got := securityArgs(nil, `"C:\a b\c.exe" /x "y z"`)
	want := []string{`"C:\a b\c.exe"`, "/x", `"y z"`}
	if !cmp.Equal(got, want) {
		t.Errorf("securityArgs = %q, want %q", got, want)
	}
}

func TestRegistryDetails(t *testing.T) {
	for _, c := range []struct {
		path, details string
		want          map[string]string
	}{
		{`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\x`, "DWORD (0x0000002a)", map[string]string{
			"registry.hive": "HKLM", "registry.key": `SOFTWARE\Microsoft\Windows\CurrentVersion\Run\x`, "registry.value": "x",
			"registry.data.type": "SZ_DWORD", "registry.data.strings": `["42"]`}},
		{`HKU\S-1-5-21\Environment\windir`, "QWORD (0x00000001-0x00000002)", map[string]string{
			"registry.hive": "HKU", "registry.data.type": "SZ_QWORD", "registry.data.strings": `["258"]`}},
		{`HKCR\x\`, "Binary Data", map[string]string{"registry.value": "x", "registry.data.type": "REG_BINARY", "registry.data.strings": `["Binary Data"]`}},
		{`\REGISTRY\MACHINE\x`, "C:\\a.exe", map[string]string{"registry.hive": absent, "registry.value": "x", "registry.data.type": "REG_SZ"}},
		{`HKLM\x`, "DWORD (0xZZ)", map[string]string{"registry.data.type": "REG_SZ", "registry.data.strings": `["DWORD (0xZZ)"]`}},
	} {
		evtx := `{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":13,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"c"},"EventData":{"TargetObject":` +
			jsonQuote(c.path) + `,"Details":` + jsonQuote(c.details) + `}}}`
		got, _ := parse(t, evtx)
		got["registry.path"] = strings.Clone(got["registry.path"])
		check(t, got, c.want)
		if got["registry.path"] != c.path {
			t.Errorf("registry.path %q", got["registry.path"])
		}
	}
}

func jsonQuote(s string) string { return string(ecs.AppendJSONString(nil, s)) }

func TestInvocationDetails(t *testing.T) {
	for _, c := range []struct {
		line            string
		classic         bool
		typ, cmd, value string
		ok              bool
	}{
		{`CommandInvocation(Out-Default): "Out-Default"`, false, "CommandInvocation", "Out-Default", `"Out-Default"`, true},
		{`ParameterBinding(Get-Item): name="Path"; value="a(b):c"`, false, "ParameterBinding(Get-Item): name=\"Path\"; value=\"a", "b", `c"`, true},
		{`ParameterBinding(Get-Item): name="Path"; value="a(b):c"`, true, "ParameterBinding", "Get-Item", `name="Path"; value="a(b):c"`, true},
		{`NonTerminatingError(Get-Item): `, true, "NonTerminatingError", "Get-Item", "", true},
		{`no details here`, false, "", "", "", false},
	} {
		typ, cmd, value, ok := detailLine(c.line, c.classic)
		if typ != c.typ || cmd != c.cmd || value != c.value || ok != c.ok {
			t.Errorf("detailLine(%q, %v) = %q %q %q %v", c.line, c.classic, typ, cmd, value, ok)
		}
	}
	if n, v, ok := parameterBinding(`name="Uri"; value="http://x/a;b"`); !ok || n != `"Uri"` || v != `"http://x/a;b"` {
		t.Errorf("parameterBinding = %q %q %v", n, v, ok)
	}
}

func TestDecodeLong(t *testing.T) {
	for in, want := range map[string]string{"0x4": "4", "0x21f4": "8692", "42": "42", "010": "8", "-": "", "": "", "0": "0", "0X1F": "31"} {
		if got := decodeText(in); got != want {
			t.Errorf("decodeText(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"5184": "5184", " 7 ": "7", "0x4": "", "007": "7", "-": ""} {
		if got := longText(in); got != want {
			t.Errorf("longText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKeywords(t *testing.T) {
	for mask, want := range map[string]string{
		"0x8020000000000000": `["Audit Success"]`,
		"0x8010000000000000": `["Audit Failure"]`,
		"0x80000000000000":   `["Classic"]`,
		"0x8000000000000000": "",
		"garbage":            "",
	} {
		if got := keywordNames(mask); got != want {
			t.Errorf("keywordNames(%s) = %s, want %s", mask, got, want)
		}
	}
	for names, want := range map[string]string{`["Audit Success"]`: "0x8020000000000000", `["Audit Failure"]`: "0x8010000000000000", `["Other"]`: ""} {
		if got := keywordsMask(names, "Security"); got != want {
			t.Errorf("keywordsMask(%s) = %s, want %s", names, got, want)
		}
	}
}

func TestSecurityUsers(t *testing.T) {
	base := `{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Auditing"}},"EventID":%s,"Channel":"Security","Computer":"dc","Keywords":"0x8020000000000000"},"EventData":%s}}`
	for _, c := range []struct {
		id, data string
		want     map[string]string
	}{
		{"4720", `{"TargetUserName":"eve","TargetDomainName":"CORP","TargetSid":"S-1-5-21-9","SubjectUserSid":"S-1-5-21-1","SubjectUserName":"admin","SubjectDomainName":"CORP","SubjectLogonId":"0x1"}`,
			map[string]string{"event.action": "added-user-account", "event.type": `["user","creation"]`, "user.name": "admin", "user.id": "S-1-5-21-1",
				"user.target.name": "eve", "user.target.id": "S-1-5-21-9", "user.target.domain": "CORP", "related.user": `["admin","eve"]`, "winlog.logon.id": "0x1"}},
		{"4732", `{"MemberName":"CN=Eve,OU=Users,DC=corp,DC=example","MemberSid":"S-1-5-21-9","TargetUserName":"Administrators","TargetDomainName":"Builtin","TargetSid":"S-1-5-32-544","SubjectUserName":"admin","SubjectUserSid":"S-1-5-21-1","SubjectDomainName":"CORP"}`,
			map[string]string{"event.action": "added-member-to-group", "group.name": "Administrators", "group.id": "S-1-5-32-544", "group.domain": "Builtin",
				"user.target.name": "Eve", "user.target.domain": "example", "user.target.group.name": "Administrators", "user.name": "admin"}},
		{"4648", `{"SubjectUserName":"alice","SubjectUserSid":"S-1-5-21-1","SubjectDomainName":"CORP","TargetUserName":"bob@corp.example","TargetDomainName":"CORP","IpAddress":"-","ProcessName":"C:\\w.exe","ProcessId":"0x10"}`,
			map[string]string{"event.action": "logged-in-explicit", "user.name": "alice", "user.effective.name": "bob", "process.pid": "16", "process.name": "w.exe", "source.ip": absent}},
		{"4778", `{"AccountName":"alice","AccountDomain":"CORP","LogonID":"0x5","SessionName":"RDP-Tcp#1","ClientName":"LAPTOP","ClientAddress":"198.51.100.9"}`,
			map[string]string{"event.action": "session-reconnected", "user.name": "alice", "user.domain": "CORP", "source.ip": "198.51.100.9", "source.domain": "LAPTOP", "winlog.logon.id": "0x5"}},
		{"5145", `{"ShareName":"\\\\*\\C$","ShareLocalPath":"\\??\\C:\\","RelativeTargetName":"Windows\\x.dll","SubjectUserName":"alice","IpAddress":"10.0.0.9","IpPort":"445"}`,
			map[string]string{"file.name": `Windows\x.dll`, "file.directory": `\??\C:\`, "file.path": `\??\C:\\Windows\x.dll`, "file.target_path": `\\*\C$\Windows\x.dll`, "file.extension": "dll", "source.ip": "10.0.0.9", "source.port": "445"}},
	} {
		t.Run(c.id, func(t *testing.T) {
			got, _ := parse(t, strings.Replace(strings.Replace(base, "%s", c.id, 1), "%s", c.data, 1))
			check(t, got, c.want)
		})
	}
}
