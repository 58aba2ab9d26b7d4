package cli

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/server"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
)

func runAudit(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		return usageError(strings.TrimSuffix(commandUsage([]string{"audit"}), "\n"))
	}
	switch args[0] {
	case "list":
		return runAuditList(ctx, args[1:], env)
	case "verify":
		return runAuditVerify(ctx, args[1:], env)
	case "export":
		return runAuditExport(ctx, args[1:], env)
	}
	return usageError(fmt.Sprintf("unknown audit command %q", args[0]))
}

func auditQuery(tenant string, more url.Values) string {
	q := url.Values{}
	if tenant != "" {
		q.Set("tenant", tenant)
	}
	for k, v := range more {
		q[k] = v
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func runAuditList(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("audit list", env)
	ten := fs.String("tenant", "", "a tenant's chain, or * for the provider chain (provider-admin: default every record; tenant-admin: its own)")
	limit := fs.Int("limit", 100, "at most this many records, newest first")
	asJSON := fs.Bool("json", false, "one JSON object per line, with the chain fields and hashes")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var out struct {
		Records []audit.Record `json:"records"`
	}
	if err := c.json(ctx, "GET", "/api/v1/audit"+auditQuery(*ten, url.Values{"limit": {strconv.Itoa(*limit)}}), nil, &out); err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, out.Records)
	}
	tw := table(env, len(out.Records), "no audit records", "CHAIN\tSEQ\tTIME\tACTOR\tROLE\tACTION\tSCOPE\tDETAIL")
	if tw == nil {
		return nil
	}
	for _, r := range out.Records {
		detail := r.Detail
		if len(detail) > 80 {
			detail = detail[:77] + "..."
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Chain, r.Seq, r.Time.Format(time.RFC3339), r.Actor, r.Role, r.Action, r.Scope, detail)
	}
	return tw.Flush()
}

// auditVerifyJSON is the API's verify answer, and what --json prints in
// every mode.
type auditVerifyJSON struct {
	Intact    bool              `json:"intact"`
	KeyID     string            `json:"key_id,omitempty"`
	PublicKey string            `json:"public_key,omitempty"`
	Chains    []audit.Result    `json:"chains"`
	Break     *audit.BreakError `json:"break,omitempty"`
}

func runAuditVerify(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("audit verify", env)
	ten := fs.String("tenant", "", "verify this tenant's chain only (* the provider chain); default every chain the token may read")
	data := fs.String("data", "", "verify a stopped server's data directory offline, read-only (its key from TARIAN_SECRET_KEY or the directory's key file)")
	file := fs.String("file", "", "verify an export (tarian audit export) offline")
	state := fs.String("state", "", "verify the PostgreSQL state store of a cluster (its state.url) directly, read-only (the key from TARIAN_SECRET_KEY, or give --public-key)")
	cleanStop := fs.Bool("clean-stop", false, "with --data: the server was stopped cleanly, so every chain's head is signed; records after a chain's last checkpoint are a break")
	pubHex := fs.String("public-key", "", "the server's checkpoint public key (hex), to check against instead of the data directory's or the export's own")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if sources := btoi(*data != "") + btoi(*file != "") + btoi(*state != ""); len(pos) != 0 || sources > 1 {
		return usageError("usage: tarian audit verify [--tenant ID] [--data DIR [--clean-stop] | --file EXPORT | --state URL] [--public-key HEX] [--json]")
	}
	if *cleanStop && *data == "" {
		return usageError("--clean-stop goes with --data: only a stopped server has signed every chain's head")
	}
	var pub ed25519.PublicKey
	if *pubHex != "" {
		if pub, err = audit.ParsePublicKey(*pubHex); err != nil {
			return usageError("--public-key: " + err.Error())
		}
	}
	var out auditVerifyJSON
	var note string
	switch {
	case *file != "":
		note, err = verifyExportFile(*file, pub, &out)
	case *data != "":
		err = verifyDataDir(ctx, *data, *ten, pub, env, &out)
	case *state != "":
		err = verifyState(ctx, *state, *ten, pub, env, &out)
	default:
		var c *client
		if c, err = newClient(env); err == nil {
			err = c.json(ctx, "GET", "/api/v1/audit/verify"+auditQuery(*ten, nil), nil, &out)
		}
	}
	if err != nil {
		return err
	}
	if *asJSON {
		if err := json.NewEncoder(env.Stdout).Encode(out); err != nil {
			return err
		}
	} else {
		printVerify(env.Stdout, &out, note)
	}
	if b := out.Break; b != nil {
		id := ""
		if b.ID != 0 {
			id = fmt.Sprintf(" (id %d)", b.ID)
		}
		return fmt.Errorf("audit trail broken: chain %s, record seq %d%s: %s: %s", b.Chain, b.Seq, id, b.Kind, b.Reason)
	}
	if *data != "" {
		return unsignedHeads(env, out.Chains, *cleanStop)
	}
	return nil
}

// unsignedHeads speaks of the chains of a stopped server's data whose
// last records no checkpoint signs. A server that stops cleanly signs
// every chain's head, so after a clean stop such records mean the
// database was changed: a chain recomputed from an edit onward, its
// checkpoints after the edit deleted. After a crash they are the last
// records' ordinary state. With cleanStop they are a break.
func unsignedHeads(env Env, rs []audit.Result, cleanStop bool) error {
	var chains []string
	var n int64
	for _, r := range rs {
		if r.Unsigned > 0 {
			chains = append(chains, r.Chain)
			n += r.Unsigned
		}
	}
	if len(chains) == 0 {
		return nil
	}
	what := fmt.Sprintf("%d records of %s (%s) are after the chain's last checkpoint", n, plural(len(chains), "chain"), strings.Join(chains, ", "))
	if cleanStop {
		return fmt.Errorf("audit trail not signed to its head: %s, which a cleanly stopped server never leaves: the database was changed after it stopped (a chain recomputed, checkpoints deleted); compare with a backup", what)
	}
	fmt.Fprintf(env.Stderr, "warning: %s: a server stopped cleanly signs every chain's head, so unless it crashed the database was changed after it stopped (--clean-stop makes this an error)\n", what)
	return nil
}

func printVerify(w io.Writer, out *auditVerifyJSON, note string) {
	for _, r := range out.Chains {
		if b := r.Break; b != nil {
			id := ""
			if b.ID != 0 {
				id = fmt.Sprintf(" (id %d)", b.ID)
			}
			fmt.Fprintf(w, "chain %s: BROKEN at seq %d%s: %s: %s (%d records read, %d checkpoints)\n", r.Chain, b.Seq, id, b.Kind, b.Reason, r.Records, r.Checkpoints)
			continue
		}
		fmt.Fprintf(w, "chain %s: intact, %d records, %d checkpoints checked (head seq %d, %d records after the last checkpoint)\n",
			r.Chain, r.Records, r.Checkpoints, r.Head, r.Unsigned)
	}
	if b := out.Break; b != nil && !hasChain(out.Chains, b.Chain) {
		fmt.Fprintf(w, "chain %s: BROKEN at record id %d: %s: %s\n", b.Chain, b.ID, b.Kind, b.Reason)
	}
	if out.KeyID != "" {
		fmt.Fprintf(w, "checkpoint key %s\n", out.KeyID)
	}
	if note != "" {
		fmt.Fprintln(w, note)
	}
}

func hasChain(rs []audit.Result, chain string) bool {
	for _, r := range rs {
		if r.Chain == chain {
			return true
		}
	}
	return false
}

// verifyDataDir verifies a stopped server's state database. It holds the
// data directory's lock meanwhile, so no server starts and writes under
// it, and refuses while a server runs there: the running server's API
// verifies its own trail (tarian audit verify without --data).
func verifyDataDir(ctx context.Context, dir, chain string, pub ed25519.PublicKey, env Env, out *auditVerifyJSON) error {
	path := filepath.Join(dir, "state.db")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%s is not a tarian data directory: %w", dir, err)
	}
	release, err := server.LockData(dir)
	if errors.Is(err, server.ErrDataInUse) {
		return fmt.Errorf("%w\n(offline verification reads a stopped server's data; verify a running one through its API: tarian audit verify without --data)", err)
	}
	if err != nil {
		return err
	}
	defer release()
	if pub == nil {
		signer, err := server.AuditSigner(dir, env.Getenv("TARIAN_SECRET_KEY"))
		if err != nil {
			return fmt.Errorf("%w (set TARIAN_SECRET_KEY as the server had it, or give --public-key)", err)
		}
		pub = signer.PublicKey()
	}
	db, err := sqlstore.OpenReadOnly(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	return verifyDB(ctx, db, chain, pub, out)
}

// verifyState verifies the chains of a PostgreSQL state store: several
// servers may be writing to it; the read sees one snapshot.
func verifyState(ctx context.Context, url, chain string, pub ed25519.PublicKey, env Env, out *auditVerifyJSON) error {
	if pub == nil {
		key := env.Getenv("TARIAN_SECRET_KEY")
		if key == "" {
			return usageError("--state: give --public-key, or TARIAN_SECRET_KEY as the servers have it")
		}
		signer, err := server.AuditSigner("", key)
		if err != nil {
			return err
		}
		pub = signer.PublicKey()
	}
	db, err := sqlstore.OpenPostgresReadOnly(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	return verifyDB(ctx, db, chain, pub, out)
}

// verifyDB verifies chain (every chain when empty) of db against pub.
func verifyDB(ctx context.Context, db *sqlstore.DB, chain string, pub ed25519.PublicKey, out *auditVerifyJSON) error {
	if chain != "" {
		chain = audit.ChainOf(chain)
	}
	res, err := db.VerifyAudit(ctx, chain, pub)
	out.Intact, out.Chains, out.KeyID = err == nil, res, audit.KeyID(pub)
	if out.Chains == nil {
		out.Chains = []audit.Result{}
	}
	var be *audit.BreakError
	switch {
	case errors.As(err, &be):
		out.Intact, out.Break = false, be
	case err != nil:
		return err
	}
	return nil
}

// verifyExportFile verifies an export; with no pub, against the key the
// file names, which the note asks to compare.
func verifyExportFile(path string, pub ed25519.PublicKey, out *auditVerifyJSON) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	pinned := pub != nil
	h, res, err := audit.VerifyExport(f, pub)
	var be *audit.BreakError
	if err != nil && !errors.As(err, &be) {
		return "", err
	}
	out.Intact, out.Chains, out.KeyID, out.PublicKey = err == nil, []audit.Result{res}, h.KeyID, h.PublicKey
	if pinned {
		out.KeyID = audit.KeyID(pub)
	}
	if be != nil {
		out.Intact, out.Break = false, be
	}
	if !pinned {
		return fmt.Sprintf("checked against the key the export names (%s): compare it with the key id the server prints (tarian audit verify), or pass --public-key", h.KeyID), nil
	}
	return "", nil
}

func runAuditExport(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("audit export", env)
	ten := fs.String("tenant", "", "the tenant whose chain to export (* the provider chain; a tenant-admin's default: its own)")
	outPath := fs.String("out", "", "write to this file instead of stdout")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, "GET", "/api/v1/audit/export"+auditQuery(*ten, nil), nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	w := env.Stdout
	if *outPath != "" {
		f, err := os.OpenFile(*outPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if f, ok := w.(*os.File); ok && *outPath != "" {
		return f.Close()
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
