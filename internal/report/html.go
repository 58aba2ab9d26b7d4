package report

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Bar is one bar of a chart.
type Bar struct {
	Label string
	N     int64
	Color string // #rrggbb
}

// levelColors are the severity colours (the console's).
var levelColors = map[string]string{
	"critical": "#7f1d1d", "high": "#dc2626", "medium": "#f59e0b", "low": "#2563eb", "informational": "#6b7280",
}

// outcomeColors colour ByOutcome.
var outcomeColors = map[string]string{
	"true-positive": "#b91c1c", "benign-positive": "#0d9488", "false-positive": "#9ca3af",
	"duplicate": "#d1d5db", "escalated": "#7c3aed", "open": "#f59e0b",
}

// severityBars and outcomeBars are the report's two charts, in l.
func (r *Report) severityBars(l Lang) []Bar {
	out := make([]Bar, len(r.BySeverity))
	for i, c := range r.BySeverity {
		out[i] = Bar{l.T("level." + c.Key), c.N, levelColors[c.Key]}
	}
	return out
}

func (r *Report) outcomeBars(l Lang) []Bar {
	out := make([]Bar, len(r.ByOutcome))
	for i, c := range r.ByOutcome {
		out[i] = Bar{l.T("outcome." + c.Key), c.N, outcomeColors[c.Key]}
	}
	return out
}

// svgChart draws bars as a horizontal bar chart, in SVG made here (no
// script, no outside resource): labels on the left, a bar scaled to the
// largest value, the value after it. title is the chart's accessible name.
func svgChart(title string, bars []Bar) template.HTML {
	const (
		width, valueW = 600, 60
		rowH, barH    = 26, 16
	)
	var top int64
	labelW := 120 // wide enough for the longest label: about 7.5 px a letter at 13 px
	for _, b := range bars {
		top = max(top, b.N)
		labelW = max(labelW, int(7.5*float64(utf8.RuneCountInString(b.Label)))+12)
	}
	labelW = min(labelW, 330)
	h := rowH*len(bars) + 4
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="%d" height="%d" viewBox="0 0 %d %d"><title>%s</title>`,
		width, h, width, h, html.EscapeString(title))
	span := width - labelW - valueW
	for i, b := range bars {
		y := 2 + i*rowH
		w := 0
		if top > 0 {
			w = int(int64(span) * b.N / top)
		}
		if b.N > 0 {
			w = max(w, 2)
		}
		fmt.Fprintf(&s, `<text x="%d" y="%d" font-size="13" text-anchor="end" fill="#111">%s</text>`, labelW-8, y+barH-3, html.EscapeString(b.Label))
		fmt.Fprintf(&s, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`, labelW, y, w, barH, html.EscapeString(b.Color))
		fmt.Fprintf(&s, `<text x="%d" y="%d" font-size="13" fill="#111">%d</text>`, labelW+w+6, y+barH-3, b.N)
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String()) // every text in it is escaped above
}

// HTML renders r as one self-contained page in l: inline CSS, inline SVG
// charts, no script and no outside resource.
func (r *Report) HTML(l Lang) ([]byte, error) {
	var b bytes.Buffer
	err := page.Execute(&b, view{R: r, L: l})
	if err != nil {
		return nil, fmt.Errorf("render report of %s: %w", r.Tenant, err)
	}
	return b.Bytes(), nil
}

// view is what the page template reads.
type view struct {
	R *Report
	L Lang
}

func (v view) K() int { return v.R.KAnonymity }

func (v view) T(key string) string { return v.L.T(key) }

func (v view) Tf(key string, args ...any) string { return fmt.Sprintf(v.L.T(key), args...) }

func (v view) Month() string { return v.L.Month(v.R.Month) }

func (v view) SeverityChart() template.HTML {
	return svgChart(v.L.T("by_severity"), v.R.severityBars(v.L))
}

func (v view) OutcomeChart() template.HTML {
	return svgChart(v.L.T("by_outcome"), v.R.outcomeBars(v.L))
}

func (v view) AdvisoryTitle(a Advisory) string {
	if v.L == Welsh {
		return a.TitleCY
	}
	return a.TitleEN
}

func (v view) RuleTitle(r RuleCount) string { return v.L.RuleTitle(r) }

func (v view) SourceType(sh SourceHealth) string { return v.L.SourceType(sh) }

// Breaches is how many alerts are past their service level (each once).
func (v view) Breaches() int64 { return v.R.LateAlerts }

// Others shows a campaign's other members: a number, or "fewer than k".
func (v view) Others(c Campaign, k int) string {
	if c.OtherMembers == 0 {
		return fmt.Sprintf(v.L.T("few_members"), k)
	}
	return strconv.Itoa(c.OtherMembers)
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"stamp": Stamp,
}).Parse(`<!DOCTYPE html>
<html lang="{{.L}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{{.T "title"}}: {{.R.TenantName}}, {{.Month}}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; padding: 0 1rem; color: #111; }
header { border-bottom: 3px solid #14532d; margin-bottom: 1.5rem; }
h1 { font-size: 1.7rem; margin: 0 0 .2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
p.meta { color: #444; margin: .2rem 0 .8rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { text-align: left; vertical-align: top; padding: .25rem .5rem; border-bottom: 1px solid #e5e5e5; }
th { font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.tiles { display: flex; flex-wrap: wrap; gap: .8rem; }
.tile { border: 1px solid #ddd; border-radius: 6px; padding: .5rem .9rem; min-width: 10rem; }
.tile b { display: block; font-size: 1.6rem; }
.note { color: #555; font-size: .9rem; }
.state-silent, .state-dropped { color: #b91c1c; font-weight: 600; }
svg { max-width: 100%; height: auto; }
@media print { body { margin: 0; } h2 { break-after: avoid; } table { break-inside: auto; } }
</style>
</head>
<body>
<header>
<h1>{{.T "title"}}: {{.R.TenantName}}</h1>
<p class="meta">{{.T "member"}}: {{.R.TenantName}} ({{.R.Tenant}}) · {{.T "period"}}: {{.Month}} · {{.T "generated"}}: {{stamp .R.Generated}} · {{.T "utc"}}</p>
<p class="meta">TLP:AMBER · {{.T "marking"}}</p>
</header>

<h2>{{.T "summary"}}</h2>
<div class="tiles">
<div class="tile">{{.T "alerts"}}<b>{{.R.Alerts}}</b></div>
<div class="tile">{{.T "events"}}<b>{{.R.Events}}</b></div>
<div class="tile">{{.T "cases"}}<b>{{len .R.Cases.List}}</b></div>
<div class="tile">{{.T "sla_breaches"}}<b>{{.Breaches}}</b></div>
</div>

<h2>{{.T "by_severity"}}</h2>
{{if .R.Alerts}}{{.SeverityChart}}{{else}}<p>{{.T "no_alerts"}}</p>{{end}}
<table>
<thead><tr><th>{{.T "severity"}}</th><th class="n">{{.T "count"}}</th></tr></thead>
<tbody>{{range .R.BySeverity}}<tr><td>{{$.T (print "level." .Key)}}</td><td class="n">{{.N}}</td></tr>{{end}}</tbody>
</table>

<h2>{{.T "by_outcome"}}</h2>
{{if .R.Alerts}}{{.OutcomeChart}}{{end}}
<table>
<thead><tr><th>{{.T "outcome"}}</th><th class="n">{{.T "count"}}</th></tr></thead>
<tbody>{{range .R.ByOutcome}}<tr><td>{{$.T (print "outcome." .Key)}}</td><td class="n">{{.N}}</td></tr>{{end}}</tbody>
</table>

<h2>{{.T "top_rules"}}</h2>
{{if .R.Rules}}<table>
<thead><tr><th>{{.T "rule"}}</th><th>{{.T "rule_title"}}</th><th class="n">{{.T "alerts"}}</th><th class="n">{{.T "false_positives"}}</th></tr></thead>
<tbody>{{range .R.Rules}}<tr><td><code>{{.RuleID}}</code></td><td>{{$.RuleTitle .}}</td><td class="n">{{.Alerts}}</td><td class="n">{{.FalsePositives}}</td></tr>{{end}}</tbody>
</table>{{else}}<p>{{.T "no_alerts"}}</p>{{end}}

<h2>{{.T "top_techniques"}}</h2>
{{if .R.Techniques}}<table>
<thead><tr><th>{{.T "technique"}}</th><th class="n">{{.T "alerts"}}</th></tr></thead>
<tbody>{{range .R.Techniques}}<tr><td>{{.Key}}</td><td class="n">{{.N}}</td></tr>{{end}}</tbody>
</table>{{else}}<p>{{.T "no_techniques"}}</p>{{end}}

<h2>{{.T "times"}}</h2>
<table>
<thead><tr><th>{{.T "measure"}}</th><th class="n">{{.T "mean"}}</th><th class="n">{{.T "measured"}}</th></tr></thead>
<tbody>
<tr><td>{{.T "mttd"}}</td><td class="n">{{.L.Mean .R.MTTD}}</td><td class="n">{{.R.MTTD.Count}}</td></tr>
<tr><td>{{.T "mtta"}}</td><td class="n">{{.L.Mean .R.MTTA}}</td><td class="n">{{.R.MTTA.Count}}</td></tr>
<tr><td>{{.T "mttr"}}</td><td class="n">{{.L.Mean .R.MTTR}}</td><td class="n">{{.R.MTTR.Count}}</td></tr>
</tbody>
</table>
<table>
<caption>{{.T "sla"}}</caption>
<thead><tr><th>{{.T "severity"}}</th><th class="n">{{.T "alerts"}}</th><th class="n">{{.T "ack_target"}}</th><th class="n">{{.T "mtta"}}</th><th class="n">{{.T "ack_late"}}</th><th class="n">{{.T "resolve_target"}}</th><th class="n">{{.T "mttr"}}</th><th class="n">{{.T "resolve_late"}}</th></tr></thead>
<tbody>{{range .R.SLA}}<tr><td>{{$.T (print "level." .Level)}}</td><td class="n">{{.Alerts}}</td><td class="n">{{$.L.Target .Acknowledge}}</td><td class="n">{{$.L.Mean .MTTA}}</td><td class="n">{{.AcknowledgeBreached}}</td><td class="n">{{$.L.Target .Resolve}}</td><td class="n">{{$.L.Mean .MTTR}}</td><td class="n">{{.ResolveBreached}}</td></tr>{{end}}</tbody>
</table>
<p class="note">{{.T "sla_note"}}</p>

<h2>{{.T "cases"}}</h2>
<p class="note">{{.T "cases_note"}}</p>
<div class="tiles">
<div class="tile">{{.T "cases_opened"}}<b>{{.R.Cases.Opened}}</b></div>
<div class="tile">{{.T "cases_closed"}}<b>{{.R.Cases.Closed}}</b></div>
<div class="tile">{{.T "cases_open"}}<b>{{.R.Cases.Open}}</b></div>
</div>
{{if .R.Cases.List}}<table>
<thead><tr><th>{{.T "case"}}</th><th>{{.T "rule_title"}}</th><th>{{.T "severity"}}</th><th>{{.T "status"}}</th><th>{{.T "opened"}}</th><th>{{.T "closed"}}</th><th>{{.T "classification"}}</th></tr></thead>
<tbody>{{range .R.Cases.List}}<tr><td>{{.ID}}</td><td>{{.Title}}</td><td>{{$.T (print "level." .Severity)}}</td><td>{{$.T (print "case." .Status)}}</td><td>{{stamp .Created}}</td><td>{{stamp .Closed}}</td><td>{{if .Classification}}{{$.T (print "outcome." .Classification)}}{{else}}—{{end}}</td></tr>{{end}}</tbody>
</table>{{else}}<p>{{.T "no_cases"}}</p>{{end}}

<h2>{{.T "sources"}}</h2>
{{if .R.Sources}}<table>
<thead><tr><th>{{.T "source"}}</th><th>{{.T "receiver"}}</th><th>{{.T "host"}}</th><th>{{.T "type"}}</th><th>{{.T "state"}}</th><th>{{.T "last_seen"}}</th><th class="n">{{.T "month_events"}}</th></tr></thead>
<tbody>{{range .R.Sources}}<tr><td>{{.Name}}</td><td>{{.Receiver}}</td><td>{{.Host}}</td><td>{{$.SourceType .}}</td><td class="state-{{.State}}">{{$.T (print "state." .State)}}</td><td>{{stamp .LastSeen}}</td><td class="n">{{.Events}}</td></tr>{{end}}</tbody>
</table>{{else}}<p>{{.T "no_sources"}}</p>{{end}}

<h2>{{.T "advisories"}}</h2>
{{if .R.Advisories}}<table>
<thead><tr><th>{{.T "advisory"}}</th><th>{{.T "rule_title"}}</th><th>TLP</th><th>{{.T "published"}}</th><th>{{.T "acknowledged"}}</th></tr></thead>
<tbody>{{range .R.Advisories}}<tr><td>{{.ID}}</td><td>{{$.AdvisoryTitle .}}</td><td>{{.TLP}}</td><td>{{stamp .Published}}</td><td>{{if .Acknowledged.IsZero}}{{$.T "not_acked"}}{{else}}{{stamp .Acknowledged}}{{end}}</td></tr>{{end}}</tbody>
</table>{{else}}<p>{{.T "no_advisories"}}</p>{{end}}

<h2>{{.T "campaigns"}}</h2>
{{if .R.Campaigns}}<p class="note">{{.Tf "campaigns_note" .K}}</p>
<table>
<thead><tr><th>{{.T "campaign"}}</th><th>{{.T "observable"}}</th><th>{{.T "first_seen"}}</th><th>{{.T "last_seen"}}</th><th class="n">{{.T "own_alerts"}}</th><th class="n">{{.T "other_members"}}</th></tr></thead>
<tbody>{{range .R.Campaigns}}<tr><td>{{.ID}}</td><td>{{$.L.Kind .Kind}}: <code>{{.Value}}</code></td><td>{{stamp .FirstSeen}}</td><td>{{stamp .LastSeen}}</td><td class="n">{{.Alerts}}</td><td class="n">{{$.Others . $.K}}</td></tr>{{end}}</tbody>
</table>{{else}}<p>{{.T "no_campaigns"}}</p>{{end}}
</body>
</html>
`))
