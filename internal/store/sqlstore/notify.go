package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tarian-soc/tarian/internal/alert/notify"
	"github.com/tarian-soc/tarian/internal/tenant"
)

var _ notify.Store = (*DB)(nil)

// notifyMigration adds notification channels (secrets sealed by poll.Box)
// and undelivered notifications. The tenant column has no foreign key:
// the provider's own channels belong to "*".
const notifyMigration = `
CREATE TABLE notify_channels (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant  TEXT NOT NULL,
	name    TEXT NOT NULL,
	kind    TEXT NOT NULL,
	target  TEXT NOT NULL,
	mail    TEXT NOT NULL,
	route   TEXT NOT NULL,
	sealed  BLOB NOT NULL,
	created INTEGER NOT NULL
);
CREATE INDEX notify_channels_tenant ON notify_channels(tenant, id);
CREATE TABLE notify_dead_letters (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant       TEXT NOT NULL,
	channel      INTEGER NOT NULL,
	channel_name TEXT NOT NULL,
	kind         TEXT NOT NULL,
	alert_tenant TEXT NOT NULL,
	alert_id     INTEGER NOT NULL,
	change       TEXT NOT NULL,
	payload      BLOB NOT NULL,
	last_error   TEXT NOT NULL,
	attempts     INTEGER NOT NULL,
	time         INTEGER NOT NULL
);
CREATE INDEX notify_dead_letters_tenant ON notify_dead_letters(tenant, id);`

// AddNotifyChannel stores c and returns it with its ID.
func (d *DB) AddNotifyChannel(ctx context.Context, c notify.Channel) (notify.Channel, error) {
	if c.Created.IsZero() {
		c.Created = time.Now().UTC()
	}
	mail := ""
	if c.Mail != nil {
		b, err := json.Marshal(c.Mail)
		if err != nil {
			return notify.Channel{}, err
		}
		mail = string(b)
	}
	route, err := json.Marshal(c.Route)
	if err != nil {
		return notify.Channel{}, err
	}
	if err := d.db.execScan(ctx, `INSERT INTO notify_channels (tenant, name, kind, target, mail, route, sealed, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		[]any{string(c.Tenant), c.Name, string(c.Kind), c.Target, mail, string(route), c.Sealed, c.Created.UnixNano()}, &c.ID); err != nil {
		return notify.Channel{}, fmt.Errorf("insert notification channel: %w", err)
	}
	return c, nil
}

// NotifyChannels lists tenant t's channels.
func (d *DB) NotifyChannels(ctx context.Context, t tenant.ID) ([]notify.Channel, error) {
	return d.notifyChannels(ctx, `WHERE tenant = ?`, string(t))
}

// AllNotifyChannels lists every tenant's channels, for routing.
func (d *DB) AllNotifyChannels(ctx context.Context) ([]notify.Channel, error) {
	return d.notifyChannels(ctx, ``)
}

// NotifyChannel returns tenant t's channel id.
func (d *DB) NotifyChannel(ctx context.Context, t tenant.ID, id int64) (notify.Channel, error) {
	cs, err := d.notifyChannels(ctx, `WHERE tenant = ? AND id = ?`, string(t), id)
	if err != nil {
		return notify.Channel{}, err
	}
	if len(cs) == 0 {
		return notify.Channel{}, fmt.Errorf("%w: %d", notify.ErrNotFound, id)
	}
	return cs[0], nil
}

// NotifyChannelTenant returns the tenant of channel id (provider roles).
func (d *DB) NotifyChannelTenant(ctx context.Context, id int64) (tenant.ID, error) {
	var t string
	err := d.db.QueryRowContext(ctx, `SELECT tenant FROM notify_channels WHERE id = ?`, id).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: %d", notify.ErrNotFound, id)
	}
	return tenant.ID(t), err
}

// RemoveNotifyChannel deletes tenant t's channel id and returns it; its
// dead letters stay.
func (d *DB) RemoveNotifyChannel(ctx context.Context, t tenant.ID, id int64) (notify.Channel, error) {
	c, err := d.NotifyChannel(ctx, t, id)
	if err != nil {
		return notify.Channel{}, err
	}
	res, err := d.db.ExecContext(ctx, `DELETE FROM notify_channels WHERE tenant = ? AND id = ?`, string(t), id)
	if err != nil {
		return notify.Channel{}, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return notify.Channel{}, err
	} else if n == 0 {
		return notify.Channel{}, fmt.Errorf("%w: %d", notify.ErrNotFound, id)
	}
	return c, nil
}

func (d *DB) notifyChannels(ctx context.Context, where string, args ...any) ([]notify.Channel, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id, tenant, name, kind, target, mail, route, sealed, created FROM notify_channels `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []notify.Channel
	for rows.Next() {
		var c notify.Channel
		var ten, kind, mail, route string
		var created int64
		if err := rows.Scan(&c.ID, &ten, &c.Name, &kind, &c.Target, &mail, &route, &c.Sealed, &created); err != nil {
			return nil, err
		}
		c.Tenant, c.Kind = tenant.ID(ten), notify.Kind(kind)
		if mail != "" {
			c.Mail = new(notify.Mail)
			if err := json.Unmarshal([]byte(mail), c.Mail); err != nil {
				return nil, fmt.Errorf("notification channel %d: mail: %w", c.ID, err)
			}
		}
		if err := json.Unmarshal([]byte(route), &c.Route); err != nil {
			return nil, fmt.Errorf("notification channel %d: route: %w", c.ID, err)
		}
		c.Created = time.Unix(0, created).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// AddNotifyDeadLetter keeps an undelivered notification for dl.Tenant.
func (d *DB) AddNotifyDeadLetter(ctx context.Context, dl notify.DeadLetter) (notify.DeadLetter, error) {
	payload := []byte(dl.Payload)
	if payload == nil {
		payload = []byte{}
	}
	if err := d.db.execScan(ctx, `INSERT INTO notify_dead_letters (tenant, channel, channel_name, kind, alert_tenant, alert_id, change, payload, last_error, attempts, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		[]any{string(dl.Tenant), dl.Channel, dl.ChannelName, string(dl.Kind), string(dl.AlertTenant), dl.AlertID, dl.Change, payload, dl.LastError, dl.Attempts, dl.Time.UnixNano()}, &dl.ID); err != nil {
		return notify.DeadLetter{}, fmt.Errorf("insert notification dead letter: %w", err)
	}
	return dl, nil
}

// NotifyDeadLetters lists tenant t's dead letters with ID below before
// (0: from the newest), newest first, at most limit.
func (d *DB) NotifyDeadLetters(ctx context.Context, t tenant.ID, before int64, limit int) ([]notify.DeadLetter, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := d.db.QueryContext(ctx, `SELECT id, tenant, channel, channel_name, kind, alert_tenant, alert_id, change, payload, last_error, attempts, time
		FROM notify_dead_letters WHERE tenant = ? AND id < ? ORDER BY id DESC LIMIT ?`, string(t), before, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []notify.DeadLetter
	for rows.Next() {
		var dl notify.DeadLetter
		var ten, kind, alertTen string
		var payload []byte
		var ts int64
		if err := rows.Scan(&dl.ID, &ten, &dl.Channel, &dl.ChannelName, &kind, &alertTen, &dl.AlertID, &dl.Change, &payload, &dl.LastError, &dl.Attempts, &ts); err != nil {
			return nil, err
		}
		dl.Tenant, dl.Kind, dl.AlertTenant = tenant.ID(ten), notify.Kind(kind), tenant.ID(alertTen)
		dl.Payload = string(payload)
		dl.Time = time.Unix(0, ts).UTC()
		out = append(out, dl)
	}
	return out, rows.Err()
}
