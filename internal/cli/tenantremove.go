package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/web"
)

// runTenantRemove removes a tenant (DELETE /api/v1/tenants/ID): with
// --export FILE, its data is written to FILE first (FILE.partial until the
// receipt vouches for it) and the receipt to FILE.receipt.json; the
// receipt is printed either way.
func runTenantRemove(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("tenant remove", env)
	export := fs.String("export", "", "write the tenant's data to FILE before it is deleted")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: tarian tenant remove ID [--export FILE]")
	}
	if pos[0] == "*" {
		return usageError("tenant remove takes one member's ID, never * (every member)")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	hc := *c.hc
	hc.Timeout = 0 // an export takes as long as it takes; ctx ends it
	c.hc = &hc
	path := "/api/v1/tenants/" + url.PathEscape(pos[0])
	var partial string
	var f *os.File
	if *export != "" {
		partial = *export + ".partial"
		if f, err = openPartial(*export); err != nil {
			return err
		}
	}
	// A member that does not exist is said so before anything that
	// sounds like a removal is printed.
	if err := tenantExists(ctx, c, pos[0]); err != nil {
		if f != nil {
			f.Close()
			os.Remove(partial)
		}
		return err
	}
	if *export == "" {
		fmt.Fprintf(env.Stderr, "removing %s: its writes are refused; waiting for what it sent before, then deleting it\n", pos[0])
		var rec audit.Receipt
		if err := c.json(ctx, "DELETE", path, nil, &rec); err != nil {
			return err
		}
		return printReceipt(env, rec)
	}
	fmt.Fprintf(env.Stderr, "removing %s: its writes are refused; waiting for what it sent before, then exporting it to %s\n", pos[0], *export)
	resp, err := c.do(ctx, "DELETE", path+"?export=true", nil, "")
	if err != nil {
		f.Close()
		os.Remove(partial)
		return err
	}
	defer resp.Body.Close()
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), resp.Body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("receive the export (kept as %s; the server logs whether the tenant was removed): %w", partial, err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(resp.Trailer.Get(web.ReceiptTrailer))
	var rec audit.Receipt
	if err == nil {
		err = json.Unmarshal(raw, &rec)
	}
	if err != nil || rec.Export == nil {
		return fmt.Errorf("the export ended without a receipt (kept as %s; the server logs why)", partial)
	}
	// The tenant is gone now, and the receipt is the proof of it: it is
	// written and printed whatever fails next.
	kept := keepExport(partial, *export, hex.EncodeToString(h.Sum(nil)), rec)
	receipt := *export + ".receipt.json"
	werr := writeReceipt(receipt, rec)
	if werr == nil {
		werr = syncDirOf(*export)
	}
	if err := errors.Join(kept, werr); err != nil {
		if perr := printReceipt(env, rec); perr != nil {
			return fmt.Errorf("%s was removed, but its receipt could not be written or printed: %w", pos[0], errors.Join(err, perr))
		}
		return fmt.Errorf("%s was removed (its receipt is printed above), but: %w", pos[0], err)
	}
	fmt.Fprintf(env.Stderr, "export %s (%d bytes, SHA-256 %s), receipt %s\n", *export, rec.Export.Bytes, rec.Export.SHA256, receipt)
	return printReceipt(env, rec)
}

// keepExport renames the export received at partial to file once it is
// the one the receipt vouches for (sum is its SHA-256, hex).
func keepExport(partial, file, sum string, rec audit.Receipt) error {
	if sum != rec.Export.SHA256 {
		return fmt.Errorf("the export received has SHA-256 %s, the receipt says %s (kept as %s)", sum, rec.Export.SHA256, partial)
	}
	if err := audit.VerifyReceipt(rec, nil); err != nil {
		return fmt.Errorf("receipt: %w (the export is kept as %s)", err, partial)
	}
	if err := os.Rename(partial, file); err != nil {
		return fmt.Errorf("the export is kept as %s: %w", partial, err)
	}
	return nil
}

// tenantExists checks that the caller sees tenant id (GET /api/v1/tenants).
func tenantExists(ctx context.Context, c *client, id string) error {
	var out struct {
		Tenants []struct {
			ID string `json:"id"`
		} `json:"tenants"`
	}
	if err := c.json(ctx, "GET", "/api/v1/tenants", nil, &out); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusForbidden {
			return nil // the removal's own answer says why this token may not
		}
		return err
	}
	for _, t := range out.Tenants {
		if t.ID == id {
			return nil
		}
	}
	return fmt.Errorf("tenant not found: %s (tarian tenant list shows the members); nothing was removed", id)
}

func printReceipt(env Env, rec audit.Receipt) error {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rec)
}

func writeReceipt(path string, rec audit.Receipt) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// runVerifyReceipt checks a removal receipt's signature, against the
// server's public key when given (tarian audit verify --json prints it),
// and with --export that the export file is the one it vouches for.
func runVerifyReceipt(_ context.Context, args []string, env Env) error {
	fs := newFlagSet("tenant verify-receipt", env)
	pubHex := fs.String("public-key", "", "the server's audit public key (hex); without it only integrity is checked")
	export := fs.String("export", "", "the export FILE the receipt names")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: tarian tenant verify-receipt FILE [--public-key HEX] [--export FILE]")
	}
	b, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	var rec audit.Receipt
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	var pub []byte
	if *pubHex != "" {
		if pub, err = audit.ParsePublicKey(*pubHex); err != nil {
			return usageError(err.Error())
		}
	}
	if err := audit.VerifyReceipt(rec, pub); err != nil {
		return err
	}
	if *export != "" {
		if rec.Export == nil {
			return errors.New("the receipt names no export")
		}
		f, err := os.Open(*export)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != rec.Export.SHA256 {
			return fmt.Errorf("%s has SHA-256 %s, the receipt says %s", *export, got, rec.Export.SHA256)
		}
	}
	who := "the key it names (" + rec.KeyID + "; compare it with the server's: tarian audit verify --json)"
	if pub != nil {
		who = "the server's key " + rec.KeyID
	}
	fmt.Fprintf(env.Stdout, "receipt of the removal of %s at %s: signature good, by %s\n", rec.Tenant, rec.Removed.Format("2006-01-02T15:04:05Z07:00"), who)
	if *export != "" {
		fmt.Fprintf(env.Stdout, "export %s matches (SHA-256 %s)\n", *export, rec.Export.SHA256)
	}
	return nil
}
