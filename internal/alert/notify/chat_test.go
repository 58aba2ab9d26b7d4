package notify_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/alert/notify"
)

// chatServer is an HTTPS incoming-webhook endpoint that keeps what it gets.
func chatServer(t *testing.T, answer func(w http.ResponseWriter)) (*httptest.Server, <-chan map[string]any) {
	got := make(chan map[string]any, 10)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var v map[string]any
		if r.Method != "POST" || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &v) != nil {
			http.Error(w, "want a JSON POST", http.StatusBadRequest)
			return
		}
		if r.Header.Get("X-Tarian-Signature") != "" {
			http.Error(w, "chat webhooks are not signed", http.StatusBadRequest)
			return
		}
		answer(w)
		got <- v
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func trust(srv *httptest.Server) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return &tls.Config{RootCAs: pool}
}

// path walks v by keys and indexes ("attachments", 0, "content").
func path(t *testing.T, v any, steps ...any) any {
	t.Helper()
	for _, s := range steps {
		switch k := s.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: %T is not an object", k, v)
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("no key %q in %v", k, m)
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("at [%d]: %v is not an array that long", k, v)
			}
			v = a[k]
		}
	}
	return v
}

func TestTeamsAdaptiveCard(t *testing.T) {
	// Teams' Workflows webhook answers 202 Accepted.
	srv, got := chatServer(t, func(w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) })
	e := start(t, fast(), trust(srv))
	e.add(t, "council-a", notify.NewChannel{Kind: notify.Teams, URL: srv.URL + "/workflows/abc/triggers/manual/paths/invoke?sig=XYZ"})
	e.svc.Notify(context.Background(), "council-a", created(newAlert(3, "council-a", "critical")))
	msg := wait(t, got, "the Teams message")

	if path(t, msg, "type") != "message" {
		t.Errorf("type %v", msg["type"])
	}
	att := path(t, msg, "attachments", 0)
	if path(t, att, "contentType") != "application/vnd.microsoft.card.adaptive" || path(t, att, "contentUrl") != nil {
		t.Errorf("attachment %v", att)
	}
	card := path(t, att, "content")
	if path(t, card, "type") != "AdaptiveCard" || path(t, card, "version") != "1.4" || path(t, card, "$schema") != "http://adaptivecards.io/schemas/adaptive-card.json" {
		t.Errorf("card %v", card)
	}
	if path(t, card, "body", 0, "type") != "TextBlock" || path(t, card, "body", 0, "text") != "New alert" {
		t.Errorf("heading %v", path(t, card, "body", 0))
	}
	if path(t, card, "body", 1, "text") != "[CRITICAL] Mimikatz <!channel> & co" || path(t, card, "body", 1, "color") != "Attention" {
		t.Errorf("title %v", path(t, card, "body", 1))
	}
	facts := map[string]any{}
	for _, f := range path(t, card, "body", 2, "facts").([]any) {
		facts[path(t, f, "title").(string)] = path(t, f, "value")
	}
	for k, v := range map[string]string{"Tenant": "council-a", "Severity": "critical", "Rule": "5f1b2a3c-mimikatz", "host": "ws-17", "user": "a.jones", "Alert": "3", "Tags": "attack.credential-access, attack.t1003.001"} {
		if facts[k] != v {
			t.Errorf("fact %s = %v, want %q (facts %v)", k, facts[k], v, facts)
		}
	}
	if _, ok := card.(map[string]any)["actions"]; ok {
		t.Errorf("card actions %v without a console_url", path(t, card, "actions"))
	}
}

// TestNotificationsLinkToTheAlert: with notify.console_url set, each kind
// of message links to the alert's page in the console: a webhook's url,
// a Teams card's Action.OpenUrl, a link in Slack's context line.
func TestNotificationsLinkToTheAlert(t *testing.T) {
	srv, got := chatServer(t, func(w http.ResponseWriter) { io.WriteString(w, "ok") })
	cfg := fast()
	cfg.ConsoleURL = "https://soc.example.test"
	e := start(t, cfg, trust(srv))
	e.add(t, "council-a", notify.NewChannel{Kind: notify.Teams, URL: srv.URL + "/teams"})
	r := newReceiver(t, 0, 0)
	e.add(t, "council-a", notify.NewChannel{Name: "soar", Kind: notify.Webhook, URL: r.srv.URL + "/hooks", Secret: secret})
	e.svc.Notify(context.Background(), "council-a", created(newAlert(41, "council-a", "high")))
	card := path(t, wait(t, got, "the Teams message"), "attachments", 0, "content")
	if path(t, card, "actions", 0, "type") != "Action.OpenUrl" || path(t, card, "actions", 0, "url") != "https://soc.example.test/alerts/41" {
		t.Errorf("Teams card actions %v", path(t, card, "actions"))
	}
	var p notify.Payload
	if err := json.Unmarshal(wait(t, r.accepted, "the webhook"), &p); err != nil || p.URL != "https://soc.example.test/alerts/41" {
		t.Errorf("webhook payload %+v, %v: want the alert's url", p, err)
	}

	e.add(t, "council-b", notify.NewChannel{Kind: notify.Slack, URL: srv.URL + "/slack"})
	e.svc.Notify(context.Background(), "council-b", created(newAlert(42, "council-b", "high")))
	blocks := path(t, wait(t, got, "the Slack message"), "blocks").([]any)
	if ctx := path(t, blocks[len(blocks)-1], "elements", 0, "text"); ctx != "Tarian · alert 42 · council-b · <https://soc.example.test/alerts/42|Open in Tarian>" {
		t.Errorf("Slack context %q", ctx)
	}
}

// TestConsoleURLChecked: a console_url that could not make a link is a
// configuration error, not a broken link in every notification.
func TestConsoleURLChecked(t *testing.T) {
	for u, ok := range map[string]bool{
		"": true, "https://soc.example.test": true, "http://10.0.0.5:8080/tarian/": true,
		"soc.example.test": false, "/alerts": false, "ftp://soc.example.test": false,
		"https://soc.example.test/?tenant=a": false, "https://u:p@soc.example.test": false, "https://soc.example.test/#x": false,
	} {
		cfg := notify.DefaultConfig()
		cfg.ConsoleURL = u
		err := cfg.Validate()
		if (err == nil) != ok || (err != nil && !strings.HasPrefix(err.Error(), "console_url: ")) {
			t.Errorf("console_url %q: Validate = %v", u, err)
		}
	}
}

func TestSlackBlocks(t *testing.T) {
	srv, got := chatServer(t, func(w http.ResponseWriter) { io.WriteString(w, "ok") })
	e := start(t, fast(), trust(srv))
	e.add(t, "council-a", notify.NewChannel{Kind: notify.Slack, URL: srv.URL + "/services/T000/B000/XXXX", Route: notify.Route{Changes: []string{"escalate"}}})
	a := newAlert(8, "council-a", "high")
	a.Status = alert.StatusEscalated
	e.svc.Notify(context.Background(), "council-a", created(a)) // not asked for
	e.svc.Notify(context.Background(), "council-a", []alert.Change{{What: alert.VerbEscalate, Actor: "tok-analyst", Alert: a}})
	msg := wait(t, got, "the Slack message")

	text, _ := msg["text"].(string)
	if !strings.Contains(text, "Alert escalated by tok-analyst") || !strings.Contains(text, "&lt;!channel&gt; &amp; co") || strings.Contains(text, "<!channel>") {
		t.Errorf("text %q: want the fallback, with Slack's markup escaped", text)
	}
	blocks := path(t, msg, "blocks").([]any)
	if path(t, blocks[0], "type") != "header" || path(t, blocks[0], "text", "type") != "plain_text" || path(t, blocks[0], "text", "text") != "Alert escalated by tok-analyst" {
		t.Errorf("header %v", blocks[0])
	}
	if path(t, blocks[1], "type") != "section" || path(t, blocks[1], "text", "type") != "mrkdwn" {
		t.Errorf("title %v", blocks[1])
	}
	fields := 0
	for _, b := range blocks[2 : len(blocks)-1] {
		fs := path(t, b, "fields").([]any)
		if path(t, b, "type") != "section" || len(fs) > 10 {
			t.Errorf("section %v: Slack takes at most 10 fields", b)
		}
		for _, f := range fs {
			if path(t, f, "type") != "mrkdwn" {
				t.Errorf("field %v", f)
			}
			if strings.HasPrefix(path(t, f, "text").(string), "*Status*\n") && path(t, f, "text") != "*Status*\nescalated" {
				t.Errorf("status field %v", f)
			}
			fields++
		}
	}
	if fields < 10 {
		t.Errorf("%d fields, want the alert's facts in more than one section", fields)
	}
	if last := blocks[len(blocks)-1]; path(t, last, "type") != "context" || path(t, last, "elements", 0, "text") != "Tarian · alert 8 · council-a" {
		t.Errorf("context %v", last)
	}
	select {
	case extra := <-got:
		t.Errorf("a second message: %v", extra)
	default:
	}
}

func TestChatPermanentErrorNamesNoSecret(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no_service", http.StatusNotFound) }))
	t.Cleanup(srv.Close)
	e := start(t, fast(), trust(srv))
	ch := e.add(t, "council-a", notify.NewChannel{Kind: notify.Slack, URL: srv.URL + "/services/T000/B000/XXXX"})
	err := e.svc.Test(context.Background(), "council-a", ch.ID)
	if err == nil || !strings.Contains(err.Error(), "HTTP 404: no_service") || strings.Contains(err.Error(), "XXXX") {
		t.Errorf("Test = %v", err)
	}
}

// TestRefusalWithoutBodyNamesStatus: a receiver that refuses with an empty
// body leaves a reason that still says something ("HTTP 500: internal
// server error"), not one that ends in a dangling colon.
func TestRefusalWithoutBodyNamesStatus(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	t.Cleanup(srv.Close)
	e := start(t, fast(), trust(srv))
	ch := e.add(t, "council-a", notify.NewChannel{Kind: notify.Slack, URL: srv.URL + "/services/T000/B000/XXXX"})
	err := e.svc.Test(context.Background(), "council-a", ch.ID)
	if err == nil || !strings.HasSuffix(err.Error(), "HTTP 500: internal server error") {
		t.Errorf("Test = %v", err)
	}
}

// TestCommentNotified: a route asking for comments gets the comment's
// text, as a Note fact in chat and as note in a webhook's payload; a
// resolution carries its note the same way.
func TestCommentNotified(t *testing.T) {
	srv, got := chatServer(t, func(w http.ResponseWriter) { io.WriteString(w, "ok") })
	e := start(t, fast(), trust(srv))
	e.add(t, "council-a", notify.NewChannel{Kind: notify.Slack, URL: srv.URL + "/services/T000/B000/XXXX", Route: notify.Route{Changes: []string{"comment"}}})
	r := newReceiver(t, 0, 0)
	e.add(t, "council-a", notify.NewChannel{Name: "soar", Kind: notify.Webhook, URL: r.srv.URL + "/hooks", Secret: secret, Route: notify.Route{Changes: []string{"comment", "resolve"}}})
	a := newAlert(9, "council-a", "high")
	a.History = []alert.Step{{Verb: alert.VerbComment, Actor: "tok-member", Note: "WS-17 is our kiosk\nexpected"}}
	e.svc.Notify(context.Background(), "council-a", []alert.Change{{What: alert.VerbComment, Actor: "tok-member", Alert: a}})
	msg := wait(t, got, "the Slack message")
	found := false
	for _, b := range path(t, msg, "blocks").([]any) {
		if fs, ok := b.(map[string]any)["fields"].([]any); ok {
			for _, f := range fs {
				found = found || path(t, f, "text") == "*Note*\nWS-17 is our kiosk expected"
			}
		}
	}
	if !found || path(t, msg, "blocks", 0, "text", "text") != "Comment on alert by tok-member" {
		t.Errorf("Slack message %v: want the comment's heading and its text as a Note", msg)
	}
	var p notify.Payload
	if err := json.Unmarshal(wait(t, r.accepted, "the webhook"), &p); err != nil || p.Event != "alert.comment" || p.Note != "WS-17 is our kiosk\nexpected" {
		t.Errorf("webhook payload %+v, %v: want alert.comment with the note", p, err)
	}
	a.Status, a.Resolution = alert.StatusResolved, alert.BenignPositive
	a.History = append(a.History, alert.Step{Verb: alert.VerbResolve, Actor: "tok-soc", Note: "kiosk reimaged"})
	e.svc.Notify(context.Background(), "council-a", []alert.Change{{What: alert.VerbResolve, Actor: "tok-soc", Alert: a}})
	if err := json.Unmarshal(wait(t, r.accepted, "the resolution's webhook"), &p); err != nil || p.Event != "alert.resolve" || p.Note != "kiosk reimaged" {
		t.Errorf("webhook payload %+v, %v: want alert.resolve with its note", p, err)
	}
}
