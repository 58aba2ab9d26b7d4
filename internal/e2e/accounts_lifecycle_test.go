package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAccountsLifecycleCLI, with the built binary: user names are one
// name in any letter case (tarian login as "ann" is Ann; "ANN" cannot be
// added beside her); a token Ann makes from her session is listed as
// hers and stops working the moment she is disabled (tarian user disable
// says so), while another member's admin cannot touch her; a tenant-admin
// token with an expiry cannot add users (it would leave access behind).
func TestAccountsLifecycleCLI(t *testing.T) {
	s := startServer(t, t.TempDir())
	s.addTenant("council-a")
	s.addTenant("council-b")
	config := t.TempDir()
	must := func(r cliResult, what string) cliResult {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", what, r.code, r.stdout, r.stderr)
		}
		return r
	}
	r := must(s.userCLI(adminToken, config, "", "user", "add", "Ann", "--tenant", "council-a", "--role", "tenant-admin"), "user add Ann")
	annPassword := strings.TrimSpace(r.stdout)
	if r := s.userCLI(adminToken, config, "", "user", "add", "ANN", "--tenant", "council-b", "--role", "tenant-viewer"); r.code == 0 || !strings.Contains(r.stderr, "user_exists") {
		t.Errorf("user add ANN beside Ann: exit %d %s; want user_exists", r.code, r.stderr)
	}

	// Ann logs in in lower case and makes a token from her session.
	must(s.userCLI("", config, annPassword+"\n", "login", "--user", "ann"), "login ann")
	r = must(s.userCLI("", config, "", "token", "create", "--role", "ingest", "--name", "ann's firewall", "--json"), "token create on Ann's session")
	var tok createdToken
	if err := json.Unmarshal([]byte(r.stdout), &tok); err != nil || tok.Token == "" {
		t.Fatalf("token create: %v %s", err, r.stdout)
	}
	ingest := func() int {
		status, _, _ := s.do("POST", "/api/v1/ingest", tok.Token, []byte(`{"message":"hello"}`+"\n"), "Content-Type", "application/x-ndjson")
		return status
	}
	if got := ingest(); got != 200 {
		t.Fatalf("Ann's ingest token = HTTP %d", got)
	}
	r = must(s.userCLI(adminToken, config, "", "token", "list", "--tenant", "council-a"), "token list")
	var row string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, tok.ID) {
			row = l
		}
	}
	if f := strings.Fields(row); len(f) == 0 || f[len(f)-1] != "Ann" {
		t.Errorf("token list row of Ann's token %q; want USER Ann\n%s", row, r.stdout)
	}

	// Another member's admin: no such user, nothing revoked.
	other := s.createToken("council-b", "tenant-admin")
	if r := s.userCLI(other.Token, config, "", "user", "disable", "Ann"); r.code == 0 || !strings.Contains(r.stderr, "user_not_found") {
		t.Errorf("council-b's admin disabling Ann: exit %d %s; want user_not_found", r.code, r.stderr)
	}
	if got := ingest(); got != 200 {
		t.Fatalf("Ann's token after a refused disable = HTTP %d", got)
	}

	// A tenant-admin token with an expiry adds no user.
	r = must(s.userCLI(adminToken, config, "", "token", "create", "--tenant", "council-a", "--role", "tenant-admin", "--expires", "2h", "--json"), "expiring admin token")
	var temp createdToken
	if err := json.Unmarshal([]byte(r.stdout), &temp); err != nil {
		t.Fatal(err)
	}
	if r := s.userCLI(temp.Token, config, "", "user", "add", "contractor-friend", "--role", "tenant-admin"); r.code == 0 || !strings.Contains(r.stderr, "expiring_credential") || !strings.Contains(r.stderr, "tarian login") {
		t.Errorf("user add with an expiring token: exit %d %s; want expiring_credential saying what to do", r.code, r.stderr)
	}

	// Disabling Ann (any spelling) revokes her token at once.
	r = must(s.userCLI(adminToken, config, "", "user", "disable", "ANN"), "user disable ANN")
	if !strings.Contains(r.stderr, tok.ID) || !strings.Contains(r.stderr, "revoked") {
		t.Errorf("user disable said %q; want it to name the revoked token %s", r.stderr, tok.ID)
	}
	if got := ingest(); got != 401 {
		t.Errorf("Ann's token after she was disabled = HTTP %d; want 401", got)
	}
	st, _, ab := s.do("GET", "/api/v1/audit?tenant=council-a&limit=100", adminToken, nil)
	if st != 200 || !strings.Contains(string(ab), "token.revoke") || !strings.Contains(string(ab), tok.ID) {
		t.Errorf("audit of council-a lacks the revocation of %s: %d %s", tok.ID, st, ab)
	}

	// Ann leaves: deleted, her name is free again.
	if r := s.userCLI(other.Token, config, "", "user", "delete", "Ann"); r.code == 0 || !strings.Contains(r.stderr, "user_not_found") {
		t.Errorf("council-b's admin deleting Ann: exit %d %s; want user_not_found", r.code, r.stderr)
	}
	r = must(s.userCLI(adminToken, config, "", "user", "delete", "ann"), "user delete ann")
	if !strings.Contains(r.stderr, "deleted Ann") {
		t.Errorf("user delete said %q", r.stderr)
	}
	if r := must(s.userCLI(adminToken, config, "", "user", "list", "--tenant", "council-a"), "user list"); strings.Contains(r.stdout, "Ann") {
		t.Errorf("user list after Ann's delete:\n%s", r.stdout)
	}
	must(s.userCLI(adminToken, config, "", "user", "add", "ann", "--tenant", "council-b", "--role", "tenant-viewer"), "user add ann again")
}
