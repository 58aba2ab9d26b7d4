package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert/notify"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

func TestNotifyCommands(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.Notify.AllowPrivateNetworks = true // the receiver is on 127.0.0.1
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "council-a")
	s.AddTenant(t, "council-b")
	adminA := cmdEnv{url: s.URL, token: s.Token(t, "council-a", "tenant-admin")}
	adminB := cmdEnv{url: s.URL, token: s.Token(t, "council-b", "tenant-admin")}
	provider := cmdEnv{url: s.URL, token: servertest.AdminToken}

	const secret = "cli-signing-secret-0123456789"
	var got atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := notify.Verify([]byte(secret), r.Header.Get(notify.HeaderTimestamp), r.Header.Get(notify.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got.Add(1)
	}))
	defer recv.Close()

	code, out, errs := adminA.run(t, secret+"\n", "notify", "add", "--kind", "webhook", "--name", "soar", "--url", recv.URL+"/hook", "--secret", "-",
		"--min-severity", "high", "--tag", "attack.t1003*", "--hours", "mon-fri 18:00-08:00 Europe/London", "--on", "created,escalate", "--json")
	if code != 0 {
		t.Fatalf("notify add: %d %q %q", code, out, errs)
	}
	var ch struct {
		ID    int64 `json:"id"`
		Route struct {
			Changes []string `json:"changes"`
		} `json:"route"`
	}
	if err := json.Unmarshal([]byte(out), &ch); err != nil || ch.ID == 0 || strings.Join(ch.Route.Changes, ",") != "created,escalate" || strings.Contains(out, secret) {
		t.Fatalf("notify add --json: %q (%v)", out, err)
	}
	id := strconv.FormatInt(ch.ID, 10)

	if code, out, _ := adminA.run(t, "", "notify", "list"); code != 0 || !strings.Contains(out, "soar") || !strings.Contains(out, "created,escalate high+ tags attack.t1003*") || strings.Contains(out, "/hook") {
		t.Errorf("notify list: %d %q", code, out)
	}
	if code, out, errs := adminA.run(t, "", "notify", "test", id); code != 0 || !strings.Contains(out, "delivered") || got.Load() != 1 {
		t.Errorf("notify test: %d %q %q (%d received)", code, out, errs, got.Load())
	}
	// Another member's admin does not find it.
	for _, verb := range []string{"test", "remove"} {
		if code, _, errs := adminB.run(t, "", "notify", verb, id); code != 1 || !strings.Contains(errs, "notification_channel_not_found") {
			t.Errorf("council-b notify %s: %d %q", verb, code, errs)
		}
	}
	if code, out, _ := adminB.run(t, "", "notify", "list", "--json"); code != 0 || out != "" {
		t.Errorf("council-b list: %d %q", code, out)
	}
	if code, _, errs := provider.run(t, "", "notify", "list"); code != 1 || !strings.Contains(errs, "tenant") {
		t.Errorf("provider list without --tenant: %d %q", code, errs)
	}
	if code, out, errs := provider.run(t, "", "notify", "deadletters", "--tenant", "council-a"); code != 0 || out != "" || errs != "no notifications given up on\n" {
		t.Errorf("deadletters, none: %d %q %q", code, out, errs)
	}
	if code, _, errs := adminA.run(t, "", "notify", "add", "--kind", "slack", "--url", "http://hooks.slack.com/x"); code != 1 || !strings.Contains(errs, "https URL") {
		t.Errorf("bad url: %d %q", code, errs)
	}
	if code, _, errs := adminA.run(t, "", "notify", "add", "--url", "x"); code != 2 || !strings.Contains(errs, "--kind") {
		t.Errorf("no kind: %d %q", code, errs)
	}
	if code, out, _ := adminA.run(t, "", "notify", "--help"); code != 0 || !strings.Contains(out, "tarian notify deadletters") {
		t.Errorf("notify --help: %d %q", code, out)
	}
	if code, out, _ := provider.run(t, "", "notify", "remove", id); code != 0 || !strings.Contains(out, "removed") {
		t.Errorf("provider removes by ID: %d %q", code, out)
	}
	if code, _, _ := adminA.run(t, "", "notify", "remove", id); code != 1 {
		t.Errorf("second removal: %d", code)
	}
}
