package e2e

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
)

// consoleBrowser finds node, Debian's chromium (or $CHROMIUM) and the web
// console's npm packages (playwright-core), or skips the test saying
// loudly what is missing: CI installs them (scripts/install-deps.sh, make
// ui).
func consoleBrowser(t *testing.T) (node, chromium, webDir string) {
	t.Helper()
	skip := func(what string) {
		msg := "\n*** SKIPPED: the browser test of the web console needs " + what + " ***\n"
		fmt.Fprint(os.Stderr, msg)
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("node (Debian package nodejs)")
	}
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		if chromium, err = exec.LookPath("chromium"); err != nil {
			skip("Debian's chromium (apt-get install chromium, or set CHROMIUM)")
		}
	}
	webDir, err = filepath.Abs(filepath.Join("..", "..", "web"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(webDir, "node_modules", "playwright-core", "package.json")); err != nil {
		skip("web/node_modules (run make ui, or npm ci in web/)")
	}
	return node, chromium, webDir
}

// TestConsoleBrowser drives the web console served by the real binary in
// headless chromium (web/tests/console.mjs): a provider analyst logs in
// with a password, sees alerts from two members riskiest first, filters
// (severity, ATT&CK tactic kept in the URL over a reload, rule, assignee),
// acknowledges one with j/k/a and another with x and bulk acknowledge,
// assigns it in bulk, sees each change arrive live in a second tab, switches to Welsh (every
// label changes, the choice survives a reload), opens an alert with
// Enter, resolves it, hunts its host's events around it, and logs out.
// Then a member viewer who must use MFA
// is refused without a code, logs in (in Welsh) with a recovery code in
// the code field after following a link to its alert while signed out
// and is taken to that alert, sees only its own member's alert, cannot acknowledge,
// and is shown "not found" at another member's alert URL. No page or
// console error happens throughout (a CSP violation is one).
func TestConsoleBrowser(t *testing.T) {
	consoleBrowser(t)
	dir := t.TempDir()
	s := twoMembers(t, dir, queueRules)
	at := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	for _, e := range []struct{ tenant, host, user, image string }{
		{"gwynedd", "WS1", `GWYNEDD\bob`, `C:\Windows\System32\whoami.exe`},
		{"powys", "PC7", `POWYS\eve`, `C:\Windows\System32\net.exe`},
	} {
		events := filepath.Join(dir, e.tenant+".jsonl")
		if err := os.WriteFile(events, []byte(sysmonProc(e.host, e.user, e.image, at, 1)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s.mustCLI(s.createToken(e.tenant, "ingest").Token, "ingest", events)
	}
	s.waitDetected()
	if n := len(s.alertList(adminToken, "--tenant", "*")); n != 2 {
		t.Fatalf("%d alerts before the browser starts, want 2", n)
	}

	const user, password = "ceri", "a long console password"
	body, _ := json.Marshal(map[string]string{"name": user, "role": "provider-analyst", "password": password})
	if st, _, b := s.do("POST", "/api/v1/users", adminToken, body); st != 201 {
		t.Fatalf("POST /api/v1/users: %d %s", st, b)
	}

	// A member viewer who must use MFA, enrolled through the API; the
	// browser logs in with one of its recovery codes.
	const member, memberPassword = "dafydd", "gwynedd viewer password"
	body, _ = json.Marshal(map[string]any{"name": member, "tenant": "gwynedd", "role": "tenant-viewer", "password": memberPassword, "require_mfa": true})
	if st, _, b := s.do("POST", "/api/v1/users", adminToken, body); st != 201 {
		t.Fatalf("POST /api/v1/users (member): %d %s", st, b)
	}
	recovery := enrolTOTP(t, s, member, memberPassword)
	// A member analyst who must use MFA and has not enrolled: the console
	// enrols it.
	const enrolling, enrollingPassword = "eirlys", "powys analyst password"
	body, _ = json.Marshal(map[string]any{"name": enrolling, "tenant": "powys", "role": "tenant-analyst", "password": enrollingPassword, "require_mfa": true})
	if st, _, b := s.do("POST", "/api/v1/users", adminToken, body); st != 201 {
		t.Fatalf("POST /api/v1/users (enrolling): %d %s", st, b)
	}
	var otherAlert, memberAlert int64
	for _, a := range s.alertList(adminToken, "--tenant", "powys") {
		otherAlert = a.ID
	}
	for _, a := range s.alertList(adminToken, "--tenant", "gwynedd") {
		memberAlert = a.ID
	}

	runBrowser(t, s, "console", "CONSOLE_USER="+user, "CONSOLE_PASSWORD="+password,
		"MEMBER_USER="+member, "MEMBER_PASSWORD="+memberPassword, "MEMBER_CODE="+recovery,
		"ENROL_USER="+enrolling, "ENROL_PASSWORD="+enrollingPassword,
		fmt.Sprintf("MEMBER_ALERT=%d", memberAlert), fmt.Sprintf("OTHER_ALERT=%d", otherAlert))

	// What the browser did is what the server holds.
	got := map[string]string{}
	for _, a := range s.alertList(adminToken, "--tenant", "*") {
		got[a.Tenant] = a.Status + "/" + a.Assignee
	}
	var users struct {
		Users []struct {
			Name        string
			MFAEnrolled bool `json:"mfa_enrolled"`
		}
	}
	if st, _, b := s.do("GET", "/api/v1/users", adminToken, nil); st != 200 || json.Unmarshal(b, &users) != nil {
		t.Fatalf("GET /api/v1/users: %d %s", st, b)
	}
	for _, u := range users.Users {
		if u.Name == enrolling && !u.MFAEnrolled {
			t.Errorf("%s is not enrolled in MFA after the console enrolled it", enrolling)
		}
	}
	if got["gwynedd"] != "resolved/" || got["powys"] != "in-progress/gwen" {
		t.Errorf("after the browser: status/assignee %v, want gwynedd resolved and unassigned, powys in progress and gwen's", got)
	}
}

// runBrowser runs the browser test web/tests/NAME.mjs against s with the
// given extra environment (users, passwords, object IDs), and fails unless
// it prints "NAME test: ok". Screenshots go to $TARIAN_SCREENSHOTS when set
// (make screenshots), else to a temporary directory.
func runBrowser(t *testing.T, s *server, name string, env ...string) {
	t.Helper()
	node, chromium, webDir := consoleBrowser(t)
	shots := os.Getenv("TARIAN_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(webDir, "tests", name+".mjs"))
	cmd.Dir = webDir
	cmd.Env = append(append(baseEnv(), "TARIAN_URL="+s.url, "CHROMIUM="+chromium, "SCREENSHOTS="+shots), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("browser (%s.mjs):\n%s", name, out)
	if err != nil {
		t.Fatalf("the browser test %s.mjs failed: %v", name, err)
	}
	if !strings.Contains(string(out), name+" test: ok") {
		t.Fatalf("the browser test %s.mjs did not finish", name)
	}
}

// enrolTOTP logs user in (a session that may only enrol), enrols TOTP
// with a code computed from the secret the server shows, and returns one
// of the recovery codes.
func enrolTOTP(t *testing.T, s *server, user, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	st, hdr, b := s.do("POST", "/api/v1/session", "", body)
	var login struct {
		CSRF      string `json:"csrf_token"`
		MustEnrol bool   `json:"mfa_enrol_required"`
	}
	if err := json.Unmarshal(b, &login); st != 200 || err != nil || !login.MustEnrol {
		t.Fatalf("login of %s before enrolment: %d %s", user, st, b)
	}
	var cookie string
	for _, c := range (&http.Response{Header: hdr}).Cookies() {
		if c.Name == auth.SessionCookie {
			cookie = c.Name + "=" + c.Value
		}
	}
	st, _, b = s.do("POST", "/api/v1/session/mfa", "", nil, "Cookie", cookie, "X-CSRF-Token", login.CSRF)
	var enrol struct {
		URI string `json:"otpauth_uri"`
	}
	if err := json.Unmarshal(b, &enrol); st != 200 || err != nil {
		t.Fatalf("POST /api/v1/session/mfa: %d %s", st, b)
	}
	u, err := url.Parse(enrol.URI)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(u.Query().Get("secret"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = json.Marshal(map[string]string{"totp": auth.TOTPCode(secret, auth.TOTPStep(time.Now()), 6)})
	st, _, b = s.do("POST", "/api/v1/session/mfa/confirm", "", body, "Cookie", cookie, "X-CSRF-Token", login.CSRF)
	var confirmed struct {
		Codes []string `json:"recovery_codes"`
	}
	if err := json.Unmarshal(b, &confirmed); st != 200 || err != nil || len(confirmed.Codes) == 0 {
		t.Fatalf("POST /api/v1/session/mfa/confirm: %d %s", st, b)
	}
	return confirmed.Codes[0]
}
