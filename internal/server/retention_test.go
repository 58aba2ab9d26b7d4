package server_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/config"
	"github.com/tarian-soc/tarian/internal/server"
	"github.com/tarian-soc/tarian/internal/server/servertest"
	"github.com/tarian-soc/tarian/internal/web"
)

const day = 24 * time.Hour

// ingestAged sends, for tenant token tok, events tagged tag at each age.
func ingestAged(t *testing.T, s *servertest.Server, tok, tag string, ages ...time.Duration) {
	t.Helper()
	var b strings.Builder
	for i, age := range ages {
		line, _ := json.Marshal(map[string]any{"@timestamp": time.Now().Add(-age).UTC().Format(time.RFC3339Nano),
			"message": fmt.Sprintf("%s event %d", tag, i), "tag": tag, "host.name": "h1"})
		b.Write(line)
		b.WriteByte('\n')
	}
	if status, body := s.Do(t, "POST", "/api/v1/ingest", tok, []byte(b.String())); status != http.StatusOK {
		t.Fatalf("ingest: %d %s", status, body)
	}
}

func twoTenants(t *testing.T, cfg config.Config) (s *servertest.Server, ingest, read map[string]string) {
	t.Helper()
	cfg.Bus.PublishTimeout = time.Second
	s = servertest.Start(t, cfg)
	ingest, read = map[string]string{}, map[string]string{}
	for _, id := range []string{"north-vale", "south-fire"} {
		s.AddTenant(t, id)
		ingest[id] = s.Token(t, id, "ingest")
		read[id] = s.Token(t, id, "tenant-viewer")
		ingestAged(t, s, ingest[id], "ret", 40*day, 35*day, time.Hour)
	}
	for _, id := range []string{"north-vale", "south-fire"} {
		waitCount(t, s, read[id], "tag:ret", 3)
	}
	return s, ingest, read
}

// TestRetentionPerTenant: a tenant's retention deletes exactly its expired
// events, the other tenant's stay; again at the same time deletes nothing;
// at a later time (an injected clock) the events that expired by then.
func TestRetentionPerTenant(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.Retention.Tenants = map[string]config.Keep{"north-vale": {Events: 30 * day, DeadLetters: day}}
	s, _, read := twoTenants(t, cfg)

	now := time.Now()
	ds, err := s.ApplyRetention(t.Context(), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Tenant != "north-vale" || ds[0].Events != 2 {
		t.Fatalf("retention deleted %+v, want 2 events of north-vale only", ds)
	}
	waitCount(t, s, read["north-vale"], "tag:ret", 1)
	waitCount(t, s, read["south-fire"], "tag:ret", 3)
	if ds, err := s.ApplyRetention(t.Context(), now); err != nil || ds[0].Events != 0 {
		t.Errorf("second run: %+v, %v; want nothing deleted", ds, err)
	}
	// 31 days on, north-vale's last event has expired too.
	if ds, err := s.ApplyRetention(t.Context(), now.Add(31*day)); err != nil || ds[0].Events != 1 {
		t.Errorf("31 days on: %+v, %v; want 1 deleted", ds, err)
	}
	waitCount(t, s, read["north-vale"], "tag:ret", 0)
	waitCount(t, s, read["south-fire"], "tag:ret", 3)
	if got := metric(t, s, server.MetricRetentionEvents+`{tenant="north-vale"}`); !strings.HasSuffix(got, " 3") {
		t.Errorf("metric: %q, want 3", got)
	}
}

// TestRetentionReload: retention read again (SIGHUP) applies at the next
// run, without a restart.
func TestRetentionReload(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	s, _, read := twoTenants(t, cfg)
	if ds, err := s.ApplyRetention(t.Context(), time.Now()); err != nil || len(ds) != 0 {
		t.Fatalf("no retention of its own: %+v, %v; want nothing", ds, err)
	}
	next := cfg
	next.Retention.Tenants = map[string]config.Keep{"south-fire": {Events: 30 * day}}
	if err := s.Reload(t.Context(), next); err != nil {
		t.Fatal(err)
	}
	ds, err := s.ApplyRetention(t.Context(), time.Now())
	if err != nil || len(ds) != 1 || ds[0].Tenant != "south-fire" || ds[0].Events != 2 {
		t.Fatalf("after the reload: %+v, %v; want south-fire's 2 old events", ds, err)
	}
	waitCount(t, s, read["south-fire"], "tag:ret", 1)
	waitCount(t, s, read["north-vale"], "tag:ret", 3)
}

// TestRemoveTenantExport: the export holds the tenant's events, the
// receipt is signed by the audit key and names the export's SHA-256, and
// the other tenant keeps everything.
func TestRemoveTenantExport(t *testing.T) {
	dir := t.TempDir()
	s, ingest, read := twoTenants(t, servertest.Config(dir))
	buf, rec := removeOverHTTP(t, s, "north-vale")
	signer, err := server.AuditSigner(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.VerifyReceipt(rec, signer.PublicKey()); err != nil {
		t.Errorf("receipt: %v", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	if rec.Export == nil || rec.Export.SHA256 != hex.EncodeToString(sum[:]) || rec.Export.Bytes != int64(buf.Len()) {
		t.Errorf("receipt export %+v, export is %d bytes %x", rec.Export, buf.Len(), sum)
	}
	if rec.Deleted["events"] != 3 || rec.Deleted["state.tenants"] != 1 || rec.Deleted["state.tokens"] != 2 {
		t.Errorf("deleted %v", rec.Deleted)
	}
	files := untar(t, buf.Bytes())
	var m server.ExportManifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if m.Counts["events"] != 3 || strings.Count(string(files["events/000001.ndjson"]), "\n") != 3 {
		t.Errorf("export counts %v, events %q", m.Counts, files["events/000001.ndjson"])
	}
	for name, want := range m.Files {
		got := sha256.Sum256(files[name])
		if hex.EncodeToString(got[:]) != want {
			t.Errorf("%s: SHA-256 differs from the manifest", name)
		}
	}
	if _, _, err := audit.VerifyExport(bytes.NewReader(files["audit.jsonl"]), signer.PublicKey()); err != nil {
		t.Errorf("audit chain export: %v", err)
	}

	if status, _ := s.Do(t, "POST", "/api/v1/ingest", ingest["north-vale"], []byte(`{"message":"late"}`)); status != http.StatusUnauthorized {
		t.Errorf("ingest with a removed tenant's token: %d, want 401", status)
	}
	waitCount(t, s, read["south-fire"], "tag:ret", 3)
	// The bus read goes on for the others.
	ingestAged(t, s, ingest["south-fire"], "after", time.Minute)
	waitCount(t, s, read["south-fire"], "tag:after", 1)
	// The same ID again starts empty.
	s.AddTenant(t, "north-vale")
	again := s.Token(t, "north-vale", "tenant-viewer")
	waitCount(t, s, again, "*", 0)
}

// TestRemoveTenantAbortedKeepsItWhole: a removal whose client goes before
// the deletion (here while it waits for what the member sent) leaves the
// member as it was: its tokens work, its events and writes are back; a
// removal after that deletes everything, tokens counted.
func TestRemoveTenantAbortedKeepsItWhole(t *testing.T) {
	s, ingest, read := twoTenants(t, servertest.Config(t.TempDir()))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "DELETE", s.URL+"/api/v1/tenants/north-vale?export=true", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+servertest.AdminToken)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the removal answered %d before its client went", resp.StatusCode)
	}
	// The server sees the client go; the removal ends and writes come back.
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body := s.Do(t, "POST", "/api/v1/ingest", ingest["north-vale"], []byte(`{"message":"after","tag":"kept"}`))
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ingest after an aborted removal: %d %s", status, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitCount(t, s, read["north-vale"], "tag:ret", 3)
	waitCount(t, s, read["north-vale"], "tag:kept", 1)

	_, rec := removeOverHTTP(t, s, "north-vale")
	if rec.Deleted["events"] != 4 || rec.Deleted["state.tokens"] != 2 || rec.Deleted["state.tenants"] != 1 {
		t.Errorf("deleted %v, want 4 events, 2 tokens, the tenant", rec.Deleted)
	}
}

func untar(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zstd.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = data
	}
}

// removeOverHTTP removes tenant id with an export through the API and
// returns the export and the receipt from the trailer.
func removeOverHTTP(t *testing.T, s *servertest.Server, id string) (*bytes.Buffer, audit.Receipt) {
	t.Helper()
	req, err := http.NewRequest("DELETE", s.URL+"/api/v1/tenants/"+id+"?export=true", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+servertest.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("remove %s: %d %s", id, resp.StatusCode, buf.Bytes())
	}
	raw, err := base64.RawURLEncoding.DecodeString(resp.Trailer.Get(web.ReceiptTrailer))
	if err != nil {
		t.Fatalf("receipt trailer %q: %v", resp.Trailer.Get(web.ReceiptTrailer), err)
	}
	var rec audit.Receipt
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	return &buf, rec
}

// TestRetentionForgetsCountedEvents: the retention job forgets which
// events the alerts counted once they are older than alerts.event_memory:
// the same event sent again before that counts once, after it counts
// again; the alert stays.
func TestRetentionForgetsCountedEvents(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	importDemoRules(t, s)
	s.AddTenant(t, "north-vale")
	ingest, analyst := s.Token(t, "north-vale", "ingest"), s.Token(t, "north-vale", "tenant-analyst")
	line := vssadminEvent("nv-dc1")
	// send sends the event again and waits until the detector has read
	// it; counted is how many events the tenant's alerts count in all.
	send := func() {
		t.Helper()
		if status, body := s.Do(t, http.MethodPost, "/api/v1/ingest", ingest, line); status != http.StatusOK {
			t.Fatalf("ingest: %d %s", status, body)
		}
		for deadline := time.Now().Add(20 * time.Second); metrics(t, s)["tarian_detector_lag_messages"] != 0; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the detector did not read the event")
			}
		}
	}
	counted := func() int { return alertedEvents(t, s, analyst) }
	send()
	if n := counted(); n != 1 {
		t.Fatalf("alerts count %d events, want 1", n)
	}
	if _, err := s.ApplyRetention(t.Context(), time.Now()); err != nil {
		t.Fatal(err)
	}
	send()
	if n := counted(); n != 1 {
		t.Fatalf("sent again within alerts.event_memory, alerts count %d events; want 1", n)
	}
	if _, err := s.ApplyRetention(t.Context(), time.Now().Add(31*day)); err != nil {
		t.Fatal(err)
	}
	if got := metric(t, s, server.MetricRetentionAlertEvents); got == "" || strings.HasSuffix(got, " 0") {
		t.Fatalf("forgotten events metric %q, want some", got)
	}
	send()
	if n := counted(); n != 2 {
		t.Errorf("sent again once its mark was forgotten, alerts count %d events; want 2", n)
	}
}
