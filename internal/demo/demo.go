// Package demo makes the demo member bodies, their events, a few detection
// rules and threat indicators, so a newcomer sees the product with data,
// alerts, a campaign, a case and a quiet log source in it. A day of
// ordinary activity runs at every member, with one intrusion through it:
// a phishing wave from one sender reaches all three members within half
// an hour; at each, one user opens the attachment and its macro starts
// encoded PowerShell; at two the intruder dumps credentials and moves to
// the domain controller; at one it then deletes the backups (shadow copies
// and the Windows backup catalogue), the step before ransomware encrypts.
// Meanwhile one member's firewall stops logging. Afterwards a partner CERT
// shares the site the macro fetched its payload from, and a retro-hunt
// finds it in every member's history. The events, rules and
// indicators are written here, not copied from any data set.
package demo

import (
	"embed"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/parse"
)

// Tenant is a demo member body.
type Tenant struct {
	ID, Name string
	// Hosts are the member's machine names: the first is the victim's
	// workstation, the second the domain controller.
	Hosts []string
	// Firewall, Proxy and Mail are the member's firewall, web proxy and
	// mail gateway, which log as JSON (declared sources, Sources).
	Firewall, Proxy, Mail string
	// Victim is the user who opens the phishing attachment.
	Victim string
	// Stage is how far the intrusion gets: 1 the macro, 2 credential
	// theft and lateral movement, 3 backup deletion.
	Stage int
	// FirewallSilent says the firewall stops logging after the day's
	// events (the demo's quiet source).
	FirewallSilent bool
}

// Tenants are the demo member bodies.
var Tenants = []Tenant{
	{ID: "north-vale", Name: "North Vale County Council", Hosts: []string{"nv-ws-0142", "nv-dc01", "nv-fs01", "nv-ws-0217"}, Firewall: "nv-fw01", Proxy: "nv-proxy01", Mail: "nv-mx01", Victim: "c.williams", Stage: 2},
	{ID: "riverside", Name: "Riverside Borough Council", Hosts: []string{"rb-lt-388", "rb-dc1", "rb-app2"}, Firewall: "rb-fw01", Proxy: "rb-proxy01", Mail: "rb-mx01", Victim: "e.thomas", Stage: 3},
	{ID: "west-fire", Name: "West Fire and Rescue Service", Hosts: []string{"wfrs-ws-77", "wfrs-dc", "wfrs-cad01"}, Firewall: "wfrs-fw01", Proxy: "wfrs-proxy01", Mail: "wfrs-mx01", Victim: "g.hughes", Stage: 1, FirewallSilent: true},
}

// Campaign indicators shared across members, so cross-member searches find them.
const (
	SprayIP      = "203.0.113.77"
	PhishSender  = "invoices@payment-notice.example"
	PhishDomain  = "payment-notice.example"
	PhishSubject = "Overdue invoice INV-20931"
	// StageDomain is where the macro fetched its payload from: nobody knew
	// it when the demo's events happened; a partner CERT shares it later
	// (PartnerIndicators), and a retro-hunt finds it in each member's
	// proxy logs.
	StageDomain = "cdn.office-updates.example"
)

// FirewallSilence is how long a demo firewall may stay quiet before its
// silence alerts: short, so the demo shows it within a minute.
const FirewallSilence = 30 * time.Second

// Sources declares each member's firewall, proxy and mail gateway as
// expected log sources of plain JSON (their events carry ECS names); the
// Windows events are detected as such.
func Sources() []parse.Source {
	var out []parse.Source
	for _, t := range Tenants {
		out = append(out,
			parse.Source{Name: t.ID + "-firewall", Tenant: t.ID, Receiver: "http", Host: t.Firewall, Type: "json", Silence: FirewallSilence},
			parse.Source{Name: t.ID + "-proxy", Tenant: t.ID, Receiver: "http", Host: t.Proxy, Type: "json"},
			parse.Source{Name: t.ID + "-mail", Tenant: t.ID, Receiver: "http", Host: t.Mail, Type: "json"})
	}
	return out
}

// PartnerIndicators is what a partner CERT shares once the demo's events
// are stored, as CSV: the payload's download site.
func PartnerIndicators() []byte {
	return []byte("type,value,confidence,description\n" +
		"domain," + StageDomain + ",85,Payload download site of the invoice phishing wave, shared by a partner CERT (demo)\n")
}

// Indicators is the demo's threat intelligence, as CSV: the phishing
// sender and its domain. (The spraying address is left to the spraying
// rule: an indicator would add an alert for every account it tried.)
func Indicators() []byte {
	return []byte("type,value,confidence,description\n" +
		"email," + PhishSender + ",90,Invoice-themed phishing sender (demo)\n" +
		"domain," + PhishDomain + ",80,Domain of the invoice phishing wave (demo)\n")
}

// SavedSearch is one of the demo's saved searches.
type SavedSearch struct {
	Name, Query, Description string
	// Every, when set, schedules the search (it runs on its own and
	// raises alerts of Level, with Tags).
	Every, Level string
	Tags         []string
}

// SavedSearches are the provider's saved searches in the demo: hunts for
// the storyline's steps, each finding its events; one is scheduled.
func SavedSearches() []SavedSearch {
	return []SavedSearch{
		{"Invoice phishing: who received it", `email.from.address:="` + PhishSender + `" | stats by (tenant, email.to.address) count() as mails`,
			"Every recipient of the invoice phishing wave, per member: whom to warn, whose mailbox to purge.", "", "", nil},
		{"Encoded PowerShell", `process.command_line:"-enc" | stats by (tenant, host.name, user.name) count() as runs`,
			"PowerShell given a Base64 script: how the macro started its payload.", "", "", nil},
		{"Backups deleted", `process.command_line:"delete shadows" OR process.command_line:"delete catalog"`,
			"Shadow copies or the backup catalogue deleted, whatever tool did it: a ransomware crew's last step before encrypting. Runs every day at every member.",
			"24h", "critical", []string{"attack.impact", "attack.t1490"}},
		{"Password spraying: one address, many accounts", `event.outcome:=failure | stats by (tenant, source.ip) count() as failures, count_uniq(user.name) as accounts | filter accounts:>3 | sort by (failures desc)`,
			"Failed logons from one source address for more than three accounts.", "", "", nil},
	}
}

var users = []string{"a.jones", "b.evans", "c.williams", "d.roberts", "e.thomas", "f.davies", "g.hughes", "h.lewis"}

// Story times, before now: the phishing wave, then each step of the
// intrusion (every member's offset by a few minutes).
const (
	waveAgo  = 3 * time.Hour
	stepGap  = 12 * time.Minute
	sprayAgo = 5 * time.Hour
)

// Events returns n events of ordinary activity for t spread over the day
// before now, then the intrusion's events, as NDJSON lines. seed makes the
// output repeatable.
func Events(t Tenant, n int, now time.Time, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, uint64(len(t.ID))))
	var out [][]byte
	add := func(ev map[string]any) {
		b, err := json.Marshal(ev)
		if err != nil {
			panic("BUG: demo event does not marshal: " + err.Error())
		}
		out = append(out, b)
	}
	for range n {
		add(Ordinary(r, t, now.Add(-time.Duration(r.Int64N(int64(24*time.Hour))))))
	}
	if n == 0 {
		return out
	}
	// Password spraying from one address, a few failures per user within
	// twenty minutes, seen by the firewall too.
	spray := now.Add(-sprayAgo - time.Duration(len(t.ID))*time.Minute)
	for i, u := range users {
		for j := range 3 {
			at := spray.Add(time.Duration(i*150+j*40) * time.Second)
			add(logon(at, t.Hosts[1], u, "failure", SprayIP))
			add(firewall(at, t.Firewall, "deny", SprayIP, "10.0.0.10", 3389))
		}
	}
	// The phishing wave: every member within half an hour.
	wave := now.Add(-waveAgo + time.Duration(len(t.ID))*time.Minute)
	for i, u := range users[:5] {
		add(mail(wave.Add(time.Duration(i)*time.Minute), t.Mail, u, t.ID, PhishSender, PhishSubject))
	}
	if t.Victim != "" {
		add(mail(wave.Add(2*time.Minute), t.Mail, t.Victim, t.ID, PhishSender, PhishSubject))
	}
	// The victim opens the attachment: its macro starts encoded
	// PowerShell a few times (one alert counting each).
	ws, dc, step := t.Hosts[0], t.Hosts[1], wave.Add(stepGap)
	for i := range 3 {
		add(processCmd(step.Add(time.Duration(i)*time.Minute), ws, t.Victim, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
			`powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA`, `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`))
	}
	// It fetches its payload through the proxy.
	add(download(step.Add(30*time.Second), t.Proxy, ws, t.Victim, "https://"+StageDomain+"/update/KB5031-x64.ps1"))
	if t.Stage >= 2 {
		// Credential theft: LSASS dumped through comsvcs.dll ...
		add(processCmd(step.Add(stepGap), ws, t.Victim, `C:\Windows\System32\rundll32.exe`,
			`rundll32.exe C:\Windows\System32\comsvcs.dll, MiniDump 672 C:\Users\Public\lsass.dmp full`, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`))
		// ... then a process started on the domain controller.
		add(processCmd(step.Add(2*stepGap), ws, t.Victim, `C:\Windows\System32\wbem\WMIC.exe`,
			`wmic.exe /node:`+dc+` process call create "cmd.exe /c whoami > C:\Windows\Temp\o.txt"`, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`))
	}
	if t.Stage >= 3 {
		// On the domain controller, the backups go: shadow copies, then
		// the Windows backup catalogue.
		add(processCmd(step.Add(3*stepGap), dc, t.Victim, `C:\Windows\System32\vssadmin.exe`, `vssadmin.exe delete shadows /all /quiet`, `C:\Windows\System32\cmd.exe`))
		add(processCmd(step.Add(3*stepGap+time.Minute), dc, t.Victim, `C:\Windows\System32\wbadmin.exe`, `wbadmin.exe delete catalog -quiet`, `C:\Windows\System32\cmd.exe`))
	}
	return out
}

// Ordinary returns one event of t's ordinary activity at `at`: logons,
// web browsing, mail, programs started, firewall traffic.
func Ordinary(r *rand.Rand, t Tenant, at time.Time) map[string]any {
	host := t.Hosts[r.IntN(len(t.Hosts))]
	user := users[r.IntN(len(users))]
	switch k := r.IntN(100); {
	case k < 35:
		return logon(at, host, user, "success", fmt.Sprintf("10.%d.%d.%d", r.IntN(5), r.IntN(255), 1+r.IntN(250)))
	case k < 38:
		return logon(at, host, user, "failure", fmt.Sprintf("10.%d.%d.%d", r.IntN(5), r.IntN(255), 1+r.IntN(250)))
	case k < 58:
		return web(r, at, t.Proxy, host, user)
	case k < 70:
		return mail(at, t.Mail, user, t.ID, "newsletter@partner.example", "Weekly bulletin")
	case k < 80:
		return process(at, host, user)
	default:
		action := "allow"
		if r.IntN(10) == 0 {
			action = "deny"
		}
		return firewall(at, t.Firewall, action, fmt.Sprintf("10.%d.%d.%d", r.IntN(5), r.IntN(255), 1+r.IntN(250)), fmt.Sprintf("198.51.100.%d", 1+r.IntN(250)), []int{443, 80, 53, 25}[r.IntN(4)])
	}
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// logon is a Windows logon (4624) or failed logon (4625) as Winlogbeat
// ships it.
func logon(at time.Time, host, user, outcome, ip string) map[string]any {
	code, msg := 4624, "An account was successfully logged on."
	if outcome == "failure" {
		code, msg = 4625, "An account failed to log on."
	}
	return map[string]any{
		"@timestamp": ts(at), "message": msg,
		"event":  map[string]any{"kind": "event", "category": []string{"authentication"}, "outcome": outcome, "code": fmt.Sprint(code), "provider": "Microsoft-Windows-Security-Auditing"},
		"host":   map[string]any{"name": host},
		"user":   map[string]any{"name": user},
		"source": map[string]any{"ip": ip},
		"winlog": map[string]any{"channel": "Security", "event_id": code, "computer_name": host, "provider_name": "Microsoft-Windows-Security-Auditing",
			"event_data": map[string]any{"TargetUserName": user, "IpAddress": ip, "LogonType": "3", "WorkstationName": host}},
	}
}

func firewall(at time.Time, fw, action, src, dst string, port int) map[string]any {
	return map[string]any{
		"@timestamp": ts(at), "message": fmt.Sprintf("%s %s -> %s:%d", action, src, dst, port),
		"event":       map[string]any{"kind": "event", "category": []string{"network"}, "action": action, "module": "firewall"},
		"observer":    map[string]any{"type": "firewall", "hostname": fw, "vendor": "Demo"},
		"host":        map[string]any{"name": fw},
		"source":      map[string]any{"ip": src},
		"destination": map[string]any{"ip": dst, "port": port},
		"network":     map[string]any{"transport": "tcp"},
	}
}

func web(r *rand.Rand, at time.Time, proxy, client, user string) map[string]any {
	sites := []string{"www.gov.example", "intranet.local", "news.example.org", "mail.example.com", "docs.example.net"}
	site := sites[r.IntN(len(sites))]
	return map[string]any{
		"@timestamp": ts(at), "message": fmt.Sprintf("proxy allow %s GET https://%s/", user, site),
		"event":       map[string]any{"kind": "event", "category": []string{"network"}, "module": "proxy"},
		"host":        map[string]any{"name": proxy},
		"source":      map[string]any{"domain": client},
		"user":        map[string]any{"name": user},
		"url":         map[string]any{"domain": site, "full": "https://" + site + "/"},
		"http":        map[string]any{"request": map[string]any{"method": "GET"}, "response": map[string]any{"status_code": 200}},
		"destination": map[string]any{"port": 443},
	}
}

func download(at time.Time, proxy, client, user, u string) map[string]any {
	site := strings.TrimPrefix(u, "https://")
	site, _, _ = strings.Cut(site, "/")
	return map[string]any{
		"@timestamp": ts(at), "message": fmt.Sprintf("proxy allow %s GET %s", user, u),
		"event":       map[string]any{"kind": "event", "category": []string{"network"}, "module": "proxy"},
		"host":        map[string]any{"name": proxy},
		"source":      map[string]any{"domain": client},
		"user":        map[string]any{"name": user},
		"url":         map[string]any{"domain": site, "full": u},
		"http":        map[string]any{"request": map[string]any{"method": "GET"}, "response": map[string]any{"status_code": 200}},
		"destination": map[string]any{"port": 443},
	}
}

func mail(at time.Time, gateway, user, tenantID, from, subject string) map[string]any {
	verdict := "delivered"
	return map[string]any{
		"@timestamp": ts(at), "message": fmt.Sprintf("mail %s from=<%s> to=<%s@%s.example> subject=%q", verdict, from, user, tenantID, subject),
		"event": map[string]any{"kind": "event", "category": []string{"email"}, "module": "mailgw"},
		"host":  map[string]any{"name": gateway},
		"email": map[string]any{"from": map[string]any{"address": from}, "to": map[string]any{"address": user + "@" + tenantID + ".example"}, "subject": subject},
	}
}

func process(at time.Time, host, user string) map[string]any {
	return processCmd(at, host, user, `C:\Windows\System32\notepad.exe`, `notepad.exe C:\Users\`+user+`\notes.txt`, `C:\Windows\explorer.exe`)
}

func processCmd(at time.Time, host, user, image, cmd, parent string) map[string]any {
	return map[string]any{
		"@timestamp": ts(at), "message": "Process Create: " + cmd,
		"event":   map[string]any{"kind": "event", "category": []string{"process"}, "type": []string{"start"}, "module": "sysmon", "code": "1"},
		"host":    map[string]any{"name": host},
		"user":    map[string]any{"name": user},
		"process": map[string]any{"executable": image, "command_line": cmd, "parent": map[string]any{"executable": parent}},
		"winlog":  map[string]any{"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 1, "event_data": map[string]any{"Image": image, "CommandLine": cmd, "ParentImage": parent}},
	}
}

//go:embed rules/*.yml
var rules embed.FS

// RuleFiles returns the demo's own detection rules (Sigma), by file name.
func RuleFiles() map[string][]byte {
	out := map[string][]byte{}
	entries, err := rules.ReadDir("rules")
	if err != nil {
		panic("BUG: embedded demo rules: " + err.Error())
	}
	for _, e := range entries {
		data, err := rules.ReadFile("rules/" + e.Name())
		if err != nil {
			panic("BUG: embedded demo rules: " + err.Error())
		}
		out[e.Name()] = data
	}
	return out
}
