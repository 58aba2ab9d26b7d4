package e2e

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // raw SQL on a stopped server's database

	"github.com/tarian-soc/tarian/internal/store/pgtest" // and the pgx driver
)

// TestAuditTrail: the audit trail through the built binary. Tenant admins
// read, verify and export their own chain only; an export verifies
// offline; a stopped server's trail verifies offline with --data, and an
// edit, a deletion, a reordering or a forged checkpoint done with raw SQL
// on its database is named (chain, seq, what is wrong) with exit 1.
func TestAuditTrail(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	s.addTenant("council-a")
	s.addTenant("council-b")
	a := s.createToken("council-a", "tenant-admin")
	s.createToken("council-b", "tenant-admin")
	for range 3 { // audited in council-a's chain
		s.mustCLI(a.Token, "token", "create", "--tenant", "council-a", "--role", "ingest")
	}

	// A tenant-admin lists its own chain, not another's.
	out := s.mustCLI(a.Token, "audit", "list", "--json")
	var n int
	for line := range strings.Lines(out) {
		var r struct {
			Chain, Action string
			Seq           int64
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.Chain != "council-a" || r.Seq < 1 {
			t.Errorf("tenant-admin of council-a lists %+v", r)
		}
		n++
	}
	if n != 5 { // tenant.create, token.create by the provider, three by a
		t.Errorf("council-a's chain lists %d records, want 5:\n%s", n, out)
	}
	for _, args := range [][]string{
		{"audit", "list", "--tenant", "council-b"},
		{"audit", "export", "--tenant", "council-b"},
		{"audit", "verify", "--tenant", "council-b"},
		{"audit", "list", "--tenant", "*"},
	} {
		r := s.cli(a.Token, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "forbidden") || r.stdout != "" {
			t.Errorf("council-a's admin: tarian %s: exit %d, stdout %q, stderr %q; want forbidden", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}

	// Through the API: intact.
	out = s.mustCLI(adminToken, "audit", "verify")
	for _, want := range []string{"chain council-a: intact, 5 records", "chain council-b: intact", "checkpoint key "} {
		if !strings.Contains(out, want) {
			t.Errorf("audit verify printed %q, want %q", out, want)
		}
	}
	var v struct {
		Intact    bool   `json:"intact"`
		PublicKey string `json:"public_key"`
	}
	if err := json.Unmarshal([]byte(s.mustCLI(a.Token, "audit", "verify", "--json")), &v); err != nil || !v.Intact || v.PublicKey == "" {
		t.Fatalf("audit verify --json: %+v, %v", v, err)
	}

	// The member's export verifies offline, against the pinned key.
	export := filepath.Join(t.TempDir(), "council-a.jsonl")
	s.mustCLI(a.Token, "audit", "export", "--out", export)
	out = s.mustCLI("", "audit", "verify", "--file", export, "--public-key", v.PublicKey)
	if !strings.Contains(out, "chain council-a: intact, 5 records") {
		t.Errorf("verify --file printed %q", out)
	}
	edited := filepath.Join(t.TempDir(), "edited.jsonl")
	b, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	tampered := strings.Replace(string(b), `role=ingest `, `role=tenant-viewer `, 1)
	if tampered == string(b) {
		t.Fatalf("the export has no token.create record of an ingest token to edit:\n%s", b)
	}
	if err := os.WriteFile(edited, []byte(tampered), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := s.cli("", "audit", "verify", "--file", edited, "--public-key", v.PublicKey); r.code != 1 || !strings.Contains(r.stderr, "chain council-a, record seq 3") || !strings.Contains(r.stderr, "edited") {
		t.Errorf("verify --file of an edited export: exit %d, %q", r.code, r.stderr)
	}

	// Offline while the server runs: refused, saying why.
	if r := s.cli("", "audit", "verify", "--data", data); r.code != 1 || !strings.Contains(r.stderr, "data directory in use") || !strings.Contains(r.stderr, "without --data") {
		t.Errorf("verify --data on a running server: exit %d, %q", r.code, r.stderr)
	}
	s.stop()

	// Stopped: intact, and the head of every chain is signed.
	out = s.mustCLI("", "audit", "verify", "--data", data, "--clean-stop")
	if !strings.Contains(out, "chain council-a: intact, 5 records, 1 checkpoints checked (head seq 5, 0 records after the last checkpoint)") {
		t.Errorf("verify --data printed %q", out)
	}
	copyData := func(t *testing.T) string {
		dir := t.TempDir()
		for _, f := range []string{"state.db", "secret.key"} {
			b, err := os.ReadFile(filepath.Join(data, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	execSQL := func(t *testing.T, dir string, qs ...string) {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "state.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range qs {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}

	// A chain recomputed from an edit on, its checkpoints after the edit
	// deleted, verifies as a chain; what is left to see is a head no
	// checkpoint signs, which a cleanly stopped server never leaves: a
	// warning, and with --clean-stop a break.
	t.Run("checkpoints deleted", func(t *testing.T) {
		dir := copyData(t)
		execSQL(t, dir, `DELETE FROM audit_checkpoints WHERE chain = 'council-a'`)
		r := s.cli("", "audit", "verify", "--data", dir)
		if r.code != 0 || !strings.Contains(r.stderr, "warning: 5 records of 1 chain (council-a) are after the chain's last checkpoint") {
			t.Errorf("verify --data: exit %d, %q", r.code, r.stderr)
		}
		r = s.cli("", "audit", "verify", "--data", dir, "--clean-stop")
		if r.code != 1 || !strings.Contains(r.stderr, "audit trail not signed to its head: 5 records of 1 chain (council-a)") {
			t.Errorf("verify --data --clean-stop: exit %d, %q", r.code, r.stderr)
		}
	})

	tests := []struct {
		name string
		sql  []string
		want string
	}{
		{"modified", []string{`UPDATE audit SET actor = 'someone-else' WHERE chain = 'council-a' AND seq = 3`},
			"chain council-a, record seq 3 (id "},
		{"deleted", []string{`DELETE FROM audit WHERE chain = 'council-a' AND seq = 2`},
			"chain council-a, record seq 2: deleted: missing"},
		{"reordered", []string{
			`UPDATE audit SET id = -id WHERE chain = 'council-a' AND seq IN (3, 4)`,
			`UPDATE audit SET id = -id + 1 WHERE chain = 'council-a' AND seq = 3`,
			`UPDATE audit SET id = -id - 1 WHERE chain = 'council-a' AND seq = 4`,
		}, "chain council-a, record seq 3 (id "},
		{"forged checkpoint", []string{`UPDATE audit_checkpoints SET signature = zeroblob(64) WHERE chain = 'council-b'`},
			"chain council-b, record seq 2: bad-signature"},
	}
	kinds := map[string]string{"modified": ": edited: content does not match its hash", "reordered": ": reordered: found later"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyData(t)
			execSQL(t, dir, tt.sql...)
			r := s.cli("", "audit", "verify", "--data", dir)
			if r.code != 1 || !strings.Contains(r.stderr, "audit trail broken: "+tt.want) || !strings.Contains(r.stderr, kinds[tt.name]) {
				t.Errorf("exit %d\nstdout: %s\nstderr: %s\nwant %q", r.code, r.stdout, r.stderr, tt.want)
			}
			if !strings.Contains(r.stdout, "BROKEN") {
				t.Errorf("stdout does not mark the broken chain: %s", r.stdout)
			}
		})
	}
}

// TestAuditVerifyState verifies the audit chains of a PostgreSQL state
// store (state.url) directly, while the server writes to it, and finds an
// edited record.
func TestAuditVerifyState(t *testing.T) {
	t.Parallel()
	pg := pgtest.Start(t)
	s := startServer(t, t.TempDir(), "TARIAN_STATE_URL="+pg)
	s.addTenant("council-a")
	s.createToken("council-a", "ingest")
	var v struct {
		PublicKey string `json:"public_key"`
	}
	if err := json.Unmarshal([]byte(s.mustCLI(adminToken, "audit", "verify", "--json")), &v); err != nil || v.PublicKey == "" {
		t.Fatalf("audit verify --json: %+v, %v", v, err)
	}
	out := s.mustCLI("", "audit", "verify", "--state", pg, "--public-key", v.PublicKey)
	if !strings.Contains(out, "chain council-a: intact") {
		t.Errorf("verify --state printed %q", out)
	}
	db, err := sql.Open("pgx", pg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE audit SET actor = 'someone-else' WHERE chain = 'council-a' AND seq = 2`); err != nil {
		t.Fatal(err)
	}
	if r := s.cli("", "audit", "verify", "--state", pg, "--public-key", v.PublicKey); r.code != 1 || !strings.Contains(r.stderr, "chain council-a, record seq 2") {
		t.Errorf("verify --state of an edited record: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if r := s.cli("", "audit", "verify", "--state", pg); r.code == 0 || !strings.Contains(r.stderr, "--public-key") {
		t.Errorf("verify --state without a key: exit %d, %q", r.code, r.stderr)
	}
	// tarian backup copies the embedded engines only, and says so (a 409,
	// not a server error).
	if r := s.cli(adminToken, "backup", filepath.Join(t.TempDir(), "b.tar.zst")); r.code == 0 || !strings.Contains(r.stderr, "backup_unsupported (HTTP 409)") || !strings.Contains(r.stderr, "their own tools") {
		t.Errorf("backup with PostgreSQL state: exit %d, %q", r.code, r.stderr)
	}
}
