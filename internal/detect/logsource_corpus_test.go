package detect

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/sigma"
)

// notParsed lists the SigmaHQ log sources (product|category|service) that
// no Tarian format produces, with why: the only ones whose rules may stay
// out of the engine when the whole SigmaHQ corpus is imported. A log source
// missing here and from the mapping fails TestCorpusUnmappedLogSources.
var notParsed = map[string]string{
	"|database|":                        "database audit logs: no format",
	"azure||pim":                        "Entra ID Privileged Identity Management alerts: not in sign-in or audit records",
	"gcp||google_workspace.admin":       "Google Workspace admin audit: plain JSON only, no format",
	"gcp||google_workspace.login":       "Google Workspace login audit: plain JSON only, no format",
	"cisco||duo":                        "Cisco Duo authentication log: no format",
	"juniper||bgp":                      "Juniper Junos messages: no format",
	"huawei||bgp":                       "Huawei VRP messages: no format",
	"paloalto|appliance|globalprotect":  "PAN-OS appliance files (mp-log, gpsvc.log), not the syslog Tarian reads",
	"paloalto|file_event|globalprotect": "file creation on the PAN-OS appliance: not in its syslog",
	"fortios||sslvpnd":                  "file creation on the FortiOS appliance: not in FortiGate's syslog",
	"jvm|application|":                  "application logs (Java): no format",
	"spring|application|":               "application logs (Spring): no format",
	"python|application|":               "application logs (Python): no format",
	"django|application|":               "application logs (Django): no format",
	"nodejs|application|":               "application logs (Node.js): no format",
	"ruby_on_rails|application|":        "application logs (Rails): no format",
	"velocity|application|":             "application logs (Velocity templates): no format",
	"sql|application|":                  "application logs (SQL errors): no format",
}

func logSourceKey(r *sigma.Rule) string {
	l := r.LogSource
	return strings.ToLower(l.Product + "|" + l.Category + "|" + l.Service)
}

// TestCorpusUnmappedLogSources compiles every SigmaHQ rule with the default
// mapping and counts, per log source, the rules left out because the
// mapping does not cover their log source. Each must be a source no Tarian
// format produces (notParsed); every other rule is evaluated.
func TestCorpusUnmappedLogSources(t *testing.T) {
	root := corpusRoot(t)
	rules := loadCorpusRules(t, root, "rules", "rules-emerging-threats", "rules-threat-hunting")
	e, err := Compile(rules, Options{})
	if err != nil {
		t.Fatal(err)
	}
	unmapped := map[string]int{}
	total := 0
	for _, s := range e.Skipped() {
		if !s.Unmapped {
			continue
		}
		unmapped[logSourceKey(s.Rule)]++
		total++
	}
	keys := make([]string, 0, len(unmapped))
	for k := range unmapped {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return unmapped[keys[i]] > unmapped[keys[j]] || unmapped[keys[i]] == unmapped[keys[j]] && keys[i] < keys[j]
	})
	for _, k := range keys {
		why, ok := notParsed[k]
		if !ok {
			t.Errorf("%d rules of log source %s are not evaluated, and it is not listed as a source Tarian does not parse: map it in mapping.yaml", unmapped[k], k)
			continue
		}
		t.Logf("not evaluated: %3d %-36s %s", unmapped[k], k, why)
	}
	for k := range notParsed {
		if unmapped[k] == 0 {
			t.Logf("listed as not parsed but no rule of it is left out (mapped now, or gone from SigmaHQ): %s", k)
		}
	}
	t.Logf("%d rules: %d evaluated, %d not evaluated (%d for log sources Tarian does not parse, %d for other reasons)",
		len(rules), e.Rules(), len(e.Skipped()), total, len(e.Skipped())-total)
}

// sourceSamples are real samples of $TARIAN_CORPUS/logs for the log
// sources Tarian parses. Each is parsed by Tarian's parse pipeline (type
// detected) and every SigmaHQ rule is evaluated on the events:
//
//   - want lists the Sigma log sources (product|category|service) of which
//     at least one SigmaHQ rule must fire on the samples;
//   - check is a rule of ours in the Sigma field names that SigmaHQ's rules
//     for the source use, true of the samples: it must fire on exactly
//     checks events, so the mapping is shown to reach the fields on real
//     data also where no SigmaHQ rule fires on the samples the corpus has
//     (noFiringSample says why).
var sourceSamples = []struct {
	source string   // what the samples are
	globs  []string // under $TARIAN_CORPUS/logs
	want   []string
	checks int
	check  string
}{
	{"Entra ID sign-in logs", []string{"elastic-integrations/azure-signinlogs/*.log"}, nil, 5, `
title: check Entra ID sign-in fields
logsource: {product: azure, service: signinlogs}
detection:
    selection:
        ResultType: 50140
        ResultDescription|contains: "'Keep me signed in' interrupt"
        Status: failure
        ClientApp: Browser
        conditionalAccessStatus: notApplied
        DeviceDetail.deviceId: ''
    condition: selection
`},
	{"Entra ID audit logs", []string{"otrf-security-datasets/m365-aad-goldensaml/AADAuditEvents.json"}, []string{"azure||auditlogs"}, 2, `
title: check Entra ID audit fields
logsource: {product: azure, service: auditlogs}
detection:
    selection:
        Category: ApplicationManagement
        LoggedByService: Core Directory
        Status: success
        properties.message|startswith: Update application
        TargetResources.ModifiedProperties.DisplayName: KeyDescription
        TargetResources.ModifiedProperties.NewValue|contains: KeyType=Password
        TargetResources|contains: SimuLandApp
        Initiatedby: pgustavo@simulandlabs.com
    condition: selection
`},
	{"Microsoft 365 unified audit log", []string{"otrf-security-datasets/m365-aad-goldensaml/OfficeActivityEvents.json", "wazuh-ruleset-tests/office365.ini"}, nil, 2, `
title: check Microsoft 365 audit fields
logsource: {product: m365, service: audit}
detection:
    mailbox_permission:
        Operation: Add-MailboxPermission
        Parameters|contains|all:
            - AccessRights
            - FullAccess
    mail_access:
        Operation: MailItemsAccessed
        Workload: Exchange
        ResultStatus: Succeeded
        OperationProperties|contains: MailAccessType
        ClientIP: 1.2.3.4
    condition: mailbox_permission or mail_access
`},
	{"Linux auditd", []string{"otrf-security-datasets/linux/*.log", "wazuh-ruleset-tests/auditd.ini"}, []string{"linux||auditd"}, 2, `
title: check auditd fields
logsource: {product: linux, service: auditd}
detection:
    execve:
        type: EXECVE
        a0: dd
        a1: if=/dev/zero
    syscall:
        type: SYSCALL
        SYSCALL: execve
        exe: /bin/dd
        comm: dd
        euid: 1000
    condition: execve or syscall
`},
	{"Linux process creation (auditd exec records)", []string{"otrf-security-datasets/linux/*.log"}, nil, 2, `
title: check Linux process creation fields
logsource: {product: linux, category: process_creation}
detection:
    execve:
        Image: arp
        CommandLine: arp -a
    syscall:
        Image: /usr/sbin/arp
    condition: execve or syscall
`},
	{"FortiGate", []string{"elastic-integrations/fortinet_fortigate/*.log", "wazuh-ruleset-tests/fortigate.ini"}, []string{"fortigate||event"}, 1, `
title: check FortiGate fields
logsource: {product: fortigate, service: event}
detection:
    selection:
        action: Add
        cfgpath: user.local
        subtype: system
        user: admin
    condition: selection
`},
	{"Linux auth and syslog", []string{"wazuh-ruleset-tests/sshd.ini", "wazuh-ruleset-tests/sudo.ini", "wazuh-ruleset-tests/pam.ini", "wazuh-ruleset-tests/syslog.ini"}, []string{"linux||sshd"}, 1, `
title: check sudo fields
logsource: {product: linux, service: sudo}
detection:
    selection:
        USER: root
        COMMAND|startswith: /usr/bin/
    condition: selection
`},
	{"Squid", []string{"wazuh-ruleset-tests/squid_rules.ini"}, nil, 1, `
title: check proxy fields
logsource: {category: proxy}
detection:
    selection:
        cs-method: GET
        sc-status: 400
        c-ip: 192.168.1.201
    condition: selection
`},
	{"firewalls", []string{"wazuh-ruleset-tests/paloalto.ini", "wazuh-ruleset-tests/sophos_fw.ini", "wazuh-ruleset-tests/cisco_asa.ini", "wazuh-ruleset-tests/iptables.ini"}, nil, 1, `
title: check firewall fields
logsource: {category: firewall}
detection:
    selection:
        src_ip: 192.168.6.57
        dst_ip: 216.161.248.225
    condition: selection
`},
}

// noFiringSample names the log sources Tarian parses and maps for which
// the corpus has no real sample that a SigmaHQ rule fires on, with why.
// Their check rules above show the mapping on the samples there are.
var noFiringSample = map[string]string{
	"azure||signinlogs": "the corpus's five sign-ins (Elastic's fixture) are all error 50140 'Keep me signed in' " +
		"interrupts without a user agent or authentication requirement, which no SigmaHQ rule is about",
	"m365||audit": "the corpus's unified audit records (OTRF's MailItemsAccessed, Wazuh's sanitized workload " +
		"samples) have none of the operations SigmaHQ's m365 rules look for (inbox rules, forwarding, MFA, domains)",
	"linux|process_creation|": "the corpus's only exec records (OTRF: dd, arp -a, grep) are auditd's, which Tarian keeps " +
		"as one event per record: the EXECVE record names the program as run (arp, no path) and the execve SYSCALL " +
		"record has the path but no command line, so the rules that need both (Image|endswith /arp and CommandLine) " +
		"do not fire; there is no Sysmon for Linux sample",
}

// TestCorpusParsedSourcesFire parses real samples of the log sources Tarian
// reads through its parse pipeline and evaluates every SigmaHQ rule, and
// each source's check rule, on them (see sourceSamples).
func TestCorpusParsedSourcesFire(t *testing.T) {
	root := corpusRoot(t)
	rules := loadCorpusRules(t, root, "rules", "rules-emerging-threats", "rules-threat-hunting")
	for i, s := range sourceSamples {
		rs, err := sigma.Parse(fmt.Sprintf("check-%d.yml", i), []byte(s.check))
		if err != nil {
			t.Fatalf("%s: check rule: %v", s.source, err)
		}
		rs[0].ID = fmt.Sprintf("check-%d", i)
		rules = append(rules, rs...)
	}
	e, err := Compile(rules, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := parse.New(parse.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pp := p.NewParser()
	received := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i, s := range sourceSamples {
		check := fmt.Sprintf("check-%d", i)
		fired := map[string]map[string]int{} // log source -> rule title -> count
		events, checked := 0, 0
		for _, glob := range s.globs {
			paths, _ := filepath.Glob(filepath.Join(root, "logs", glob))
			if len(paths) == 0 {
				t.Errorf("%s: no sample file %s", s.source, glob)
			}
			for _, path := range paths {
				for j, rec := range sampleRecords(t, path) {
					source := "file"
					if len(rec) > 1 && rec[0] == '<' {
						source = "syslog"
					}
					evs, err := pp.ParseAs(parse.Auto, event.Raw{Received: received, Source: source, Data: rec}, nil)
					if err != nil {
						t.Errorf("%s record %d: %v", filepath.Base(path), j+1, err)
						continue
					}
					for _, ev := range evs {
						events++
						e.EvaluateFields(nil, ev.Fields, func(m Match) {
							if m.RuleID == check {
								checked++
								return
							}
							if strings.HasPrefix(m.RuleID, "check-") {
								return
							}
							k := logSourceKey(m.Rule)
							if fired[k] == nil {
								fired[k] = map[string]int{}
							}
							fired[k][m.Title]++
						})
					}
				}
			}
		}
		keys := make([]string, 0, len(fired))
		for k := range fired {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			titles := make([]string, 0, len(fired[k]))
			for title, n := range fired[k] {
				titles = append(titles, fmt.Sprintf("%s (%d)", title, n))
			}
			sort.Strings(titles)
			t.Logf("%s (%d events): SigmaHQ %s: %s", s.source, events, k, strings.Join(titles, "; "))
		}
		for _, want := range s.want {
			if len(fired[want]) == 0 {
				t.Errorf("%s: no SigmaHQ rule of log source %s fired on the %d events of its samples", s.source, want, events)
			}
		}
		if checked != s.checks {
			t.Errorf("%s: the check rule (Sigma field names of its log source) fired on %d of the %d events of its samples, want %d", s.source, checked, events, s.checks)
		}
	}
	for k, why := range noFiringSample {
		t.Logf("no sample a SigmaHQ rule fires on, for %s: %s", k, why)
	}
}

var wazuhLog = regexp.MustCompile(`^log \d+ (?:pass|fail) = (.*)$`)

// sampleRecords reads a sample file's records: the logs of a Wazuh
// ruleset test (.ini), else one per line.
func sampleRecords(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		l := bytes.TrimSpace(sc.Bytes())
		if strings.HasSuffix(path, ".ini") {
			m := wazuhLog.FindSubmatch(l)
			if m == nil {
				continue
			}
			l = m[1]
		}
		if len(l) > 0 {
			out = append(out, bytes.Clone(l))
		}
	}
	return out
}
