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
	if *export == "" {
		fmt.Fprintf(env.Stderr, "removing %s: its writes are refused; waiting for what it sent before, then deleting it\n", pos[0])
		var rec audit.Receipt
		if err := c.json(ctx, "DELETE", path, nil, &rec); err != nil {
			return err
		}
		return printReceipt(env, rec)
	}
	partial := *export + ".partial"
	f, err := openPartial(*export)
	if err != nil {
		return err
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
	if got := hex.EncodeToString(h.Sum(nil)); got != rec.Export.SHA256 {
		return fmt.Errorf("the export received has SHA-256 %s, the receipt says %s (kept as %s)", got, rec.Export.SHA256, partial)
	}
	if err := audit.VerifyReceipt(rec, nil); err != nil {
		return fmt.Errorf("receipt: %w", err)
	}
	if err := os.Rename(partial, *export); err != nil {
		return err
	}
	if err := writeReceipt(*export+".receipt.json", rec); err != nil {
		return err
	}
	if err := syncDirOf(*export); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "export %s (%d bytes, SHA-256 %s), receipt %s.receipt.json\n", *export, rec.Export.Bytes, rec.Export.SHA256, *export)
	return printReceipt(env, rec)
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
