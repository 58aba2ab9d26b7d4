package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCaseEscalation is the escalation acceptance through the built
// binary: a case opened from a member's alert is the provider's alone
// until escalated; then the member's analyst reads, comments on and
// acknowledges it, while another member's users get "not found" from
// every route (CLI, API, export, evidence) and nothing on their stream.
// The case and its evidence survive a restart.
func TestCaseEscalation(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	s := twoMembers(t, dir, queueRules)
	ingest := s.createToken("gwynedd", "ingest").Token
	socTok := s.createToken("", "provider-analyst")
	soc := socTok.Token
	member := s.createToken("gwynedd", "tenant-analyst").Token
	other := s.createToken("powys", "tenant-analyst").Token
	otherAdmin := s.createToken("powys", "tenant-admin").Token

	events := filepath.Join(dir, "events.jsonl")
	line := sysmonProc("WS9", `GWYNEDD\dai`, `C:\Windows\System32\whoami.exe`, time.Now().UTC().Add(-time.Minute), 1)
	if err := os.WriteFile(events, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.mustCLI(ingest, "ingest", events)
	s.waitDetected()
	as := s.alertList(soc, "--tenant", "gwynedd")
	if len(as) != 1 {
		t.Fatalf("alerts: %+v", as)
	}

	// The other member's stream, open from the start.
	otherStream := openCaseStream(t, s, other)
	memberStream := openCaseStream(t, s, member)

	out := s.mustCLI(soc, "cases", "create", "--tenant", "gwynedd", "--title", "Discovery on WS9", "--from-alert", fmt.Sprint(as[0].ID), "--json")
	var c struct {
		ID          int64
		Observables []struct{ Type, Value string }
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ID == 0 {
		t.Fatalf("cases create printed %q: %v", out, err)
	}
	id := fmt.Sprint(c.ID)
	evidence := filepath.Join(dir, "triage.txt")
	os.WriteFile(evidence, []byte("whoami /all output\n"), 0o600)
	ev := strings.Fields(s.mustCLI(soc, "cases", "evidence", "add", id, evidence))
	sha := ev[len(ev)-1]

	notFound := func(token, who string) {
		t.Helper()
		for _, args := range [][]string{
			{"cases", "show", id}, {"cases", "comment", id, "hello"}, {"cases", "acknowledge", id},
			{"cases", "export", id}, {"cases", "export", id, "--html"}, {"cases", "evidence", "get", id, sha},
		} {
			r := s.cli(token, args...)
			if r.code != 1 || !strings.Contains(r.stderr, "not found: case "+id) {
				t.Errorf("%s: tarian %s: exit %d, %q", who, strings.Join(args, " "), r.code, r.stderr)
			}
		}
		for _, path := range []string{"/api/v1/cases/" + id, "/api/v1/cases/" + id + "/export?format=html", "/api/v1/cases/" + id + "/evidence/" + sha} {
			status, hdr, body := s.do("GET", path, token, nil)
			wantError(t, who+" GET "+path, status, hdr, body, 404, "not_found")
		}
		if out := s.mustCLI(token, "cases", "list"); strings.Contains(out, "WS9") {
			t.Errorf("%s lists the case:\n%s", who, out)
		}
	}
	notFound(member, "the member before escalation")
	notFound(other, "another member")

	if out := s.mustCLI(soc, "cases", "escalate", id); !strings.Contains(out, "escalated to gwynedd") {
		t.Errorf("escalate printed %q", out)
	}
	notFound(other, "another member after escalation")
	notFound(otherAdmin, "another member's admin")
	if out := s.mustCLI(member, "cases", "show", id); !strings.Contains(out, "Discovery on WS9") || !strings.Contains(out, "WS9") {
		t.Errorf("member's show:\n%s", out)
	}
	s.mustCLI(member, "cases", "comment", id, "WS9 is a kiosk; we have wiped it.")
	s.mustCLI(member, "cases", "acknowledge", id)
	if page := s.mustCLI(member, "cases", "export", id, "--html"); !strings.Contains(page, "we have wiped it") {
		t.Errorf("member's export lacks the comment")
	}
	if got := s.mustCLI(member, "cases", "evidence", "get", id, sha); got != "whoami /all output\n" {
		t.Errorf("member's evidence get: %q", got)
	}
	r := s.cli(soc, "cases", "close", id, "--as", "benign-positive", "--summary", "Kiosk test")
	if r.code != 0 {
		t.Fatalf("close: %+v", r)
	}
	// The close resolved the case's alert, in its history as the closer's.
	var closed queueAlert
	if err := json.Unmarshal([]byte(s.mustCLI(member, "alerts", "show", fmt.Sprint(as[0].ID), "--json")), &closed); err != nil {
		t.Fatal(err)
	}
	if h := closed.History; len(h) == 0 || h[len(h)-1].Verb != "resolve" || h[len(h)-1].Actor != socTok.ID ||
		h[len(h)-1].Resolution != "benign-positive" || !strings.Contains(h[len(h)-1].Note, "Kiosk test") {
		t.Errorf("the case's alert's history after the close: %+v", h)
	}
	r = s.cli(soc, "cases", "close", id, "--as", "benign-positive", "--summary", "again")
	if r.code != 1 || !strings.Contains(r.stderr, "already closed") {
		t.Errorf("closing twice: %+v", r)
	}

	// The member's stream has the escalation and what followed; the other
	// member's has nothing.
	for _, want := range []string{"escalate", "comment", "acknowledge", "close"} {
		if got := memberStream.next(t); got != id+" "+want {
			t.Errorf("member's stream: %q, want %q", got, id+" "+want)
		}
	}
	if got := otherStream.poll(300 * time.Millisecond); got != "" {
		t.Errorf("another member's stream got %q", got)
	}

	// A restart keeps the case and its evidence.
	s.stop()
	s = startServer(t, data)
	if out := s.mustCLI(member, "cases", "show", id); !strings.Contains(out, "closed") || !strings.Contains(out, "benign-positive") || !strings.Contains(out, sha) {
		t.Errorf("after a restart:\n%s", out)
	}
	if got := s.mustCLI(soc, "cases", "evidence", "get", id, sha); got != "whoami /all output\n" {
		t.Errorf("evidence after a restart: %q", got)
	}
}

// caseStream reads case changes from one /api/v1/stream as "ID WHAT".
type caseStream struct{ ch chan string }

func openCaseStream(t *testing.T, s *server, token string) caseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", s.url+"/api/v1/stream?kind=case", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	cs := caseStream{ch: make(chan string, 100)}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if data, ok := bytes.CutPrefix(sc.Bytes(), []byte("data: ")); ok {
				var m struct {
					What string
					Case struct{ ID int64 }
				}
				json.Unmarshal(data, &m)
				cs.ch <- fmt.Sprintf("%d %s", m.Case.ID, m.What)
			}
		}
	}()
	return cs
}

func (cs caseStream) next(t *testing.T) string {
	t.Helper()
	if got := cs.poll(30 * time.Second); got != "" {
		return got
	}
	t.Error("no case change on the stream in 30 s")
	return ""
}

func (cs caseStream) poll(d time.Duration) string {
	select {
	case e := <-cs.ch:
		return e
	case <-time.After(d):
		return ""
	}
}
