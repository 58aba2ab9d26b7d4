// Package demo makes the demo member bodies, their events and a few
// detection rules: a day of ordinary activity with a small campaign running
// through it (password spraying from one address, phishing from one sender,
// a macro starting encoded PowerShell, then shadow-copy deletion at one
// member), so a newcomer sees the product with data and alerts in it. The
// events and rules are written here, not copied from any data set.
package demo

import (
	"embed"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// Tenant is a demo member body.
type Tenant struct {
	ID, Name string
	// Hosts are the member's machine names.
	Hosts []string
	// Victim is the user who opens the phishing attachment, on the
	// first host, hours before now.
	Victim string
}

// Tenants are the demo member bodies.
var Tenants = []Tenant{
	{ID: "north-vale", Name: "North Vale County Council", Hosts: []string{"nv-ws-0142", "nv-dc01", "nv-fs01", "nv-ws-0217"}, Victim: "c.williams"},
	{ID: "riverside", Name: "Riverside Borough Council", Hosts: []string{"rb-lt-388", "rb-dc1", "rb-app2"}, Victim: "e.thomas"},
	{ID: "west-fire", Name: "West Fire and Rescue Service", Hosts: []string{"wfrs-ws-77", "wfrs-dc", "wfrs-cad01"}, Victim: "g.hughes"},
}

// Campaign indicators shared across members, so cross-member searches find them.
const (
	SprayIP      = "203.0.113.77"
	PhishSender  = "invoices@payment-notice.example"
	PhishSubject = "Overdue invoice INV-20931"
)

var users = []string{"a.jones", "b.evans", "c.williams", "d.roberts", "e.thomas", "f.davies", "g.hughes", "h.lewis"}

// Events returns n events for t spread over the day before now, as NDJSON
// lines. seed makes the output repeatable.
func Events(t Tenant, n int, now time.Time, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, uint64(len(t.ID))))
	out := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		at := now.Add(-time.Duration(r.Int64N(int64(24 * time.Hour))))
		host := t.Hosts[r.IntN(len(t.Hosts))]
		user := users[r.IntN(len(users))]
		var ev map[string]any
		switch k := r.IntN(100); {
		case k < 40:
			ev = logon(at, host, user, "success", fmt.Sprintf("10.%d.%d.%d", r.IntN(5), r.IntN(255), 1+r.IntN(250)))
		case k < 50:
			ev = logon(at, host, user, "failure", SprayIP)
		case k < 75:
			ev = web(r, at, host, user)
		case k < 90:
			ev = mail(r, at, user, t.ID)
		default:
			ev = process(at, host, user)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			panic("BUG: demo event does not marshal: " + err.Error())
		}
		out = append(out, b)
	}
	// At every member, one user opens the phishing attachment: its macro
	// starts encoded PowerShell a few times within half an hour (one
	// alert counting each, as the queue deduplicates them).
	start := now.Add(-3*time.Hour - time.Duration(len(t.ID))*time.Minute)
	if n > 0 && t.Victim != "" {
		for i := range 4 {
			b, _ := json.Marshal(processCmd(start.Add(time.Duration(i)*7*time.Minute), t.Hosts[0], t.Victim, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
				`powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA`, `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`))
			out = append(out, b)
		}
	}
	// One member then sees the ransomware precursor on the same machine:
	// its alert joins the macro's in one incident.
	if t.ID == "riverside" && n > 0 {
		b, _ := json.Marshal(processCmd(start.Add(50*time.Minute), t.Hosts[0], t.Victim,
			`C:\Windows\System32\vssadmin.exe`, `vssadmin.exe delete shadows /all /quiet`, `C:\Windows\System32\cmd.exe`))
		out = append(out, b)
	}
	return out
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func logon(at time.Time, host, user, outcome, ip string) map[string]any {
	msg := fmt.Sprintf("Accepted password for %s from %s port 51234 ssh2", user, ip)
	if outcome == "failure" {
		msg = fmt.Sprintf("Failed password for %s from %s port 51234 ssh2", user, ip)
	}
	return map[string]any{
		"@timestamp": ts(at), "message": msg,
		"event":  map[string]any{"kind": "event", "category": []string{"authentication"}, "outcome": outcome, "module": "sshd"},
		"host":   map[string]any{"name": host},
		"user":   map[string]any{"name": user},
		"source": map[string]any{"ip": ip},
	}
}

func web(r *rand.Rand, at time.Time, host, user string) map[string]any {
	sites := []string{"www.gov.example", "intranet.local", "news.example.org", "mail.example.com", "docs.example.net"}
	site := sites[r.IntN(len(sites))]
	return map[string]any{
		"@timestamp": ts(at), "message": fmt.Sprintf("proxy allow %s GET https://%s/", user, site),
		"event":       map[string]any{"kind": "event", "category": []string{"network"}, "module": "proxy"},
		"host":        map[string]any{"name": host},
		"user":        map[string]any{"name": user},
		"url":         map[string]any{"domain": site, "full": "https://" + site + "/"},
		"http":        map[string]any{"request": map[string]any{"method": "GET"}, "response": map[string]any{"status_code": 200}},
		"destination": map[string]any{"port": 443},
	}
}

func mail(r *rand.Rand, at time.Time, user, tenantID string) map[string]any {
	from, subject, verdict := "newsletter@partner.example", "Weekly bulletin", "delivered"
	if r.IntN(3) == 0 {
		from, subject, verdict = PhishSender, PhishSubject, "delivered"
	}
	return map[string]any{
		"@timestamp": ts(at), "message": fmt.Sprintf("mail %s from=<%s> to=<%s@%s.example> subject=%q", verdict, from, user, tenantID, subject),
		"event": map[string]any{"kind": "event", "category": []string{"email"}, "module": "mailgw"},
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
