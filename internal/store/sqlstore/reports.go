package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/report"
	"github.com/tarian-soc/tarian/internal/tenant"
)

var _ report.Sent = (*DB)(nil)

// reportsMigration keeps the monthly reports mailed (report.Scheduler),
// so a restart does not send one twice.
const reportsMigration = `
CREATE TABLE reports_sent (
	tenant     TEXT NOT NULL,
	month      TEXT NOT NULL,
	lang       TEXT NOT NULL,
	sent       INTEGER NOT NULL,
	recipients TEXT NOT NULL,
	PRIMARY KEY (tenant, month, lang)
);`

// ReportSent reports whether tenant t's report of month in lang was sent.
func (d *DB) ReportSent(ctx context.Context, t tenant.ID, month, lang string) (bool, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM reports_sent WHERE tenant = ? AND month = ? AND lang = ?`, string(t), month, lang).Scan(&n)
	return n > 0, err
}

// MarkReportSent records that tenant t's report of month in lang was sent
// at at to recipients; a second mark keeps the first.
func (d *DB) MarkReportSent(ctx context.Context, t tenant.ID, month, lang string, at time.Time, to []string) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO reports_sent (tenant, month, lang, sent, recipients) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		string(t), month, lang, at.UnixNano(), strings.Join(to, ", "))
	return err
}
