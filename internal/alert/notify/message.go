package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// EventTest is the event of a test message.
const EventTest = "test"

// message is one notification, before a channel's format.
type message struct {
	// Delivery identifies the notification; it stays the same across tries.
	Delivery string
	Change   alert.Change
	// Time is when the change was routed.
	Time time.Time
	Test bool
	// Link is the alert's page in the console ("" when Config.ConsoleURL
	// is unset).
	Link string
}

// event names the message: alert.<change>, or test.
func (m *message) event() string {
	if m.Test {
		return EventTest
	}
	return "alert." + m.Change.What
}

// heading says what happened, for people.
func (m *message) heading() string {
	c := m.Change
	switch {
	case m.Test:
		return "Test notification from Tarian"
	case c.What == alert.ChangeCreated:
		return "New alert"
	case c.What == alert.ChangeUpdated:
		return fmt.Sprintf("Alert updated: %d events", c.Alert.Count)
	case c.What == alert.VerbAck:
		return "Alert acknowledged" + by(c.Actor)
	case c.What == alert.VerbAssign:
		return "Alert assigned to " + c.Alert.Assignee + by(c.Actor)
	case c.What == alert.VerbResolve:
		return "Alert resolved as " + string(c.Alert.Resolution) + by(c.Actor)
	case c.What == alert.VerbEscalate:
		return "Alert escalated" + by(c.Actor)
	case c.What == alert.VerbReopen:
		return "Alert reopened" + by(c.Actor)
	case c.What == alert.VerbComment:
		return "Comment on alert" + by(c.Actor)
	}
	return "Alert " + c.What
}

func by(actor string) string {
	if actor == "" {
		return ""
	}
	return " by " + actor
}

// title is the alert's level and title, one line.
func (m *message) title() string {
	a := m.Change.Alert
	return oneLine(fmt.Sprintf("[%s] %s", strings.ToUpper(a.Level), a.Title), 200)
}

type fact struct{ name, value string }

// facts are the alert's details, in the order every format shows them.
func (m *message) facts() []fact {
	a := m.Change.Alert
	if m.Test {
		return []fact{{"Tenant", string(a.Tenant)}, {"Sent", m.Time.UTC().Format(time.RFC3339)}}
	}
	fs := []fact{
		{"Tenant", string(a.Tenant)},
		{"Severity", a.Level},
		{"Risk", strconv.Itoa(a.Risk)},
		{"Rule", a.RuleID},
		{"Events", strconv.FormatInt(a.Count, 10)},
		{"First seen", a.FirstSeen.UTC().Format(time.RFC3339)},
		{"Last seen", a.LastSeen.UTC().Format(time.RFC3339)},
	}
	for _, e := range a.Entities {
		fs = append(fs, fact{e.Type, e.Value})
	}
	if len(a.Tags) > 0 {
		fs = append(fs, fact{"Tags", strings.Join(a.Tags, ", ")})
	}
	fs = append(fs, fact{"Status", string(a.Status)})
	if a.Assignee != "" {
		fs = append(fs, fact{"Assignee", a.Assignee})
	}
	if n := m.note(); n != "" {
		fs = append(fs, fact{"Note", n})
	}
	fs = append(fs, fact{"Alert", strconv.FormatInt(a.ID, 10)})
	if a.Incident != 0 {
		fs = append(fs, fact{"Incident", strconv.FormatInt(a.Incident, 10)})
	}
	for i := range fs {
		fs[i].value = oneLine(fs[i].value, 500)
	}
	return fs
}

// note is what the analyst wrote with the change notified: a comment, or
// a resolution's note ("" for other changes).
func (m *message) note() string {
	h := m.Change.Alert.History
	if (m.Change.What != alert.VerbComment && m.Change.What != alert.VerbResolve) || len(h) == 0 || h[len(h)-1].Verb != m.Change.What {
		return ""
	}
	return h[len(h)-1].Note
}

// oneLine drops control characters and cuts s to n bytes (on a rune).
func oneLine(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// Payload is a webhook's JSON body.
type Payload struct {
	// ID is the delivery: the same across retries, so a receiver can drop
	// a repeat.
	ID string `json:"id"`
	// Event is alert.<change> (alert.created, alert.escalate, ...) or test.
	Event string    `json:"event"`
	Time  time.Time `json:"time"`
	// Tenant is the alert's tenant.
	Tenant tenant.ID `json:"tenant"`
	Actor  string    `json:"actor,omitempty"`
	// Note is what the actor wrote with the change: a comment, or a
	// resolution's note.
	Note string `json:"note,omitempty"`
	// URL is the alert's page in the console (notify.console_url set).
	URL   string `json:"url,omitempty"`
	Alert Alert  `json:"alert"`
}

// Alert is an alert as payloads show it.
type Alert struct {
	ID         int64            `json:"id"`
	Tenant     tenant.ID        `json:"tenant"`
	Producer   alert.Producer   `json:"producer,omitempty"`
	RuleID     string           `json:"rule_id,omitempty"`
	Title      string           `json:"title"`
	Author     string           `json:"author,omitempty"`
	Level      string           `json:"level"`
	Risk       int              `json:"risk"`
	Status     alert.Status     `json:"status,omitempty"`
	Resolution alert.Resolution `json:"resolution,omitempty"`
	Assignee   string           `json:"assignee,omitempty"`
	Count      int64            `json:"count"`
	EventTime  time.Time        `json:"event_time,omitzero"`
	FirstSeen  time.Time        `json:"first_seen,omitzero"`
	LastSeen   time.Time        `json:"last_seen,omitzero"`
	Created    time.Time        `json:"created,omitzero"`
	Incident   int64            `json:"incident,omitempty"`
	Entities   []alert.Entity   `json:"entities"`
	Tags       []string         `json:"tags"`
	References []string         `json:"references,omitempty"`
}

func (m *message) webhook() ([]byte, error) {
	a := m.Change.Alert
	p := Payload{
		ID: m.Delivery, Event: m.event(), Time: m.Time.UTC(), Tenant: a.Tenant, Actor: m.Change.Actor, Note: m.note(), URL: m.Link,
		Alert: Alert{
			ID: a.ID, Tenant: a.Tenant, Producer: a.Producer, RuleID: a.RuleID, Title: a.Title, Author: a.Author,
			Level: a.Level, Risk: a.Risk, Status: a.Status, Resolution: a.Resolution, Assignee: a.Assignee, Count: a.Count,
			EventTime: a.EventTime, FirstSeen: a.FirstSeen, LastSeen: a.LastSeen, Created: a.Created, Incident: a.Incident,
			Entities: a.Entities, Tags: a.Tags, References: a.References,
		},
	}
	if p.Alert.Entities == nil {
		p.Alert.Entities = []alert.Entity{}
	}
	if p.Alert.Tags == nil {
		p.Alert.Tags = []string{}
	}
	return json.Marshal(p)
}

// slack is a Slack incoming-webhook message: text (the notification's
// fallback) and Block Kit blocks: a header, the facts as section fields
// (at most 10 a section) and a context line.
func (m *message) slack() ([]byte, error) {
	type text struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	type block struct {
		Type     string `json:"type"`
		Text     *text  `json:"text,omitempty"`
		Fields   []text `json:"fields,omitempty"`
		Elements []text `json:"elements,omitempty"`
	}
	a := m.Change.Alert
	blocks := []block{
		{Type: "header", Text: &text{"plain_text", oneLine(m.heading(), 150)}},
		{Type: "section", Text: &text{"mrkdwn", "*" + slackEscape(m.title()) + "*"}},
	}
	var fields []text
	for _, f := range m.facts() {
		fields = append(fields, text{"mrkdwn", "*" + slackEscape(f.name) + "*\n" + slackEscape(f.value)})
		if len(fields) == 10 {
			blocks = append(blocks, block{Type: "section", Fields: fields})
			fields = nil
		}
	}
	if len(fields) > 0 {
		blocks = append(blocks, block{Type: "section", Fields: fields})
	}
	ctx := "Tarian"
	if !m.Test {
		ctx = fmt.Sprintf("Tarian · alert %d · %s", a.ID, a.Tenant)
	}
	ctx = slackEscape(ctx)
	if m.Link != "" {
		// <url|text>: the URL's own & < > escaped as everywhere in mrkdwn.
		ctx += " · <" + slackEscape(m.Link) + "|Open in Tarian>"
	}
	blocks = append(blocks, block{Type: "context", Elements: []text{{"mrkdwn", ctx}}})
	return json.Marshal(struct {
		Text   string  `json:"text"`
		Blocks []block `json:"blocks"`
	}{slackEscape(m.heading() + ": " + m.title()), blocks})
}

// slackEscape escapes the three characters Slack's mrkdwn reads as markup
// (<!channel> would ping everyone).
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// teams is a Microsoft Teams message with one Adaptive Card (1.4), the
// format of Teams' Workflows "post to a channel when a webhook request is
// received" and of the incoming-webhook connectors: a heading, the title
// and the facts as a FactSet.
func (m *message) teams() ([]byte, error) {
	type item struct {
		Type   string `json:"type"`
		Text   string `json:"text,omitempty"`
		Weight string `json:"weight,omitempty"`
		Size   string `json:"size,omitempty"`
		Color  string `json:"color,omitempty"`
		Wrap   bool   `json:"wrap,omitempty"`
		Facts  []struct {
			Title string `json:"title"`
			Value string `json:"value"`
		} `json:"facts,omitempty"`
	}
	color := "Default"
	if l := m.Change.Alert.Level; l == "high" || l == "critical" {
		color = "Attention"
	}
	facts := item{Type: "FactSet"}
	for _, f := range m.facts() {
		facts.Facts = append(facts.Facts, struct {
			Title string `json:"title"`
			Value string `json:"value"`
		}{f.name, f.value})
	}
	body := []item{
		{Type: "TextBlock", Text: m.heading(), Weight: "Bolder", Size: "Medium", Wrap: true},
		{Type: "TextBlock", Text: m.title(), Color: color, Weight: "Bolder", Wrap: true},
		facts,
	}
	type action struct {
		Type  string `json:"type"`
		Title string `json:"title"`
		URL   string `json:"url"`
	}
	type card struct {
		Schema  string            `json:"$schema"`
		Type    string            `json:"type"`
		Version string            `json:"version"`
		MSTeams map[string]string `json:"msteams"`
		Body    []item            `json:"body"`
		Actions []action          `json:"actions,omitempty"`
	}
	var actions []action
	if m.Link != "" {
		actions = []action{{Type: "Action.OpenUrl", Title: "Open in Tarian", URL: m.Link}}
	}
	type attachment struct {
		ContentType string  `json:"contentType"`
		ContentURL  *string `json:"contentUrl"`
		Content     card    `json:"content"`
	}
	return json.Marshal(struct {
		Type        string       `json:"type"`
		Attachments []attachment `json:"attachments"`
	}{"message", []attachment{{
		ContentType: "application/vnd.microsoft.card.adaptive",
		Content: card{
			Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4",
			MSTeams: map[string]string{"width": "Full"}, Body: body, Actions: actions,
		},
	}}})
}

var mailHTML = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html><body style="font-family:sans-serif">
<h2>{{.Heading}}</h2>
<p><strong>{{.Title}}</strong></p>
<table cellpadding="4" style="border-collapse:collapse">
{{range .Facts}}<tr><th align="left" style="border-bottom:1px solid #ddd">{{.Name}}</th><td style="border-bottom:1px solid #ddd">{{.Value}}</td></tr>
{{end}}</table>
{{if .Link}}<p><a href="{{.Link}}">Open the alert in Tarian</a></p>
{{end}}<p style="color:#666">Tarian</p>
</body></html>
`))

// mail is an RFC 5322 message: plain text and HTML alternatives, quoted-
// printable, with CRLF line ends.
func (m *message) mail(from string, to []string) ([]byte, error) {
	var text bytes.Buffer
	fmt.Fprintf(&text, "%s\n%s\n\n", m.heading(), m.title())
	type nv struct{ Name, Value string }
	var rows []nv
	for _, f := range m.facts() {
		fmt.Fprintf(&text, "%s: %s\n", f.name, f.value)
		rows = append(rows, nv{f.name, f.value})
	}
	if m.Link != "" {
		fmt.Fprintf(&text, "\nOpen the alert in Tarian: %s\n", m.Link)
	}
	text.WriteString("\n-- \nTarian\n")
	var html bytes.Buffer
	if err := mailHTML.Execute(&html, map[string]any{"Heading": m.heading(), "Title": m.title(), "Facts": rows, "Link": m.Link}); err != nil {
		return nil, err
	}

	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	h := []struct{ k, v string }{
		{"From", from},
		{"To", strings.Join(to, ", ")},
		{"Subject", mime.QEncoding.Encode("utf-8", m.subject())},
		{"Date", m.Time.Format(time.RFC1123Z)},
		{"Message-ID", "<" + m.Delivery + "@tarian>"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "multipart/alternative; boundary=" + mw.Boundary()},
		{"X-Tarian-Event", m.event()},
	}
	for _, kv := range h {
		b.WriteString(kv.k + ": " + kv.v + "\r\n")
	}
	b.WriteString("\r\n")
	for _, part := range []struct {
		ct   string
		body []byte
	}{{"text/plain; charset=utf-8", text.Bytes()}, {"text/html; charset=utf-8", html.Bytes()}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {part.ct}, "Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return nil, err
		}
		qw := quotedprintable.NewWriter(w)
		if _, err := qw.Write(part.body); err != nil {
			return nil, err
		}
		if err := qw.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// subject is a mail's Subject (before encoding).
func (m *message) subject() string {
	if m.Test {
		return "[Tarian] " + m.heading()
	}
	return oneLine("[Tarian] "+m.heading()+": "+m.title(), 250)
}
