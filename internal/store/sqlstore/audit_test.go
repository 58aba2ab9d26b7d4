package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/audit"
)

func testSigner(t testing.TB) *audit.Signer {
	t.Helper()
	s, err := audit.NewSigner(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openAudit(t testing.TB, p place) *DB {
	t.Helper()
	db := p.reopen(t)
	db.SetAuditSigner(testSigner(t))
	return db
}

func appendN(t testing.TB, db *DB, scope string, n int) {
	t.Helper()
	for i := range n {
		if err := db.Append(context.Background(), audit.Record{Actor: "tok", Role: "provider-admin", Action: "search", Scope: scope, Detail: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
}

// dropsAfter returns the statements that drop the tables, indexes and
// columns the migrations after version v created (latest first).
func dropsAfter(v int) []string {
	re := regexp.MustCompile(`(?i)CREATE\s+(?:UNIQUE\s+)?(TABLE|INDEX)\s+(?:IF NOT EXISTS\s+)?(\w+)|ALTER\s+TABLE\s+(\w+)\s+ADD\s+COLUMN\s+(\w+)`)
	var out []string
	for m := len(migrations) - 1; m > v; m-- {
		found := re.FindAllStringSubmatch(migrations[m], -1)
		for i := len(found) - 1; i >= 0; i-- {
			if f := found[i]; f[3] != "" {
				out = append(out, "ALTER TABLE "+f[3]+" DROP COLUMN "+f[4])
			} else {
				out = append(out, "DROP "+strings.ToUpper(f[1])+" IF EXISTS "+f[2])
			}
		}
	}
	return out
}

func TestAuditChainsAndCheckpoints(t *testing.T) { persistent(t, testAuditChainsAndCheckpoints) }

func testAuditChainsAndCheckpoints(t *testing.T, p place) {
	ctx := context.Background()
	db := openAudit(t, p)
	appendN(t, db, "council-a", audit.CheckpointEvery+2)
	appendN(t, db, "council-b", 3)
	appendN(t, db, "*", 2)
	appendN(t, db, "", 1) // a provider read of every tenant: the provider chain
	chains, err := db.AuditChains(ctx)
	if err != nil || fmt.Sprint(chains) != "[* council-a council-b]" {
		t.Fatalf("AuditChains = %v, %v", chains, err)
	}
	pub := testSigner(t).PublicKey()
	res, err := db.VerifyAudit(ctx, "", pub)
	if err != nil {
		t.Fatal(err)
	}
	// Before Close only council-a's 1000th record is checkpointed.
	want := "[{* 3 0 3 0 3} {council-a 1002 1 1002 0 2} {council-b 3 0 3 0 3}]"
	if got := fmt.Sprint(stripHashes(res)); got != want {
		t.Errorf("VerifyAudit = %s, want %s", got, want)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Close signed every head: nothing is left unsigned.
	ro := p.readOnly(t)
	res, err = ro.VerifyAudit(ctx, "", pub)
	if err != nil {
		t.Fatal(err)
	}
	want = "[{* 3 1 3 0 0} {council-a 1002 2 1002 0 0} {council-b 3 1 3 0 0}]"
	if got := fmt.Sprint(stripHashes(res)); got != want {
		t.Errorf("after Close: VerifyAudit = %s, want %s", got, want)
	}
	recs, err := ro.AuditChain(ctx, "council-b", 0, 2)
	if err != nil || len(recs) != 2 || recs[0].Seq != 3 || recs[1].Seq != 2 {
		t.Errorf("AuditChain(council-b, newest 2) = %+v, %v", recs, err)
	}
	if err := ro.Append(ctx, audit.Record{Scope: "council-b"}); err == nil {
		t.Error("a read-only store appends")
	}
}

// stripHashes leaves the counts of results.
func stripHashes(rs []audit.Result) []any {
	var out []any
	for _, r := range rs {
		out = append(out, struct {
			C          string
			R          int64
			CP         int
			H          int64
			zero, Unsg int64
		}{r.Chain, r.Records, r.Checkpoints, r.Head, 0, r.Unsigned})
	}
	return out
}

func TestAuditTamperDetected(t *testing.T) { places(t, testAuditTamperDetected) }

func testAuditTamperDetected(t *testing.T, newPlace func(testing.TB) place) {
	ctx := context.Background()
	pub := testSigner(t).PublicKey()
	tests := []struct {
		name  string
		sql   []string
		kind  audit.Kind
		seq   int64
		chain string
	}{
		{"edited", []string{`UPDATE audit SET detail = 'nothing' WHERE chain = 'council-a' AND seq = 3`}, audit.KindEdited, 3, "council-a"},
		{"deleted", []string{`DELETE FROM audit WHERE chain = 'council-a' AND seq = 2`}, audit.KindDeleted, 2, "council-a"},
		{"last deleted", []string{`DELETE FROM audit WHERE chain = 'council-a' AND seq = 5`}, audit.KindDeleted, 5, "council-a"},
		{"reordered", []string{
			`UPDATE audit SET id = -id WHERE chain = 'council-a' AND seq IN (2, 3)`,
			`UPDATE audit SET id = (SELECT id FROM audit WHERE chain = 'council-a' AND seq = 1) + 2 WHERE chain = 'council-a' AND seq = 2`,
			`UPDATE audit SET id = (SELECT id FROM audit WHERE chain = 'council-a' AND seq = 1) + 1 WHERE chain = 'council-a' AND seq = 3`,
		}, audit.KindReordered, 2, "council-a"},
		{"moved to another chain", []string{`UPDATE audit SET chain = 'council-b', scope = 'council-b' WHERE chain = 'council-a' AND seq = 4`}, audit.KindDeleted, 4, "council-a"},
		{"inserted by hand", []string{`INSERT INTO audit (time, actor, role, action, scope, detail) VALUES (1, 'x', 'provider-admin', 'nothing', 'council-b', '')`}, audit.KindReordered, 0, "council-b"},
		{"forged checkpoint", []string{`UPDATE audit_checkpoints SET signature = ZEROS64 WHERE chain = 'council-a'`}, audit.KindBadSignature, 5, "council-a"},
		{"chain emptied", []string{`DELETE FROM audit WHERE chain = 'council-b'`}, audit.KindDeleted, 1, "council-b"},
		{"checkpoint deleted, chain truncated", []string{
			`DELETE FROM audit WHERE chain = 'council-a' AND seq = 5`,
			`DELETE FROM audit_checkpoints WHERE chain = 'council-a'`,
		}, "", 0, ""}, // undetectable without the checkpoint: intact, one record fewer
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPlace(t)
			db := openAudit(t, p)
			appendN(t, db, "council-a", 5)
			appendN(t, db, "council-b", 2)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			zeros := "zeroblob(64)"
			if p.postgres {
				zeros = "decode(repeat('00', 64), 'hex')"
			}
			for _, s := range tt.sql {
				p.raw(t, strings.ReplaceAll(s, "ZEROS64", zeros))
			}
			ro := p.readOnly(t)
			res, err := ro.VerifyAudit(ctx, "", pub)
			if tt.kind == "" {
				if err != nil || res[0].Records != 4 {
					t.Errorf("VerifyAudit = %+v, %v", res, err)
				}
				return
			}
			var be *audit.BreakError
			if !errors.As(err, &be) {
				t.Fatalf("VerifyAudit = %+v, %v; want a break", res, err)
			}
			if be.Kind != tt.kind || be.Seq != tt.seq || be.Chain != tt.chain {
				t.Errorf("break = %v, want %s at %s seq %d", be, tt.kind, tt.chain, tt.seq)
			}
			// The server does not chain a row slipped in by hand, or
			// otherwise repair the trail, when it opens the database.
			p.reopen(t).Close()
			if _, err2 := ro.VerifyAudit(ctx, tt.chain, pub); !errors.As(err2, &be) {
				t.Errorf("after the server reopened the database: %v", err2)
			}
		})
	}
}

// TestAuditRewriteDetected: a forger with write access who edits a record
// and recomputes every hash after it leaves a consistent chain; the
// checkpoint signed when the server stopped no longer matches.
func TestAuditRewriteDetected(t *testing.T) { persistent(t, testAuditRewriteDetected) }

func testAuditRewriteDetected(t *testing.T, p place) {
	ctx := context.Background()
	db := openAudit(t, p)
	appendN(t, db, "council-a", 5)
	recs, err := db.AuditChain(ctx, "council-a", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	slices.Reverse(recs)
	var stmts []string
	head := recs[0]
	for i, r := range recs[1:] {
		if i == 0 {
			r.Detail = "forged"
		}
		r = audit.Link(head, r)
		blob := "x'%x'"
		if p.postgres {
			blob = `'\x%x'::bytea`
		}
		stmts = append(stmts, fmt.Sprintf(`UPDATE audit SET detail = '%s', prev_hash = `+blob+`, hash = `+blob+` WHERE id = %d`, r.Detail, r.PrevHash[:], r.Hash[:], r.ID))
		head = r
	}
	p.raw(t, stmts...)
	ro := p.readOnly(t)
	_, err = ro.VerifyAudit(ctx, "council-a", testSigner(t).PublicKey())
	var be *audit.BreakError
	if !errors.As(err, &be) || be.Kind != audit.KindEdited || be.Seq != 5 || !strings.Contains(be.Reason, "checkpoint") {
		t.Errorf("rewritten chain: %v", err)
	}
}

// TestAuditLegacyChained: records of a version without the chain are
// chained on the first open, deterministically.
func TestAuditLegacyChained(t *testing.T) { places(t, testAuditLegacyChained) }

func testAuditLegacyChained(t *testing.T, newPlace func(testing.TB) place) {
	ctx := context.Background()
	var heads []string
	for range 2 {
		p := newPlace(t)
		db := openAudit(t, p)
		db.SetAuditSigner(nil)
		db.Close()
		// Back to schema 9: the audit table as it was, and nothing of the
		// migrations after the audit one.
		p.raw(t, dropsAfter(10)...)
		p.raw(t,
			`DROP INDEX audit_chain_seq`, `DROP INDEX audit_chain_id`, `DROP TABLE audit_checkpoints`, `DROP TABLE audit_legacy`,
			`ALTER TABLE audit DROP COLUMN chain`, `ALTER TABLE audit DROP COLUMN seq`, `ALTER TABLE audit DROP COLUMN prev_hash`, `ALTER TABLE audit DROP COLUMN hash`,
			`DELETE FROM schema_migrations WHERE version >= 10`,
			`INSERT INTO audit (time, actor, role, action, scope, detail) VALUES (1, 'a', 'provider-admin', 'tenant.create', 'council-a', 'A'),
				(2, 'a', 'provider-admin', 'search', '*', 'q'), (3, 'b', 'tenant-admin', 'token.create', 'council-a', 'x'), (4, 'a', 'provider-admin', 'search', '', 'q')`)
		if _, err := p.openReadOnly(); !errors.Is(err, ErrOldSchema) {
			t.Errorf("read-only open of an old database = %v, want ErrOldSchema", err)
		}
		db = openAudit(t, p)
		appendN(t, db, "council-a", 1)
		res, err := db.VerifyAudit(ctx, "", testSigner(t).PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(stripHashes(res)); got != "[{* 2 0 2 0 2} {council-a 3 0 3 0 3}]" {
			t.Errorf("VerifyAudit = %s", got)
		}
		legacy, err := db.AuditChain(ctx, "council-a", 3, 1) // the last legacy record
		if err != nil || len(legacy) != 1 {
			t.Fatalf("AuditChain = %v, %v", legacy, err)
		}
		heads = append(heads, legacy[0].Hash.String())
		db.Close()
	}
	if heads[0] != heads[1] {
		t.Errorf("one legacy trail chained twice gives heads %v", heads)
	}
}

// TestAuditConcurrentAppends: many goroutines appending to a few chains
// leave valid chains with every record.
func TestAuditConcurrentAppends(t *testing.T) { persistent(t, testAuditConcurrentAppends) }

func testAuditConcurrentAppends(t *testing.T, p place) {
	ctx := context.Background()
	db := openAudit(t, p)
	const workers, each = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			if err := appendAs(ctx, db, w, each, "council-a", "council-b", "*"); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := verifiedRecords(t, db); n != workers*each {
		t.Errorf("chains hold %d records, want %d", n, workers*each)
	}
}

// appendAs appends n records as worker w, the scope of each the next of
// scopes.
func appendAs(ctx context.Context, db *DB, w, n int, scopes ...string) error {
	for i := range n {
		scope := scopes[(w+i)%len(scopes)]
		if err := db.Append(ctx, audit.Record{Time: time.Now(), Actor: fmt.Sprint("w", w), Role: "tenant-admin", Action: "x", Scope: scope, Detail: fmt.Sprint(i)}); err != nil {
			return err
		}
	}
	return nil
}

// verifiedRecords verifies every chain (signed by testSigner) and counts
// their records.
func verifiedRecords(t testing.TB, db *DB) int64 {
	t.Helper()
	res, err := db.VerifyAudit(context.Background(), "", testSigner(t).PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, r := range res {
		n += r.Records
	}
	return n
}
