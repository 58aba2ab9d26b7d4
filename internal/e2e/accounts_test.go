package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// userCLI runs `tarian args...` against s with stdin, the given
// TARIAN_TOKEN (empty: none, so a tarian login session is used) and
// XDG_CONFIG_HOME=config.
func (s *server) userCLI(token, config, stdin string, args ...string) cliResult {
	t := s.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tarianBin, args...)
	cmd.Env = append(baseEnv(), "TARIAN_URL="+s.url, "XDG_CONFIG_HOME="+config)
	if token != "" {
		cmd.Env = append(cmd.Env, "TARIAN_TOKEN="+token)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := cliResult{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("tarian %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// TestAccountsCLI: users added with tarian user, a session from tarian
// login used by client commands (a write included, so the CSRF header is
// sent), user enumeration refused, logout.
func TestAccountsCLI(t *testing.T) {
	s := startServer(t, t.TempDir())
	s.addTenant("council-a")
	config := t.TempDir()
	must := func(r cliResult, what string) cliResult {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", what, r.code, r.stdout, r.stderr)
		}
		return r
	}
	must(s.userCLI(adminToken, config, "a password of alice's\n", "user", "add", "alice", "--tenant", "council-a", "--role", "tenant-analyst", "--email", "alice@council-a.example", "--password-stdin"), "user add alice")
	r := must(s.userCLI(adminToken, config, "", "user", "add", "bob", "--tenant", "council-a", "--role", "tenant-admin"), "user add bob")
	bobPassword := strings.TrimSpace(r.stdout)
	if len(bobPassword) < 20 {
		t.Fatalf("generated password %q", bobPassword)
	}

	// The API login: a wrong password and an unknown user answer alike.
	body := func(user, password string) []byte {
		b, _ := json.Marshal(map[string]string{"username": user, "password": password})
		return b
	}
	st1, _, b1 := s.do("POST", "/api/v1/session", "", body("alice", "not her password"))
	st2, _, b2 := s.do("POST", "/api/v1/session", "", body("nobody", "not her password"))
	if st1 != http.StatusUnauthorized || st2 != st1 || !bytes.Equal(b1, b2) {
		t.Errorf("wrong password: %d %s; unknown user: %d %s", st1, b1, st2, b2)
	}

	// tarian login as bob, then client commands on the session.
	must(s.userCLI("", config, bobPassword+"\n", "login", "--user", "bob"), "login bob")
	fi, err := os.Stat(filepath.Join(config, "tarian", "sessions.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("session file: %v, mode %v", err, fi.Mode())
	}
	if r := must(s.userCLI("", config, "", "tenant", "list"), "tenant list"); !strings.Contains(r.stdout, "council-a") {
		t.Errorf("tenant list on the session: %s", r.stdout)
	}
	must(s.userCLI("", config, "", "user", "add", "carol", "--role", "tenant-viewer"), "user add carol on bob's session")
	r = must(s.userCLI("", config, "", "user", "list", "--json"), "user list")
	for _, want := range []string{`"name":"alice"`, `"name":"bob"`, `"name":"carol"`, `"tenant":"council-a"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("user list lacks %s:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "argon2") {
		t.Error("user list shows a password hash")
	}
	// A tenant-admin may not create provider users.
	if r := s.userCLI("", config, "", "user", "add", "mallory", "--role", "provider-admin"); r.code == 0 || !strings.Contains(r.stderr, "forbidden") {
		t.Errorf("tenant-admin adding a provider-admin: exit %d %s", r.code, r.stderr)
	}
	// The audit trail names the person.
	st, _, ab := s.do("GET", "/api/v1/audit?tenant=council-a&limit=100", adminToken, nil)
	if st != http.StatusOK || !strings.Contains(string(ab), "user:bob") {
		t.Errorf("audit records do not name user:bob: %d %s", st, ab)
	}
	// Bob's session creates a token with an expiry, then revokes it.
	r = must(s.userCLI("", config, "", "token", "create", "--role", "tenant-viewer", "--tenant", "council-a", "--expires", "1h", "--json"), "token create on a session")
	var tok map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &tok); err != nil || tok["expires"] == "" {
		t.Fatalf("token create: %v %s", err, r.stdout)
	}
	must(s.userCLI(tok["token"], config, "", "tenant", "list"), "the new token")
	must(s.userCLI("", config, "", "token", "revoke", tok["id"]), "token revoke")
	// An ID may start with "-" (base64url): it is the ID, not a flag.
	if r := s.userCLI("", config, "", "token", "revoke", "-NoSuchToken"); r.code != 1 || strings.Contains(r.stderr, "flag provided") {
		t.Errorf("token revoke -NoSuchToken: exit %d, %s (want the server's not found, exit 1)", r.code, r.stderr)
	}
	if r := s.userCLI(tok["token"], config, "", "tenant", "list"); r.code == 0 {
		t.Error("a revoked token still works")
	}
	must(s.userCLI("", config, "", "logout"), "logout")
	if r := s.userCLI("", config, "", "tenant", "list"); r.code == 0 {
		t.Errorf("tenant list after logout succeeded: %s", r.stdout)
	}
}

// TestMFACLI: a user who must use MFA logs in, may only enrol, enrols with
// tarian user mfa enrol (a code computed from the printed URI, as an app
// would), then logs in with a recovery code, which works once.
func TestMFACLI(t *testing.T) {
	s := startServer(t, t.TempDir())
	s.addTenant("council-a")
	config := t.TempDir()
	const pw = "dora's long password"
	must := func(r cliResult, what string) cliResult {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", what, r.code, r.stdout, r.stderr)
		}
		return r
	}
	must(s.userCLI(adminToken, config, pw+"\n", "user", "add", "dora", "--tenant", "council-a", "--role", "tenant-analyst", "--require-mfa", "--password-stdin"), "user add")
	r := must(s.userCLI("", config, pw+"\n\n", "login", "--user", "dora"), "first login")
	if !strings.Contains(r.stderr, "mfa enrol") {
		t.Errorf("login did not say to enrol: %s", r.stderr)
	}
	if r := s.userCLI("", config, "", "tenant", "list"); r.code == 0 || !strings.Contains(r.stderr, "mfa_enrolment_required") {
		t.Fatalf("before enrolment: exit %d %s", r.code, r.stderr)
	}

	// Enrol interactively: read the URI, answer with its current code.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tarianBin, "user", "mfa", "enrol")
	cmd.Env = append(baseEnv(), "TARIAN_URL="+s.url, "XDG_CONFIG_HOME="+config)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(stdout)
	uri, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("read the URI: %v (%s)", err, errb.String())
	}
	u, err := url.Parse(strings.TrimSpace(uri))
	if err != nil || u.Scheme != "otpauth" {
		t.Fatalf("URI %q", uri)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(u.Query().Get("secret"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(stdin, auth.TOTPCode(secret, auth.TOTPStep(time.Now()), 6))
	stdin.Close()
	rest, _ := io.ReadAll(out)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("mfa enrol: %v\n%s", err, errb.String())
	}
	codes := strings.Fields(string(rest))
	if len(codes) != 10 {
		t.Fatalf("recovery codes: %q", rest)
	}
	must(s.userCLI("", config, "", "tenant", "list"), "after enrolment")

	must(s.userCLI("", config, "", "logout"), "logout")
	if r := s.userCLI("", config, pw+"\n\n", "login", "--user", "dora"); r.code == 0 {
		t.Error("login without a code after enrolment succeeded")
	}
	must(s.userCLI("", config, pw+"\n"+codes[0]+"\n", "login", "--user", "dora"), "login with a recovery code")
	must(s.userCLI("", config, "", "tenant", "list"), "on the recovery-code session")
	if r := s.userCLI("", config, pw+"\n"+codes[0]+"\n", "login", "--user", "dora"); r.code == 0 {
		t.Error("a recovery code worked twice")
	}
}
