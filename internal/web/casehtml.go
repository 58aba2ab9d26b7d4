package web

import (
	"bytes"
	"fmt"
	"html/template"
	"strconv"
	"time"

	"github.com/tarian-soc/tarian/internal/incident"
)

// caseHTML renders case c as a standalone page (no script, no outside
// resource): html/template escapes everything the case holds.
func caseHTML(c incident.Case, linked []AlertJSON, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	err := casePage.Execute(&b, struct {
		C         incident.Case
		Linked    []AlertJSON
		Generated time.Time
		Open      int
	}{c, linked, now, openTasks(c)})
	if err != nil {
		return nil, fmt.Errorf("render case %d: %w", c.ID, err)
	}
	return b.Bytes(), nil
}

func openTasks(c incident.Case) int {
	n := 0
	for _, t := range c.Tasks {
		if !t.Done {
			n++
		}
	}
	return n
}

var casePage = template.Must(template.New("case").Funcs(template.FuncMap{
	"ts":   caseTimeText,
	"tlp":  tlpClass,
	"size": func(n int64) string { return strconv.FormatInt(n, 10) + " bytes" },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Case {{.C.ID}}: {{.C.Title}}</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #111; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .3rem .6rem; border-bottom: 1px solid #e5e5e5; }
th { font-weight: 600; }
th[scope=row] { width: 14rem; }
td.pre, p.pre, span.pre { white-space: pre-wrap; overflow-wrap: anywhere; }
ul.history { margin: 0; padding-left: 1.2rem; font-size: .95em; }
code { font-size: .9em; overflow-wrap: anywhere; }
.tlp { display: inline-block; padding: .1rem .6rem; background: #000; font-weight: 700; letter-spacing: .05em; }
.tlp-clear { color: #fff; } .tlp-green { color: #33ff00; } .tlp-amber, .tlp-amber-strict { color: #ffc000; } .tlp-red { color: #ff2b2b; }
.muted { color: #555; }
@media print { body { margin: 0; max-width: none; } }
</style>
</head>
<body>
<p><span class="tlp {{tlp .C.TLP}}">TLP:{{.C.TLP}}</span></p>
<h1>Case {{.C.ID}}: {{.C.Title}}</h1>
<table>
<tr><th scope="row">Member</th><td>{{.C.Tenant}}</td></tr>
<tr><th scope="row">Status</th><td>{{.C.Status}}</td></tr>
<tr><th scope="row">Severity</th><td>{{.C.Severity}}</td></tr>
<tr><th scope="row">Assignee</th><td>{{if .C.Assignee}}{{.C.Assignee}}{{else}}—{{end}}</td></tr>
<tr><th scope="row">Opened</th><td>{{ts .C.Created}} by {{.C.Author}}</td></tr>
<tr><th scope="row">Last changed</th><td>{{ts .C.Updated}}</td></tr>
<tr><th scope="row">Escalated to the member</th><td>{{ts .C.Escalated}}</td></tr>
<tr><th scope="row">Acknowledged by the member</th><td>{{ts .C.AcknowledgedByMember}}{{if .C.AcknowledgedBy}} by {{.C.AcknowledgedBy}}{{end}}</td></tr>
<tr><th scope="row">Closed</th><td>{{ts .C.Closed}}</td></tr>
{{- if .C.Classification}}
<tr><th scope="row">Classification</th><td>{{.C.Classification}}</td></tr>
<tr><th scope="row">Summary</th><td class="pre">{{.C.Summary}}</td></tr>
{{- end}}
</table>
{{- if .C.Description}}
<h2>Description</h2>
<p class="pre">{{.C.Description}}</p>
{{- end}}

<h2>Timeline ({{len .C.Timeline}})</h2>
{{- if .C.Timeline}}
<table>
<thead><tr><th scope="col">Time</th><th scope="col">Kind</th><th scope="col">By</th><th scope="col">What</th></tr></thead>
<tbody>
{{- range .C.Timeline}}
<tr><td><time datetime="{{ts .Time}}">{{ts .Time}}</time></td><td>{{.Kind}}</td><td>{{if .Author}}{{.Author}}{{if .Role}} <span class="muted">({{.Role}})</span>{{end}}{{else}}—{{end}}</td><td class="pre">{{.Text}}{{range $k, $v := .Data}}
<span class="muted">{{$k}}: <code>{{$v}}</code></span>{{end}}</td></tr>
{{- end}}
</tbody>
</table>
{{- else}}
<p class="muted">No entries.</p>
{{- end}}

<h2>Linked alerts ({{len .C.Alerts}})</h2>
{{- if .Linked}}
<table>
<thead><tr><th scope="col">Alert</th><th scope="col">Title</th><th scope="col">Severity</th><th scope="col">Status</th><th scope="col">Host / user</th><th scope="col">First and last seen</th></tr></thead>
<tbody>
{{- range .Linked}}
<tr><td><code>{{.ID}}</code></td><td>{{.Title}}</td><td>{{.Level}}</td><td>{{.Status}}{{with .Resolution}} ({{.}}){{end}}{{with .Assignee}}, {{.}}{{end}}</td><td>{{if or .Host .User}}{{.Host}}{{if and .Host .User}} / {{end}}{{.User}}{{else}}{{range $i, $e := .Entities}}{{if eq $i 0}}{{$e.Value}}{{end}}{{end}}{{end}}</td><td>{{ts .FirstSeen}} – {{ts .LastSeen}}</td></tr>
{{- if .History}}
<tr><td></td><td colspan="5"><ul class="history">
{{- range .History}}
<li>{{ts .Time}} {{.Verb}}{{with .Assignee}} · {{.}}{{end}}{{with .Resolution}} · {{.}}{{end}} <span class="muted">by <code>{{.Actor}}</code></span>{{with .Note}}<br><span class="pre">{{.}}</span>{{end}}</li>
{{- end}}
</ul></td></tr>
{{- end}}
{{- end}}
</tbody>
</table>
{{- else if .C.Alerts}}
<p>{{range $i, $a := .C.Alerts}}{{if $i}}, {{end}}<code>{{$a}}</code>{{end}}</p>
{{- else}}
<p class="muted">None.</p>
{{- end}}

<h2>Observables ({{len .C.Observables}})</h2>
{{- if .C.Observables}}
<table>
<thead><tr><th scope="col">Type</th><th scope="col">Value</th><th scope="col">Source</th></tr></thead>
<tbody>
{{- range .C.Observables}}
<tr><td>{{.Type}}</td><td><code>{{.Value}}</code></td><td>{{.Source}}</td></tr>
{{- end}}
</tbody>
</table>
{{- else}}
<p class="muted">None.</p>
{{- end}}

<h2>Tasks ({{len .C.Tasks}}, {{.Open}} open)</h2>
{{- if .C.Tasks}}
<ul>
{{- range .C.Tasks}}
<li>{{if .Done}}<span aria-label="done">☑</span>{{else}}<span aria-label="open">☐</span>{{end}} {{.Title}} <span class="muted">(task {{.ID}})</span></li>
{{- end}}
</ul>
{{- else}}
<p class="muted">None.</p>
{{- end}}

<h2>Evidence ({{len .C.Evidence}})</h2>
{{- if .C.Evidence}}
<table>
<thead><tr><th scope="col">Name</th><th scope="col">Size</th><th scope="col">SHA-256</th><th scope="col">Added</th></tr></thead>
<tbody>
{{- range .C.Evidence}}
<tr><td>{{.Name}}</td><td>{{size .Size}}</td><td><code>{{.SHA256}}</code></td><td>{{ts .Added}} by {{.Author}}</td></tr>
{{- end}}
</tbody>
</table>
{{- else}}
<p class="muted">None.</p>
{{- end}}

<p class="muted">Exported from Tarian at {{ts .Generated}}. TLP:{{.C.TLP}} applies to this whole document.</p>
</body>
</html>
`))
