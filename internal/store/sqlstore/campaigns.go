package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/defend"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// campaignsMigration holds campaigns: one external observable (or one rule
// against one external entity) seen in alerts at several members; each
// member's alerts linked to it.
const campaignsMigration = `
CREATE TABLE campaigns (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	key        TEXT NOT NULL UNIQUE,
	kind       TEXT NOT NULL,
	value      TEXT NOT NULL,
	title      TEXT NOT NULL,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	created    INTEGER NOT NULL,
	status     TEXT NOT NULL
);
CREATE TABLE campaign_alerts (
	campaign INTEGER NOT NULL REFERENCES campaigns(id),
	tenant   TEXT NOT NULL REFERENCES tenants(id),
	alert_id INTEGER NOT NULL,
	seen     INTEGER NOT NULL,
	PRIMARY KEY (campaign, alert_id)
);
CREATE INDEX campaign_alerts_tenant ON campaign_alerts(tenant, alert_id);
CREATE TABLE observable_sightings (
	key      TEXT NOT NULL,
	tenant   TEXT NOT NULL REFERENCES tenants(id),
	alert_id INTEGER NOT NULL,
	seen     INTEGER NOT NULL,
	PRIMARY KEY (key, tenant, alert_id)
);
CREATE INDEX observable_sightings_seen ON observable_sightings(key, seen);
CREATE INDEX observable_sightings_alert ON observable_sightings(tenant, alert_id);
CREATE TABLE campaign_keys (
	campaign INTEGER NOT NULL REFERENCES campaigns(id),
	key      TEXT NOT NULL,
	PRIMARY KEY (key, campaign)
);
CREATE TABLE propagations (
	indicator TEXT NOT NULL,
	tenant    TEXT NOT NULL REFERENCES tenants(id),
	alert_id  INTEGER NOT NULL,
	created   INTEGER NOT NULL,
	PRIMARY KEY (indicator, tenant, alert_id)
);`

// campaignsClosedMigration lets a provider analyst close a campaign, with
// who and why.
const campaignsClosedMigration = `
ALTER TABLE campaigns ADD COLUMN closed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN closed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN close_note TEXT NOT NULL DEFAULT '';
CREATE INDEX campaigns_status ON campaigns(status, last_seen);`

// RecordObservables notes that tenant t's alert saw keys at seen.
func (d *DB) RecordObservables(ctx context.Context, t tenant.ID, alertID int64, seen time.Time, keys []string) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `INSERT INTO observable_sightings (key, tenant, alert_id, seen) VALUES (?, ?, ?, ?)
ON CONFLICT (key, tenant, alert_id) DO UPDATE SET seen = `+d.db.x.greatest+`(observable_sightings.seen, excluded.seen)`, k, string(t), alertID, seen.UnixNano()); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// SeenSince lists the alerts that saw key at or after since, but for
// those in a closed campaign of key.
func (d *DB) SeenSince(ctx context.Context, key string, since time.Time) ([]defend.Link, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT o.tenant, o.alert_id, o.seen FROM observable_sightings o WHERE o.key = ? AND o.seen >= ?
AND NOT EXISTS (SELECT 1 FROM campaign_alerts ca JOIN campaigns c ON c.id = ca.campaign JOIN campaign_keys k ON k.campaign = c.id
	WHERE ca.alert_id = o.alert_id AND ca.tenant = o.tenant AND k.key = o.key AND c.status = 'closed')
ORDER BY o.seen`, key, since.UnixNano())
	if err != nil {
		return nil, err
	}
	return scanLinks(rows)
}

// AlertedBefore reports, for each of tenant t's detections, whether its
// event already counts in one of t's alerts, of another rule, that saw the
// observable keys[i] ("type:value", the campaign keys). A retro-hunt asks
// it so as not to raise again what an alert already holds: an indicator
// shared from a confirmed alert finds that alert's own events again.
func (d *DB) AlertedBefore(ctx context.Context, t tenant.ID, ds []alert.Detection, keys []string) ([]bool, error) {
	if len(keys) != len(ds) {
		return nil, fmt.Errorf("alerted before: %d detections, %d keys", len(ds), len(keys))
	}
	out := make([]bool, len(ds))
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("alerted before: %w", err)
	}
	defer tx.Rollback()
	rules := map[string][]string{}
	for _, k := range keys {
		if _, ok := rules[k]; ok || k == "" {
			continue
		}
		if rules[k], err = queryStrings(ctx, tx, `SELECT DISTINCT a.rule_id FROM observable_sightings o JOIN alerts a ON a.id = o.alert_id
WHERE o.key = ? AND o.tenant = ? AND a.tenant = ?`, k, string(t), string(t)); err != nil {
			return nil, fmt.Errorf("alerted before: %w", err)
		}
	}
	var marks []mark
	var of []int
	for i := range ds {
		for _, r := range rules[keys[i]] {
			if r == ds[i].RuleID {
				continue // the detection's own rule: Raise counts it once
			}
			p := alert.Pending{Detection: ds[i]}
			p.RuleID = r
			if m, ok := markOf(t, &p); ok {
				marks, of = append(marks, m), append(of, i)
			}
		}
	}
	has := make([]bool, len(marks))
	for i := range has {
		has[i] = true
	}
	seen, err := storedMarks(ctx, tx, marks, has)
	if err != nil {
		return nil, err
	}
	for j, m := range marks {
		if seen[m] {
			out[of[j]] = true
		}
	}
	return out, nil
}

func scanLinks(rows *sql.Rows) ([]defend.Link, error) {
	defer rows.Close()
	var out []defend.Link
	for rows.Next() {
		var (
			l    defend.Link
			t    string
			seen int64
		)
		if err := rows.Scan(&t, &l.AlertID, &seen); err != nil {
			return nil, err
		}
		l.Tenant, l.Seen = tenant.ID(t), time.Unix(0, seen).UTC()
		out = append(out, l)
	}
	return out, rows.Err()
}

const campaignColumns = `c.id, c.kind, c.value, c.title, c.first_seen, c.last_seen, c.created, c.status,
	c.closed, c.closed_by, c.close_note,
	(SELECT COUNT(DISTINCT tenant) FROM campaign_alerts a WHERE a.campaign = c.id)`

func scanCampaign(s scanner) (defend.Campaign, error) {
	var (
		c                            defend.Campaign
		first, last, created, closed int64
	)
	if err := s.Scan(&c.ID, &c.Kind, &c.Value, &c.Title, &first, &last, &created, &c.Status, &closed, &c.ClosedBy, &c.CloseNote, &c.Members); err != nil {
		return c, err
	}
	c.FirstSeen, c.LastSeen, c.Created = time.Unix(0, first).UTC(), time.Unix(0, last).UTC(), time.Unix(0, created).UTC()
	if closed != 0 {
		at := time.Unix(0, closed).UTC()
		c.ClosedAt = &at
	}
	return c, nil
}

// OpenCampaign returns the campaign holding any of keys whose last alert
// is at or after since.
func (d *DB) OpenCampaign(ctx context.Context, keys []string, since time.Time) (defend.Campaign, bool, error) {
	for _, k := range keys {
		c, err := scanCampaign(d.db.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM campaigns c JOIN campaign_keys k ON k.campaign = c.id
WHERE k.key = ? AND c.last_seen >= ? AND c.status = 'open' ORDER BY c.id DESC LIMIT 1`, k, since.UnixNano()))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return c, false, err
		}
		return c, true, nil
	}
	return defend.Campaign{}, false, nil
}

// CreateCampaign stores a new campaign.
func (d *DB) CreateCampaign(ctx context.Context, c defend.Campaign) (defend.Campaign, error) {
	err := d.db.execScan(ctx, `INSERT INTO campaigns (key, kind, value, title, first_seen, last_seen, created, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		[]any{fmt.Sprintf("%s:%s:%d", c.Kind, c.Value, c.Created.UnixNano()), c.Kind, c.Value, c.Title, c.FirstSeen.UnixNano(), c.LastSeen.UnixNano(), c.Created.UnixNano(), c.Status}, &c.ID)
	return c, err
}

// LinkCampaign adds alerts and keys to campaign id and widens its times.
func (d *DB) LinkCampaign(ctx context.Context, id int64, links []defend.Link, keys []string) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, l := range links {
		if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_alerts (campaign, tenant, alert_id, seen) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			id, string(l.Tenant), l.AlertID, l.Seen.UnixNano()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET first_seen = `+d.db.x.least+`(first_seen, ?), last_seen = `+d.db.x.greatest+`(last_seen, ?) WHERE id = ?`,
			l.Seen.UnixNano(), l.Seen.UnixNano(), id); err != nil {
			return err
		}
	}
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_keys (campaign, key) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, k); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET title = kind || ' ' || value || ' at ' ||
	(SELECT COUNT(DISTINCT tenant) FROM campaign_alerts WHERE campaign = ?) || ' members' WHERE id = ?`, id, id); err != nil {
		return err
	}
	return tx.Commit()
}

// SetCampaignStatus closes campaign id (status closed, by whom, when and
// why) or opens it again (status open; the closing forgotten).
func (d *DB) SetCampaignStatus(ctx context.Context, id int64, ch defend.StatusChange) error {
	var closed int64
	by, note := "", ""
	if ch.Status == defend.StatusClosed {
		closed, by, note = ch.At.UnixNano(), ch.By, ch.Note
	}
	res, err := d.db.ExecContext(ctx, `UPDATE campaigns SET status = ?, closed = ?, closed_by = ?, close_note = ? WHERE id = ?`,
		ch.Status, closed, by, note, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: %d", defend.ErrNotFound, id)
	}
	return nil
}

// Campaigns lists campaigns of status (any when ""), newest first.
func (d *DB) Campaigns(ctx context.Context, status string, limit int) ([]defend.Campaign, error) {
	where, args := "", []any{limit}
	if status != "" {
		where, args = ` WHERE c.status = ?`, []any{status, limit}
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+campaignColumns+` FROM campaigns c`+where+` ORDER BY c.last_seen DESC, c.id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []defend.Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Campaign returns campaign id with its members' alerts.
func (d *DB) Campaign(ctx context.Context, id int64) (defend.Campaign, error) {
	c, err := scanCampaign(d.db.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM campaigns c WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("%w: %d", defend.ErrNotFound, id)
	}
	if err != nil {
		return c, err
	}
	rows, err := d.db.QueryContext(ctx, `SELECT tenant, alert_id, seen FROM campaign_alerts WHERE campaign = ? ORDER BY seen, tenant`, id)
	if err != nil {
		return c, err
	}
	c.Links, err = scanLinks(rows)
	return c, err
}

// OtherTenants counts, for each of tenant t's alerts ids, the tenants other
// than t whose alerts saw any of the keys it saw; alerts that share nothing
// are absent. One query a chunk of ids: an alert list asks for a page.
func (d *DB) OtherTenants(ctx context.Context, t tenant.ID, ids []int64) (map[int64]int, error) {
	out := map[int64]int{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), maxIDsPerQuery)]
		ids = ids[len(chunk):]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, string(t))
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := d.db.QueryContext(ctx, `SELECT s.alert_id, COUNT(DISTINCT o.tenant) FROM observable_sightings s
JOIN observable_sightings o ON o.key = s.key AND o.tenant != s.tenant
WHERE s.tenant = ? AND s.alert_id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",")+`)
GROUP BY s.alert_id`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = n
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// maxIDsPerQuery bounds the ids of one IN list.
const maxIDsPerQuery = 500

// Unpropagate forgets that tenant t's alert shared any indicator and
// returns, for each indicator it had shared, how many alerts (of any
// tenant) still share it.
func (d *DB) Unpropagate(ctx context.Context, t tenant.ID, alertID int64) (map[string]int, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	ids, err := queryStrings(ctx, tx, `SELECT indicator FROM propagations WHERE tenant = ? AND alert_id = ?`, string(t), alertID)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM propagations WHERE tenant = ? AND alert_id = ?`, string(t), alertID); err != nil {
		return nil, err
	}
	left := make(map[string]int, len(ids))
	for _, id := range ids {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM propagations WHERE indicator = ?`, id).Scan(&n); err != nil {
			return nil, err
		}
		left[id] = n
	}
	return left, tx.Commit()
}

// RecordPropagation keeps, privately, the alert a shared indicator came
// from.
func (d *DB) RecordPropagation(ctx context.Context, indicator string, t tenant.ID, alertID int64, at time.Time) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO propagations (indicator, tenant, alert_id, created) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		indicator, string(t), alertID, at.UnixNano())
	return err
}
