package sqlstore

import (
	"context"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// DeadLetterCounts counts tenant t's dead letters received since, by
// source (the receiver they came through). The source health monitor keeps
// its counters with its checkpoint (CorrelationStates, SaveProgress).
func (d *DB) DeadLetterCounts(ctx context.Context, t tenant.ID, since time.Time) (map[string]int64, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT source, COUNT(*) FROM dead_letters WHERE tenant = ? AND received >= ? GROUP BY source`, string(t), since.UnixNano())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var src string
		var n int64
		if err := rows.Scan(&src, &n); err != nil {
			return nil, err
		}
		out[src] = n
	}
	return out, rows.Err()
}
