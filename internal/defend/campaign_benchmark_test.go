package defend_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/defend"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// BenchmarkObserve is campaign detection's cost per alert with 25
// members and TARIAN_BENCH_OPEN_ALERTS open alerts' observables already
// recorded (default 10,000, so CI's single run stays short; the issue's
// figure is 100,000): each op is one new alert with two external
// observables.
func BenchmarkObserve(b *testing.B) {
	ctx := context.Background()
	open := 10_000
	if v := os.Getenv("TARIAN_BENCH_OPEN_ALERTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		open = n
	}
	db, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var ts []tenant.ID
	for i := range 25 {
		id := tenant.ID(fmt.Sprintf("member-%02d", i))
		if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: id, Name: string(id)}); err != nil {
			b.Fatal(err)
		}
		ts = append(ts, id)
	}
	now := time.Now().UTC()
	s, err := defend.New(defend.DefaultConfig(), defend.Deps{Store: db, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	mk := func(i int) alert.Alert {
		return alert.Alert{ID: int64(i + 1), LastSeen: now.Add(-time.Duration(i%7200) * time.Second), Entities: []alert.Entity{
			{Type: alert.EntityDomain, Value: fmt.Sprintf("host%d.bad%d.net", i%50_000, i%3000)},
			{Type: alert.EntityDestinationIP, Value: fmt.Sprintf("198.51.%d.%d", i>>8&255, i&255)},
			{Type: alert.EntityHost, Value: "WS1"},
		}}
	}
	for i := range open {
		if err := s.Observe(ctx, ts[i%25], []alert.Change{{What: alert.ChangeCreated, Alert: mk(i)}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := s.Observe(ctx, ts[i%25], []alert.Change{{What: alert.ChangeCreated, Alert: mk(open + i)}}); err != nil {
			b.Fatal(err)
		}
	}
}
