package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/incident"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// BenchmarkOpenCase opens (reads whole) a case with 1,000 timeline
// entries, 50 observables, 20 tasks, 20 alerts and 10 evidence files;
// the budget is 50 ms.
func BenchmarkOpenCase(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: "council-a", Name: "A"}); err != nil {
		b.Fatal(err)
	}
	at := time.Unix(1700000000, 0).UTC()
	c := incident.Case{Tenant: "council-a", Title: "Ransomware at the depot", Description: "Encrypted shares on fs-01",
		Severity: "critical", TLP: incident.TLPAmber, Status: incident.StatusInProgress, Assignee: "alice", Author: "tok", Created: at, Updated: at}
	kinds := []incident.Kind{incident.KindComment, incident.KindAlert, incident.KindEvent, incident.KindState, incident.KindTask}
	for i := range 1000 {
		e := incident.Entry{Time: at.Add(time.Duration(i*7%1000) * time.Second), Kind: kinds[i%len(kinds)], Author: "tok-analyst", Role: "provider-analyst",
			Text: fmt.Sprintf("Entry %d: lateral movement seen from ws-%03d to fs-01 over SMB; analyst notes follow", i, i%100)}
		if e.Kind != incident.KindComment {
			e.Data = map[string]string{"alert": fmt.Sprint(i), "rule_id": "5f6b2e1c-0d4e-4a0b-9c1e-7d9e0c4b1a2f", "level": "high", "count": "12"}
		}
		c.Timeline = append(c.Timeline, e)
	}
	for i := range 50 {
		c.Observables = append(c.Observables, incident.Observable{Type: "source.ip", Value: fmt.Sprintf("198.51.100.%d", i), Source: "alert 1", Added: at})
	}
	for i := range 20 {
		c.Tasks = append(c.Tasks, incident.Task{Title: fmt.Sprintf("Task %d", i), Author: "tok", Created: at, Updated: at})
		c.Alerts = append(c.Alerts, int64(1000+i))
	}
	for i := range 10 {
		c.Evidence = append(c.Evidence, incident.Evidence{SHA256: fmt.Sprintf("%064x", i), Name: fmt.Sprintf("capture-%d.pcap", i), Size: 1 << 20, Author: "tok", Added: at})
	}
	c, err = db.CreateCase(ctx, "council-a", c)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		got, err := db.Case(ctx, "council-a", c.ID)
		if err != nil || len(got.Timeline) != 1000 {
			b.Fatalf("%d entries, %v", len(got.Timeline), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}
