package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

func TestParseInterspersed(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	name := fs.String("name", "", "")
	j := fs.Bool("json", false, "")
	pos, err := parse(fs, []string{"gwynedd", "--name", "Cyngor Gwynedd", "--json", "extra", "--", "--not-a-flag"})
	if err != nil {
		t.Fatal(err)
	}
	if *name != "Cyngor Gwynedd" || !*j || fmt.Sprint(pos) != "[gwynedd extra --not-a-flag]" {
		t.Errorf("name=%q json=%v pos=%q", *name, *j, pos)
	}
	if _, err := parse(fs, []string{"--nope"}); err == nil {
		t.Error("unknown flag accepted")
	}
}

// cmd runs one tarian command against the test server.
type cmdEnv struct {
	url   string
	token string
}

func (c cmdEnv) run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{
		Stdin:  strings.NewReader(stdin),
		Stdout: &out,
		Stderr: &errb,
		Getenv: func(k string) string {
			switch k {
			case "TARIAN_URL":
				return c.url
			case "TARIAN_TOKEN":
				return c.token
			}
			return ""
		},
	}
	code = Run(context.Background(), args, env)
	return code, out.String(), errb.String()
}

func TestClientCommands(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	admin := cmdEnv{url: s.URL, token: servertest.AdminToken}

	if code, out, errs := admin.run(t, "", "tenant", "add", "gwynedd", "--name", "Cyngor Gwynedd"); code != 0 || !strings.Contains(out, "gwynedd") {
		t.Fatalf("tenant add: %d %q %q", code, out, errs)
	}
	if code, _, errs := admin.run(t, "", "tenant", "add", "Bad_ID"); code != 1 || !strings.Contains(errs, "bad_tenant") {
		t.Errorf("bad tenant id: %d %q", code, errs)
	}
	code, out, _ := admin.run(t, "", "tenant", "list", "--json")
	var ten map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &ten) != nil || ten["id"] != "gwynedd" || ten["name"] != "Cyngor Gwynedd" {
		t.Fatalf("tenant list --json: %d %q", code, out)
	}
	token := func(role string) string {
		code, out, errs := admin.run(t, "", "token", "create", "--tenant", "gwynedd", "--role", role, "--json")
		var tok map[string]string
		if code != 0 || json.Unmarshal([]byte(out), &tok) != nil || tok["role"] != role {
			t.Fatalf("token create %s: %d %q %q", role, code, out, errs)
		}
		return tok["token"]
	}
	ingest := cmdEnv{url: s.URL, token: token("ingest")}
	analyst := cmdEnv{url: s.URL, token: token("tenant-analyst")}

	// 2,500 lines from stdin go in three batches; the bad line is reported
	// with its line number in the input, and the exit code says so.
	var in strings.Builder
	for i := 1; i <= 2500; i++ {
		if i == 1234 {
			in.WriteString("{broken\n")
			continue
		}
		fmt.Fprintf(&in, `{"message":"login from host-%d","n":%d}`+"\n", i, i)
	}
	code, _, errs := ingest.run(t, in.String(), "ingest")
	if code != 1 || !strings.Contains(errs, "stdin:1234: rejected: invalid JSON") || !strings.Contains(errs, "ingested 2499 events, rejected 1") {
		t.Fatalf("ingest: %d %q", code, errs)
	}

	deadline := time.Now().Add(20 * time.Second)
	for {
		code, out, errs = analyst.run(t, "", "search", "--json", "--limit", "5000", "login")
		if n := strings.Count(out, "\n"); code == 0 && n == 2499 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := strings.Count(out, "\n"); code != 0 || n != 2499 {
		t.Fatalf("search found %d lines (exit %d, %q)", n, code, errs)
	}
	first := strings.SplitN(out, "\n", 2)[0]
	var row map[string]string
	if err := json.Unmarshal([]byte(first), &row); err != nil || row["tenant"] != "gwynedd" || !strings.HasPrefix(row["message"], "login from host-") {
		t.Errorf("first row %q", first)
	}
	code, out, _ = analyst.run(t, "", "search", "n:1")
	if code != 0 || !strings.Contains(out, "gwynedd  login from host-1\n") {
		t.Errorf("human search output: %q", out)
	}
	if code, _, errs := analyst.run(t, "", "search", "--tenant", "other", "*"); code != 1 || !strings.Contains(errs, "forbidden") {
		t.Errorf("analyst searching another tenant: %d %q", code, errs)
	}
	// Dead letters carry the line within its request (the second batch).
	if code, out, _ := admin.run(t, "", "deadletters", "--tenant", "gwynedd"); code != 0 || !strings.Contains(out, "line 234: invalid JSON") {
		t.Errorf("deadletters: %d %q", code, out)
	}
	if code, _, errs := (cmdEnv{url: s.URL}).run(t, "", "tenant", "list"); code != 1 || !strings.Contains(errs, "TARIAN_TOKEN") {
		t.Errorf("no token: %d %q", code, errs)
	}
	if code, _, _ := admin.run(t, "", "frobnicate"); code != 2 {
		t.Errorf("unknown command exit %d, want 2", code)
	}
}
