package server

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/tenant"
	"github.com/tarian-soc/tarian/internal/web"
)

// ErrTenantInUse is returned by RemoveTenant while the configuration still
// sends records to the tenant (a listener names it).
var ErrTenantInUse = web.ErrTenantInUse

// RemoveOptions are a removal's choices.
type RemoveOptions struct {
	// Actor is who asked (a token or user ID), for the receipt.
	Actor string
	// Export, when set, is called once before anything is deleted; the
	// member's data is written to the writer it returns as a zstd tar
	// (see docs/operations.md), and deletion starts only once it is
	// written whole.
	Export func() io.Writer
	// Revoked is called once the tenant's tokens and users are deleted
	// (the API drops its cached credentials there).
	Revoked func()
}

// RemoveTenant removes tenant id and everything of it (offboarding):
//
//  1. It refuses while a listener of the configuration names the tenant
//     (ErrTenantInUse): take it out and reload first.
//  2. Every write for the tenant is refused from now on, on every node
//     (removalGuard; the other nodes are told through the change bucket);
//     its credentials stay, so a removal that ends here (the client went,
//     the export failed) leaves the member as it was. After
//     bus.publish_timeout (a write begun before has ended by then), the
//     bus's last position S is taken and the removal waits until the
//     indexer, the detector and the raw archive have processed the stream
//     through S. Nothing of the tenant then follows S on the bus, so no
//     consumer meets a record of a tenant that no longer exists.
//  3. With an export, the member's data is written: events (NDJSON, from
//     the event store), every state row (alerts, cases, rules, assets, ...
//     secrets left out), the audit chain (verifiable export), case
//     evidence and the raw archive, with a manifest of SHA-256s last.
//  4. From here the removal runs to its end even if the client goes: its
//     cloud sources stop, its events, raw archive, evidence files and
//     every state row (tokens and users among them), its audit chain and
//     the tenant record are deleted, and the caches
//     that knew it forget it; a tenant created later with the same ID
//     starts empty (a new event-store account).
//  5. The receipt (counts per kind, the export's SHA-256) is signed with
//     the audit checkpoint key.
//
// The caller audits the removal in the provider's chain.
func (s *Server) RemoveTenant(ctx context.Context, id tenant.ID, o RemoveOptions) (audit.Receipt, error) {
	s.removeMu.Lock()
	defer s.removeMu.Unlock()
	tn, err := s.db.Tenant(ctx, id)
	if err != nil {
		return audit.Receipt{}, err
	}
	if n := s.receivers.tenants()[id]; n > 0 {
		return audit.Receipt{}, fmt.Errorf("%w: %d listener(s) send to %s; remove them from the configuration and reload first", ErrTenantInUse, n, id)
	}
	signer, err := AuditSigner(s.cfg.Data, s.cfg.SecretKey)
	if err != nil {
		return audit.Receipt{}, err
	}
	began := time.Now()

	// 2. Nothing new for the tenant: writes refused from here on, on
	// every node. Its credentials stay until the deletion, so a removal
	// that ends before it (the client went, the export failed) leaves the
	// member as it was.
	s.removing.begin(id)
	s.announce(ctx, changeTenantRemoving+string(id))
	beat := s.beatRemoval(id)
	committed := false
	defer func() {
		beat()
		s.removing.end(id)
		if !committed {
			s.announce(ctx, changeTenantKept+string(id))
			s.log.Warn("tenant removal ended before anything was deleted; the member is as it was", "tenant", id)
		}
	}()
	s.log.Info("tenant removal: writes refused; waiting for what was sent before", "tenant", id)
	select {
	case <-ctx.Done():
		return audit.Receipt{}, ctx.Err()
	case <-time.After(s.cfg.Bus.PublishTimeout):
	}
	seq, err := s.bus.LastSeq(ctx)
	if err != nil {
		return audit.Receipt{}, fmt.Errorf("remove tenant: bus position: %w", err)
	}
	// The member's partition may run on another node: that node's source
	// health monitor forgets it when told of the removal (cluster.go).
	mon, err := s.monitorFor(ctx, id) // partitions.go
	if err != nil && !errors.Is(err, errElsewhere) {
		return audit.Receipt{}, fmt.Errorf("remove tenant: %w", err)
	}
	if s.parts.held() > 0 || s.leases != nil {
		if err := s.waitConsumers(ctx, seq); err != nil {
			return audit.Receipt{}, fmt.Errorf("remove tenant: %w", err)
		}
		// The source health monitor saves seldom: once it has read as far,
		// it forgets the member and saves its checkpoint past it.
		for mon != nil && mon.Position() < seq {
			select {
			case <-ctx.Done():
				return audit.Receipt{}, ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	head, err := s.db.AuditChain(ctx, string(id), 1<<62, 1)
	if err != nil {
		return audit.Receipt{}, err
	}

	r := audit.Receipt{Tenant: string(id), Name: tn.Name, Actor: o.Actor, Deleted: map[string]int64{}}
	if len(head) > 0 {
		r.AuditSeq, r.AuditHead = head[0].Seq, head[0].Hash.String()
	}
	// 3. The export.
	if o.Export != nil {
		exp, err := s.exportTenant(ctx, id, o.Export())
		if err != nil {
			return audit.Receipt{}, fmt.Errorf("remove tenant: export: %w (nothing deleted)", err)
		}
		r.Export = &exp
	}

	// 4. Deletion: it runs to its end even if the client goes now (the
	// export, if any, is written whole).
	committed = true
	ctx = context.WithoutCancel(ctx)
	// The member's indicators first stop matching (revoked in the
	// in-memory index; their rows go with the rest below), and its cloud
	// sources stop polling.
	revoked, err := s.revokeIndicators(ctx, id)
	if err != nil {
		return audit.Receipt{}, fmt.Errorf("remove tenant: indicators: %w", err)
	}
	srcs, err := s.poll.List(ctx, id)
	if err != nil {
		return audit.Receipt{}, fmt.Errorf("remove tenant: %w", err)
	}
	for _, src := range srcs {
		if err := s.poll.Remove(ctx, id, src.ID); err != nil {
			return audit.Receipt{}, fmt.Errorf("remove tenant: %w", err)
		}
	}
	if len(srcs) > 0 {
		r.Deleted["state.cloud_sources"] = int64(len(srcs))
	}
	if mon != nil {
		if err := mon.Forget(ctx, id); err != nil {
			return audit.Receipt{}, fmt.Errorf("remove tenant: source health: %w", err)
		}
	}
	n, err := s.events.Delete(ctx, id, time.Time{})
	if err != nil {
		return audit.Receipt{}, fmt.Errorf("remove tenant: %w", err)
	}
	r.Deleted["events"] = int64(n)
	days, err := s.raw.Remove(id)
	if err != nil {
		return audit.Receipt{}, fmt.Errorf("remove tenant: %w", err)
	}
	r.Deleted["raw_days"] = int64(days)
	evDir := filepath.Join(s.cfg.Data, "evidence", string(id))
	files := 0
	if err := walkFiles(evDir, func(string, string) error { files++; return nil }); err != nil {
		return audit.Receipt{}, fmt.Errorf("remove tenant: %w", err)
	}
	if err := os.RemoveAll(evDir); err != nil {
		return audit.Receipt{}, fmt.Errorf("remove tenant: evidence: %w", err)
	}
	r.Deleted["evidence_files"] = int64(files)
	rows, err := s.db.RemoveTenant(ctx, id)
	if err != nil {
		return audit.Receipt{}, fmt.Errorf("remove tenant: %w", err)
	}
	for table, n := range rows {
		r.Deleted["state."+table] += n
	}
	if o.Revoked != nil {
		o.Revoked()
	}
	s.forgetTenant(ctx, id)
	s.announce(ctx, changeTenantRemoved+string(id)) // the other nodes forget it too
	r.Removed = time.Now().UTC()
	r = signer.SignReceipt(r)
	s.log.Info("tenant removed", "tenant", id, "events", n, "raw_days", days, "evidence_files", files, "indicators_revoked", revoked,
		"exported", r.Export != nil, "took", time.Since(began).Round(time.Millisecond))
	return r, nil
}

// exportChunk is the most NDJSON an export entry holds; more goes on in
// the next entry (events/000002.ndjson, ...), so memory stays bounded.
const exportChunk = 8 << 20

// ExportManifest is the last entry of an export (manifest.json).
type ExportManifest struct {
	Tenant   string    `json:"tenant"`
	Name     string    `json:"name"`
	Exported time.Time `json:"exported"`
	// Counts are the events, state rows (state.<table>), audit records and
	// files exported.
	Counts map[string]int64 `json:"counts"`
	// Files are every other entry's SHA-256 (hex), by path.
	Files map[string]string `json:"files"`
}

// exportTenant writes tenant id's data to w as a zstd-compressed tar and
// returns its size and SHA-256 (of the bytes written to w).
func (s *Server) exportTenant(ctx context.Context, id tenant.ID, w io.Writer) (audit.ReceiptExport, error) {
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, h)}
	zw, err := zstd.NewWriter(cw, zstd.WithEncoderConcurrency(1))
	if err != nil {
		return audit.ReceiptExport{}, err
	}
	tw := tar.NewWriter(zw)
	x := &exporter{tw: tw, m: ExportManifest{Tenant: string(id), Exported: time.Now().UTC(), Counts: map[string]int64{}, Files: map[string]string{}}}
	if tn, err := s.db.Tenant(ctx, id); err == nil {
		x.m.Name = tn.Name
	}

	// Events, as NDJSON: every field by name, with the tenant.
	ev := x.ndjson("events")
	err = s.events.Export(ctx, id, func(r logstore.Row) error {
		obj := make(map[string]string, len(r.Fields)+1)
		for _, f := range r.Fields {
			obj[f.Name] = f.Value
		}
		if _, ok := obj["@timestamp"]; !ok && !r.Time.IsZero() {
			obj["@timestamp"] = r.Time.UTC().Format(time.RFC3339Nano)
		}
		x.m.Counts["events"]++
		return ev.add(obj)
	})
	if err == nil {
		err = ev.close()
	}
	if err != nil {
		return audit.ReceiptExport{}, err
	}

	// State rows, one NDJSON series per table.
	series := map[string]*ndjsonSeries{}
	err = s.db.ExportTenant(ctx, id, func(table string, row map[string]any) error {
		sr := series[table]
		if sr == nil {
			sr = x.ndjson("state/" + table)
			series[table] = sr
		}
		x.m.Counts["state."+table]++
		return sr.add(row)
	})
	if err != nil {
		return audit.ReceiptExport{}, err
	}
	tables := make([]string, 0, len(series))
	for t := range series {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		if err := series[t].close(); err != nil {
			return audit.ReceiptExport{}, err
		}
	}

	// The audit chain, as tarian audit export writes it (verifiable with
	// tarian audit verify --file).
	signer, err := AuditSigner(s.cfg.Data, s.cfg.SecretKey)
	if err != nil {
		return audit.ReceiptExport{}, err
	}
	pub := signer.PublicKey()
	var ab bytes.Buffer
	aw, err := audit.NewExportWriter(&ab, audit.Header{Chain: string(id), PublicKey: hex.EncodeToString(pub), KeyID: audit.KeyID(pub), Exported: x.m.Exported})
	if err != nil {
		return audit.ReceiptExport{}, err
	}
	err = s.db.ExportAudit(ctx, string(id), aw.Checkpoint, func(r audit.Record) error {
		x.m.Counts["audit"]++
		return aw.Record(r)
	})
	if err != nil {
		return audit.ReceiptExport{}, err
	}
	if err := x.entry("audit.jsonl", ab.Bytes()); err != nil {
		return audit.ReceiptExport{}, err
	}

	// Files: case evidence and the raw archive, as they are on disk.
	for _, dir := range []struct{ name, path string }{
		{"evidence", filepath.Join(s.cfg.Data, "evidence", string(id))},
		{"raw", s.raw.Dir(id)},
	} {
		err := walkFiles(dir.path, func(rel, path string) error {
			if filepath.Ext(rel) == ".tmp" {
				return nil
			}
			x.m.Counts[dir.name+"_files"]++
			return x.file(dir.name+"/"+rel, path)
		})
		if err != nil {
			return audit.ReceiptExport{}, err
		}
	}

	m, err := json.MarshalIndent(x.m, "", "  ")
	if err != nil {
		return audit.ReceiptExport{}, err
	}
	if err := x.put("manifest.json", m); err != nil {
		return audit.ReceiptExport{}, err
	}
	if err := tw.Close(); err != nil {
		return audit.ReceiptExport{}, err
	}
	if err := zw.Close(); err != nil {
		return audit.ReceiptExport{}, err
	}
	if f, ok := w.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			return audit.ReceiptExport{}, err
		}
	}
	return audit.ReceiptExport{SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: cw.n}, nil
}

// exporter writes an export's tar entries and notes their SHA-256s.
type exporter struct {
	tw *tar.Writer
	m  ExportManifest
}

// entry writes one entry and records it in the manifest.
func (x *exporter) entry(name string, b []byte) error {
	sum := sha256.Sum256(b)
	x.m.Files[name] = hex.EncodeToString(sum[:])
	return x.put(name, b)
}

func (x *exporter) put(name string, b []byte) error {
	if err := x.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: x.m.Exported, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := x.tw.Write(b)
	return err
}

// file copies a file on disk into the export.
func (x *exporter) file(name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := x.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: fi.Size(), ModTime: fi.ModTime(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(x.tw, h), io.LimitReader(f, fi.Size())); err != nil {
		return err
	}
	x.m.Files[name] = hex.EncodeToString(h.Sum(nil))
	return nil
}

// ndjsonSeries writes JSON lines as entries of at most exportChunk bytes:
// <prefix>/000001.ndjson, ...
type ndjsonSeries struct {
	x      *exporter
	prefix string
	buf    bytes.Buffer
	n      int
}

func (x *exporter) ndjson(prefix string) *ndjsonSeries { return &ndjsonSeries{x: x, prefix: prefix} }

func (s *ndjsonSeries) add(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	s.buf.Write(b)
	s.buf.WriteByte('\n')
	if s.buf.Len() >= exportChunk {
		return s.flush()
	}
	return nil
}

func (s *ndjsonSeries) flush() error {
	if s.buf.Len() == 0 {
		return nil
	}
	s.n++
	err := s.x.entry(s.prefix+"/"+fmt.Sprintf("%06d", s.n)+".ndjson", s.buf.Bytes())
	s.buf.Reset()
	return err
}

func (s *ndjsonSeries) close() error { return s.flush() }

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// offboarder is the server as the API's web.Offboarder.
type offboarder struct{ s *Server }

func (o offboarder) RemoveTenant(ctx context.Context, id tenant.ID, actor string, export func() io.Writer, revoked func()) (audit.Receipt, error) {
	return o.s.RemoveTenant(ctx, id, RemoveOptions{Actor: actor, Export: export, Revoked: revoked})
}

func (o offboarder) ApplyRetention(ctx context.Context) ([]web.RetentionDeleted, error) {
	ds, err := o.s.ApplyRetention(ctx, time.Now())
	out := make([]web.RetentionDeleted, len(ds))
	for i, d := range ds {
		out[i] = web.RetentionDeleted(d)
	}
	return out, err
}

// A node removing a tenant says so again every removalBeat; another node
// that has not heard it for removalHeard (the removing node died, or its
// word that the member was kept got lost) takes writes again: a member
// whose deletion began has no tokens left to write with.
const (
	removalBeat  = 30 * time.Second
	removalHeard = 2 * time.Minute
)

// removals are the tenants being removed, whose writes are refused: by
// this node (until it says otherwise) or by another (while it keeps
// saying so).
type removals struct {
	m   sync.Map         // tenant.ID → time.Time last heard; zero: removed here
	now func() time.Time // nil: time.Now
}

func (r *removals) clock() time.Time {
	if r.now != nil {
		return r.now()
	}
	return time.Now()
}

// begin marks a removal this node runs.
func (r *removals) begin(id tenant.ID) { r.m.Store(id, time.Time{}) }

// heard marks a removal another node runs, as said now.
func (r *removals) heard(id tenant.ID) { r.m.Store(id, r.clock()) }

// end forgets a removal.
func (r *removals) end(id tenant.ID) { r.m.Delete(id) }

// refused says whether id's writes are refused.
func (r *removals) refused(id tenant.ID) bool {
	v, ok := r.m.Load(id)
	if !ok {
		return false
	}
	at := v.(time.Time)
	if at.IsZero() || r.clock().Sub(at) < removalHeard {
		return true
	}
	r.m.CompareAndDelete(id, v)
	return false
}

// removalGuard is the bus as the receivers write to it, refusing the
// records of a tenant being removed (as a tenant not found).
type removalGuard struct {
	next     ingest.Sink
	removing *removals
}

func (g removalGuard) Write(ctx context.Context, t tenant.ID, recs []event.Raw) error {
	if g.removing.refused(t) {
		return fmt.Errorf("%w: %s is being removed", tenant.ErrNotFound, t)
	}
	return g.next.Write(ctx, t, recs)
}

// beatRemoval repeats the announcement of id's removal to the other nodes
// every removalBeat until the returned function is called.
func (s *Server) beatRemoval(id tenant.ID) (stop func()) {
	if s.changes == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(removalBeat)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				s.announce(context.Background(), changeTenantRemoving+string(id))
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// revokeIndicators revokes every indicator tenant id owns, so none matches
// any longer, and returns how many.
func (s *Server) revokeIndicators(ctx context.Context, id tenant.ID) (int, error) {
	n := 0
	var after int64
	for {
		is, next, err := s.intel.List(ctx, intel.Filter{Provider: true, Owner: string(id), After: after, Limit: 500})
		if err != nil {
			return n, err
		}
		for _, i := range is {
			if _, err := s.intel.Revoke(ctx, i.ID, id, true); err != nil {
				return n, err
			}
			n++
		}
		if next == 0 {
			return n, nil
		}
		after = next
	}
}
