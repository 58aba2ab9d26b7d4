package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/bus"
	"github.com/tarian-soc/tarian/internal/detector"
	"github.com/tarian-soc/tarian/internal/server/servertest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// TestPartitionsEmbedded: with bus.partitions on the embedded bus, the one
// node runs every partition's stage, each with its own checkpoints: every
// member's events are stored and detected once, the metrics add the
// partitions up, and a restart resumes each partition where it was.
func TestPartitionsEmbedded(t *testing.T) {
	dir := t.TempDir()
	mapping := filepath.Join(dir, "mapping.yaml")
	if err := os.WriteFile(mapping, []byte("logsources:\n  - {product: azure, service: signinlogs, when: [{event.dataset: azure.signinlogs}]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := servertest.Config(filepath.Join(dir, "data"))
	cfg.Detection.MappingFile = mapping
	cfg.Bus.Partitions = 4
	s := servertest.Start(t, cfg)

	// A member in each partition.
	members := map[int]string{}
	for i := 0; len(members) < 4; i++ {
		id := fmt.Sprintf("council-%d", i)
		if p := bus.Partition(tenant.ID(id), 4); members[p] == "" {
			members[p] = id
			s.AddTenant(t, id)
		}
	}
	rule := "title: bob signs in\nid: 0b0b0b0b-1111-4222-8333-444444444445\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {user.name: bob}\n  condition: sel\nlevel: high\n"
	var imported detector.ImportResult
	s.JSON(t, http.MethodPost, "/api/v1/rules", servertest.AdminToken, map[string]any{"files": []detector.ImportFile{{Name: "bob.yml", Data: []byte(rule)}}}, &imported)
	ingest := func(s *servertest.Server) {
		for _, id := range members {
			if status, b := s.Do(t, http.MethodPost, "/api/v1/ingest", s.Token(t, id, "ingest"), []byte(signInBatch+"\n")); status != http.StatusOK {
				t.Fatalf("ingest %s: %d %s", id, status, b)
			}
		}
	}
	check := func(s *servertest.Server, events int) {
		t.Helper()
		for _, id := range members {
			analyst := s.Token(t, id, "tenant-analyst")
			var n int
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				if n = searchCount(t, s, analyst); n >= events {
					break
				}
			}
			if n != events {
				t.Errorf("%s (partition %d): %d events searchable, want %d", id, bus.Partition(tenant.ID(id), 4), n, events)
			}
			var out struct {
				Alerts []struct {
					RuleID string `json:"rule_id"`
					Count  int    `json:"count"`
				} `json:"alerts"`
			}
			for deadline := time.Now().Add(20 * time.Second); len(out.Alerts) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				s.JSON(t, http.MethodGet, "/api/v1/alerts", analyst, nil, &out)
			}
			// The same record sent again counts once.
			if len(out.Alerts) != 1 || out.Alerts[0].Count != 1 {
				t.Errorf("%s: alerts %+v, want one counting one event", id, out.Alerts)
			}
		}
		m := metrics(t, s)
		if m["tarian_partitions_held"] != 4 {
			t.Errorf("tarian_partitions_held = %v, want 4", m["tarian_partitions_held"])
		}
	}
	ingest(s)
	check(s, 2)
	s.Stop(t)

	s = servertest.Start(t, cfg)
	ingest(s)
	check(s, 4)
	for deadline := time.Now().Add(20 * time.Second); metrics(t, s)["tarian_detector_lag_messages"] != 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("detector lag over the partitions did not reach 0")
		}
	}
}

// searchCount is the caller's number of searchable events.
func searchCount(t *testing.T, s *servertest.Server, token string) int {
	t.Helper()
	status, b := s.Do(t, http.MethodGet, "/api/v1/search?q="+url.QueryEscape("* | stats count() as n"), token, nil)
	if status != http.StatusOK {
		t.Fatalf("search: %d %s", status, b)
	}
	var row struct {
		N string `json:"n"`
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return 0
	}
	if err := json.Unmarshal(bytes.TrimSpace(b), &row); err != nil {
		t.Fatalf("count row %s: %v", b, err)
	}
	n, _ := strconv.Atoi(row.N)
	return n
}

// metrics reads /metrics (series without labels).
func metrics(t *testing.T, s *servertest.Server) map[string]float64 {
	t.Helper()
	status, b := s.Do(t, http.MethodGet, "/metrics", servertest.AdminToken, nil)
	if status != http.StatusOK {
		t.Fatalf("/metrics: %d", status)
	}
	m := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			m[name] = f
		}
	}
	return m
}
