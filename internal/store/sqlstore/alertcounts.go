package sqlstore

import (
	"context"
	"fmt"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// openAlertCounts names its index: without statistics the planner picks
// alerts_level, which reads the closed alerts too.
const openAlertCounts = `
SELECT t.id, COALESCE(a.level, ''), COALESCE(a.status, ''), COUNT(a.id)
FROM tenants t LEFT JOIN alerts a INDEXED BY alerts_open ON a.tenant = t.id AND a.status NOT IN ('resolved', 'escalated')
GROUP BY t.id, a.level, a.status ORDER BY t.id, a.level, a.status`

// OpenAlertCounts counts every tenant's open alerts (not resolved or
// escalated) by level and status, for the /metrics gauges; a tenant
// without any has one Tally with no level or status. It reads the open
// alerts only (the partial index alerts_open), so a scrape costs little
// however many alerts have been closed.
func (d *DB) OpenAlertCounts(ctx context.Context) ([]alert.Tally, error) {
	rows, err := d.db.QueryContext(ctx, openAlertCounts)
	if err != nil {
		return nil, fmt.Errorf("count open alerts: %w", err)
	}
	defer rows.Close()
	var out []alert.Tally
	for rows.Next() {
		var t alert.Tally
		var id, status string
		if err := rows.Scan(&id, &t.Level, &status, &t.Alerts); err != nil {
			return nil, fmt.Errorf("count open alerts: %w", err)
		}
		t.Tenant, t.Status = tenant.ID(id), alert.Status(status)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count open alerts: %w", err)
	}
	return out, nil
}
