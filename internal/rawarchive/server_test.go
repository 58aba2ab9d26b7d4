package rawarchive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/rawarchive"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// The server archives every raw record by default: each searched event's
// record is in the archive under its tenant, by tarian.seq and tarian.idx,
// and hashes to its event.hash.
func TestServerArchivesByDefault(t *testing.T) {
	cfg := servertest.Config(filepath.Join(t.TempDir(), "data"))
	if !cfg.RawArchive {
		t.Fatal("raw_archive is off by default")
	}
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "council-a")
	s.AddTenant(t, "council-b")
	body := []byte(`{"message":"alice logged on","user":"alice"}` + "\n" + `{"message":"bob logged on","user":"bob"}` + "\n")
	if status, b := s.Do(t, http.MethodPost, "/api/v1/ingest", s.Token(t, "council-a", "ingest"), body); status != http.StatusOK {
		t.Fatalf("ingest: %d %s", status, b)
	}
	analyst := s.Token(t, "council-a", "tenant-analyst")
	var rows []map[string]string
	for deadline := time.Now().Add(20 * time.Second); len(rows) < 2 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		status, b := s.Do(t, http.MethodGet, "/api/v1/search?q="+url.QueryEscape("*"), analyst, nil)
		if status != http.StatusOK {
			t.Fatalf("search: %d %s", status, b)
		}
		rows = rows[:0]
		for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			var row map[string]string
			if len(line) > 0 && json.Unmarshal(line, &row) == nil {
				rows = append(rows, row)
			}
		}
	}
	if len(rows) != 2 {
		t.Fatalf("search: %v, want 2 events", rows)
	}
	a, err := rawarchive.Open(rawarchive.Config{Dir: filepath.Join(cfg.Data, "raw")}, rawarchive.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	for _, row := range rows {
		seq, err := strconv.ParseUint(row[event.FieldSeq], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		idx, _, err := event.ParseIndex(row[event.FieldIdx])
		if err != nil {
			t.Fatal(err)
		}
		var data []byte
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if data, err = a.Record(ctx, "council-a", seq, idx); !errors.Is(err, rawarchive.ErrNotFound) {
				break
			}
		}
		if err != nil {
			t.Fatalf("%d:%d: %v", seq, idx, err)
		}
		if event.Hash(data) != row[event.FieldHash] || !bytes.Contains(data, []byte(row["message"])) {
			t.Errorf("%d:%d: archived %q, event.hash %s, message %q", seq, idx, data, row[event.FieldHash], row["message"])
		}
		if _, err := a.Record(ctx, "council-b", seq, idx); !errors.Is(err, rawarchive.ErrNotFound) {
			t.Errorf("council-b reads council-a's record %d:%d: %v", seq, idx, err)
		}
	}
}
