package sqlstore

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/tenant"
)

var _ alert.Backend = (*DB)(nil)

// alertsMigration replaces the alerts of migrations 2 and 5 (one row per
// tenant, rule and event) with deduplicated alerts, and adds the tables of
// replay marks, incidents, suppressions and asset criticalities.
//
// Each old row becomes an alert of producer sigma with count 1, its event
// time as first and last seen, its host and user as entities, the default
// key (host and user), status new, and its ID kept, in an incident of its
// own (named, like every incident, by the ID of the alert that opened it).
// Old rows carry no event hash, so an event raised before the migration
// and replayed after it counts again once.
//
// Tables:
//   - alerts: times are unix nanoseconds (0: zero time); refs, tags and
//     evidence are JSON arrays of strings, entities and fields arrays of
//     [type, value] and [name, value] pairs. The partial index
//     alerts_open finds the open alert of a rule and key in one probe; the
//     others serve the filtered first page of Alerts, newest first.
//   - alert_events: one mark per (tenant, rule, event), so a replayed
//     event never counts twice, whichever alert it would join (see mark).
//   - alert_incident_entities: per entity (type, lower-cased value), the
//     incident that saw it last and when, for grouping.
//   - suppressions (conditions as JSON) and assets (keyed by type and
//     lower-cased name).
const alertsMigration = `
DROP INDEX alerts_tenant;
ALTER TABLE alerts RENAME TO alerts_v5;
CREATE TABLE alerts (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant       TEXT NOT NULL REFERENCES tenants(id),
	producer     TEXT NOT NULL,
	rule_id      TEXT NOT NULL,
	title        TEXT NOT NULL,
	author       TEXT NOT NULL,
	level        TEXT NOT NULL,
	refs         TEXT NOT NULL,
	tags         TEXT NOT NULL,
	entities     TEXT NOT NULL,
	fields       TEXT NOT NULL,
	dedup_key    TEXT NOT NULL,
	count        INTEGER NOT NULL,
	evidence     TEXT NOT NULL,
	event_time   INTEGER NOT NULL,
	first_seen   INTEGER NOT NULL,
	last_seen    INTEGER NOT NULL,
	received     INTEGER NOT NULL,
	created      INTEGER NOT NULL,
	updated      INTEGER NOT NULL,
	criticality  TEXT NOT NULL,
	risk         INTEGER NOT NULL,
	incident     INTEGER NOT NULL,
	status       TEXT NOT NULL,
	resolution   TEXT NOT NULL,
	assignee     TEXT NOT NULL,
	note         TEXT NOT NULL,
	acknowledged INTEGER NOT NULL,
	resolved     INTEGER NOT NULL,
	escalated    INTEGER NOT NULL
);
INSERT INTO alerts (id, tenant, producer, rule_id, title, author, level, refs, tags, entities, fields, dedup_key, count, evidence,
	event_time, first_seen, last_seen, received, created, updated, criticality, risk, incident, status, resolution, assignee, note,
	acknowledged, resolved, escalated)
SELECT id, tenant, 'sigma', rule_id, title, author, level, '[]', tags,
	CASE
		WHEN host_name != '' AND user_name != '' THEN json_array(json_array('host', host_name), json_array('user', user_name))
		WHEN host_name != '' THEN json_array(json_array('host', host_name))
		WHEN user_name != '' THEN json_array(json_array('user', user_name))
		ELSE '[]'
	END,
	(SELECT json_group_array(json_array(key, value)) FROM json_each(alerts_v5.fields)),
	lower(host_name) || char(31) || lower(user_name), 1, json_array(event_ref),
	event_time, event_time, event_time, created, created, created, 'normal',
	CASE level WHEN 'informational' THEN 10 WHEN 'low' THEN 25 WHEN 'medium' THEN 45 WHEN 'high' THEN 65 WHEN 'critical' THEN 85 ELSE 25 END,
	id, 'new', '', '', '', 0, 0, 0
FROM alerts_v5 ORDER BY id;
DROP TABLE alerts_v5;
CREATE INDEX alerts_tenant ON alerts(tenant, id);
CREATE INDEX alerts_status ON alerts(tenant, status, id);
CREATE INDEX alerts_level ON alerts(tenant, level, id);
CREATE INDEX alerts_rule ON alerts(tenant, rule_id, id);
CREATE INDEX alerts_assignee ON alerts(tenant, assignee, id);
CREATE INDEX alerts_incident ON alerts(tenant, incident, id);
CREATE INDEX alerts_open ON alerts(tenant, rule_id, dedup_key, first_seen) WHERE status NOT IN ('resolved', 'escalated');
CREATE TABLE alert_events (
	mark  BLOB PRIMARY KEY,
	alert INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE alert_incident_entities (
	tenant    TEXT NOT NULL,
	type      TEXT NOT NULL,
	value     TEXT NOT NULL,
	incident  INTEGER NOT NULL,
	last_seen INTEGER NOT NULL,
	PRIMARY KEY (tenant, type, value)
) WITHOUT ROWID;
CREATE TABLE suppressions (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant     TEXT NOT NULL REFERENCES tenants(id),
	rule_id    TEXT NOT NULL,
	conditions TEXT NOT NULL,
	reason     TEXT NOT NULL,
	author     TEXT NOT NULL,
	created    INTEGER NOT NULL,
	expires    INTEGER NOT NULL,
	hits       INTEGER NOT NULL
);
CREATE INDEX suppressions_tenant ON suppressions(tenant, id);
CREATE TABLE assets (
	tenant      TEXT NOT NULL REFERENCES tenants(id),
	type        TEXT NOT NULL,
	key         TEXT NOT NULL,
	name        TEXT NOT NULL,
	criticality TEXT NOT NULL,
	PRIMARY KEY (tenant, type, key)
) WITHOUT ROWID;`

const alertCols = `id, tenant, producer, rule_id, title, author, level, refs, tags, entities, fields, dedup_key, count, evidence,
	event_time, first_seen, last_seen, received, created, updated, criticality, risk, incident, status, resolution, assignee, note,
	acknowledged, resolved, escalated, history`

// alertsHistoryMigration keeps each alert's analyst changes (alert.Step,
// JSON, oldest first).
const alertsHistoryMigration = `ALTER TABLE alerts ADD COLUMN history TEXT NOT NULL DEFAULT '[]';`

// openAlert is the condition of alerts_open: keep the two in step, or the
// index is not used.
const openAlert = `status NOT IN ('resolved', 'escalated')`

// alertRow is an alert as Raise works on it.
type alertRow struct {
	a alert.Alert
	// crit is the highest criticality of the alert's assets seen so far.
	crit  alert.Criticality
	isNew bool
	// touched is set once the alert is in the batch's changes.
	touched bool
	// evidence is the stored evidence JSON, "" once it changed.
	evidence string
}

// alertsCreatedMigration indexes alerts by creation time, for AlertTimes
// (the SOC's measures over a period).
const alertsCreatedMigration = `CREATE INDEX IF NOT EXISTS alerts_created ON alerts(tenant, created);`

// alertsProducerMigration (28) indexes the alerts by what raised them,
// for a queue of one producer's (the health alerts, say) without a walk
// through every alert of the tenant.
const alertsProducerMigration = `CREATE INDEX IF NOT EXISTS alerts_producer ON alerts(tenant, producer, id);`

// AlertTimes hands fn tenant t's alerts created in [from, to), oldest
// first, reading only the columns the SOC's measures need (of the JSON
// ones, only the tags: a short array that decodes without a JSON decoder).
func (d *DB) AlertTimes(ctx context.Context, t tenant.ID, from, to time.Time, fn func(alert.Alert) error) error {
	q := `SELECT id, rule_id, title, level, tags, count, status, resolution, event_time, received, created, acknowledged, resolved, escalated
		FROM alerts INDEXED BY alerts_created WHERE tenant = ? AND created >= ?`
	args := []any{string(t), nanos(from)}
	if !to.IsZero() {
		q += ` AND created < ?`
		args = append(args, nanos(to))
	}
	rows, err := d.db.QueryContext(ctx, q+` ORDER BY created, id`, args...)
	if err != nil {
		return fmt.Errorf("alert times of %s: %w", t, err)
	}
	defer rows.Close()
	for rows.Next() {
		a := alert.Alert{Tenant: t}
		var tags, status, resolution string
		var et, rc, cr, ack, res, esc int64
		if err := rows.Scan(&a.ID, &a.RuleID, &a.Title, &a.Level, &tags, &a.Count, &status, &resolution, &et, &rc, &cr, &ack, &res, &esc); err != nil {
			return fmt.Errorf("alert times of %s: %w", t, err)
		}
		if a.Tags, err = decodeStrings(tags); err != nil {
			return fmt.Errorf("alert times of %s: alert %d tags: %w", t, a.ID, err)
		}
		a.Status, a.Resolution = alert.Status(status), alert.Resolution(resolution)
		a.EventTime, a.Received, a.Created = fromNanos(et), fromNanos(rc), fromNanos(cr)
		a.Acknowledged, a.Resolved, a.Escalated = fromNanos(ack), fromNanos(res), fromNanos(esc)
		if err := fn(a); err != nil {
			return err
		}
	}
	return rows.Err()
}

// nanos returns t as unix nanoseconds, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos, in UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// normTime returns t as the store gives it back.
func normTime(t time.Time) time.Time { return fromNanos(nanos(t)) }

// The JSON columns hold arrays of strings (refs, tags, evidence) or of
// [string, string] pairs (entities as [type, value], fields as [name,
// value], in order), written with only quotes, backslashes and control
// characters escaped, so that most read back without a JSON decoder.

// appendJSONString appends s as a JSON string, bytes other than JSON's
// specials as they are.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func encodeStrings(ss []string) string {
	if len(ss) == 0 {
		return "[]"
	}
	b := make([]byte, 0, 16*len(ss))
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return string(append(b, ']'))
}

func encodePairs(n int, pair func(i int) (string, string)) string {
	if n == 0 {
		return "[]"
	}
	b := make([]byte, 0, 32*n)
	b = append(b, '[')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		x, y := pair(i)
		b = append(b, '[')
		b = appendJSONString(b, x)
		b = append(b, ',')
		b = appendJSONString(b, y)
		b = append(b, ']')
	}
	return string(append(b, ']'))
}

func encodeEntities(es []alert.Entity) string {
	return encodePairs(len(es), func(i int) (string, string) { return es[i].Type, es[i].Value })
}

func encodeFields(fs []event.Field) string {
	return encodePairs(len(fs), func(i int) (string, string) { return fs[i].Name, fs[i].Value })
}

// decodeStrings reads a JSON array of strings.
func decodeStrings(s string) ([]string, error) {
	if s == "[]" || s == "" {
		return nil, nil
	}
	if strings.IndexByte(s, '\\') < 0 && strings.HasPrefix(s, `["`) && strings.HasSuffix(s, `"]`) {
		// Without escapes no string holds a quote: the separators are exact.
		return strings.Split(s[2:len(s)-2], `","`), nil
	}
	var out []string
	err := json.Unmarshal([]byte(s), &out)
	return out, err
}

// decodePairs reads a JSON array of [string, string] pairs.
func decodePairs(s string) ([][2]string, error) {
	if s == "[]" || s == "" {
		return nil, nil
	}
	if strings.IndexByte(s, '\\') < 0 && strings.HasPrefix(s, `[["`) && strings.HasSuffix(s, `"]]`) {
		rows := strings.Split(s[3:len(s)-3], `"],["`)
		out := make([][2]string, len(rows))
		ok := true
		for i, r := range rows {
			x, y, found := strings.Cut(r, `","`)
			ok = ok && found && !strings.Contains(y, `","`)
			out[i] = [2]string{x, y}
		}
		if ok {
			return out, nil
		}
	}
	var out [][2]string
	err := json.Unmarshal([]byte(s), &out)
	return out, err
}

func decodeEntities(s string) ([]alert.Entity, error) {
	ps, err := decodePairs(s)
	if err != nil || ps == nil {
		return nil, err
	}
	out := make([]alert.Entity, len(ps))
	for i, p := range ps {
		out[i] = alert.Entity{Type: p[0], Value: p[1]}
	}
	return out, nil
}

func decodeFields(s string) ([]event.Field, error) {
	ps, err := decodePairs(s)
	if err != nil || ps == nil {
		return nil, err
	}
	out := make([]event.Field, len(ps))
	for i, p := range ps {
		out[i] = event.Field{Name: p[0], Value: p[1]}
	}
	return out, nil
}

// scanAlert reads one row of alertCols.
func scanAlert(s scanner) (alertRow, error) {
	var r alertRow
	a := &r.a
	var ten, producer, refs, tags, ents, fields, crit, status, resolution, history string
	var et, fs, ls, rc, cr, up, ack, res, esc int64
	if err := s.Scan(&a.ID, &ten, &producer, &a.RuleID, &a.Title, &a.Author, &a.Level, &refs, &tags, &ents, &fields, &a.Key,
		&a.Count, &r.evidence, &et, &fs, &ls, &rc, &cr, &up, &crit, &a.Risk, &a.Incident, &status, &resolution, &a.Assignee, &a.Note,
		&ack, &res, &esc, &history); err != nil {
		return r, err
	}
	a.Tenant, a.Producer, a.Status, a.Resolution = tenant.ID(ten), alert.Producer(producer), alert.Status(status), alert.Resolution(resolution)
	r.crit = alert.Criticality(crit)
	a.EventTime, a.FirstSeen, a.LastSeen, a.Received = fromNanos(et), fromNanos(fs), fromNanos(ls), fromNanos(rc)
	a.Created, a.Updated = fromNanos(cr), fromNanos(up)
	a.Acknowledged, a.Resolved, a.Escalated = fromNanos(ack), fromNanos(res), fromNanos(esc)
	var err error
	if a.References, err = decodeStrings(refs); err != nil {
		return r, fmt.Errorf("alert %d references: %w", a.ID, err)
	}
	if a.Tags, err = decodeStrings(tags); err != nil {
		return r, fmt.Errorf("alert %d tags: %w", a.ID, err)
	}
	if a.Entities, err = decodeEntities(ents); err != nil {
		return r, fmt.Errorf("alert %d entities: %w", a.ID, err)
	}
	if a.Fields, err = decodeFields(fields); err != nil {
		return r, fmt.Errorf("alert %d fields: %w", a.ID, err)
	}
	if a.Evidence, err = decodeStrings(r.evidence); err != nil {
		return r, fmt.Errorf("alert %d evidence: %w", a.ID, err)
	}
	if history != "[]" {
		if err := json.Unmarshal([]byte(history), &a.History); err != nil {
			return r, fmt.Errorf("alert %d history: %w", a.ID, err)
		}
	}
	return r, nil
}

// mark is the replay mark of an event in a tenant's rule: the event's time
// (unix nanoseconds, big-endian) and SHA-256(tenant, rule, event hash)
// truncated to 128 bits.
//
// The time leads so that the marks of live traffic are written next to
// one another (a random key would dirty one page per detection: measured,
// it halved the throughput). It is part of the event's identity only when
// the event carried it: when the detection's time is its receipt time (the
// record had no time of its own, so a copy received later would get
// another), the time is left zero and the hash alone decides.
type mark [24]byte

// markOf returns p's mark, or false when p names no event (no hash and no
// reference): such a detection always counts.
func markOf(t tenant.ID, p *alert.Pending) (mark, bool) {
	id := p.EventHash
	if id == "" {
		if p.EventRef == "" {
			return mark{}, false
		}
		id = "ref\x00" + p.EventRef
	}
	h := sha256.New()
	h.Write([]byte(t))
	h.Write([]byte{0})
	h.Write([]byte(p.RuleID))
	h.Write([]byte{0})
	h.Write([]byte(id))
	var m mark
	if !p.EventTime.Equal(p.Received) {
		binary.BigEndian.PutUint64(m[:8], uint64(nanos(p.EventTime)))
	}
	copy(m[8:], h.Sum(nil))
	return m, true
}

// ruleKey names the alerts of one rule and deduplication key.
type ruleKey struct{ rule, key string }

// entKey names an entity for grouping: its type and lower-cased value.
type entKey struct{ typ, value string }

// entState is where an entity was last seen: in which incident, when, and
// whether the batch moved it.
type entState struct {
	incident, seen int64
	dirty          bool
}

// raise is one Raise call's work. It reads what the batch needs in a few
// queries, merges in memory, and writes each touched row once.
type raise struct {
	tx  *txn
	t   tenant.ID
	now time.Time
	// open holds, per rule and key, the open alerts the batch may join
	// (every one first seen after the batch's earliest event less its
	// window) and those it opened.
	open    map[ruleKey][]*alertRow
	ents    map[entKey]*entState
	touched []*alertRow
	// nextID is the ID of the next new alert (IDs are given here so that
	// marks and incidents can name them before they are written).
	nextID int64
	// marks to insert, with the alert each counts in.
	marks     []mark
	markAlert []int64
}

// Raise merges pending detections into tenant t's alerts, in one
// transaction; see alert.Store.
//
// An incident is named by the ID of the alert that opened it. An entity
// (of the GroupBy types, case-insensitively) belongs to the incident that
// saw it last; a new alert joins the newest such incident of its entities
// that saw one of them less than GroupWindow before its event.
func (d *DB) Raise(ctx context.Context, t tenant.ID, ps []alert.Pending, now time.Time) ([]alert.Change, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("raise alerts: %w", err)
	}
	defer tx.Rollback()
	r := &raise{tx: tx, t: t, now: normTime(now), open: map[ruleKey][]*alertRow{}, ents: map[entKey]*entState{}}

	// Replays: marks already stored, or seen earlier in the batch.
	marks := make([]mark, len(ps))
	hasMark := make([]bool, len(ps))
	for i := range ps {
		marks[i], hasMark[i] = markOf(t, &ps[i])
	}
	seen, err := storedMarks(ctx, tx, marks, hasMark)
	if err != nil {
		return nil, err
	}
	live := make([]int, 0, len(ps))
	for i := range ps {
		if hasMark[i] {
			if seen[marks[i]] {
				continue
			}
			seen[marks[i]] = true
		}
		live = append(live, i)
	}
	if len(live) == 0 {
		return nil, nil
	}
	if err := r.load(ctx, ps, live); err != nil {
		return nil, err
	}
	for _, i := range live {
		p := &ps[i]
		row := r.find(p)
		if row == nil {
			row = r.create(p)
		} else {
			r.join(row, p)
		}
		if hasMark[i] {
			r.marks = append(r.marks, marks[i])
			r.markAlert = append(r.markAlert, row.a.ID)
		}
	}
	if err := r.write(ctx); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("raise alerts: commit: %w", err)
	}
	cs := make([]alert.Change, len(r.touched))
	for i, row := range r.touched {
		cs[i] = alert.Change{What: alert.ChangeUpdated, Alert: row.a}
		if row.isNew {
			cs[i].What = alert.ChangeCreated
		}
	}
	return cs, nil
}

// storedMarks returns which of marks (where has) are already stored.
func storedMarks(ctx context.Context, tx *txn, marks []mark, has []bool) (map[mark]bool, error) {
	seen := make(map[mark]bool, len(marks))
	var l jsonList
	for i := range marks {
		if has[i] {
			l.tuple().hex(marks[i][:])
		}
	}
	if l.n == 0 {
		return seen, nil
	}
	rows, err := tx.QueryContext(ctx, marksQuery(tx.x), l.String())
	if err != nil {
		return nil, fmt.Errorf("raise alerts: look up events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("raise alerts: look up events: %w", err)
		}
		var m mark
		copy(m[:], b)
		seen[m] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("raise alerts: look up events: %w", err)
	}
	return seen, nil
}

// marksQuery finds which of the marks (a JSON array of [hex]) are stored.
func marksQuery(x *dialect) string {
	return `SELECT mark FROM alert_events WHERE mark IN (SELECT ` + x.unhex("value->>0") + ` FROM ` + x.jsonRows("?") + `)`
}

// jsonList builds a JSON array, of values or of arrays of values, to pass
// many rows in one parameter to json_each: the statement's text stays
// short and the same whatever the batch.
type jsonList struct {
	b     []byte
	n     int  // rows
	first bool // no value yet in the current row
	open  bool // the current row is an array
}

// row starts a row (a single value, or an array once a second is added).
func (l *jsonList) row() *jsonList {
	l.end()
	if l.n == 0 {
		l.b = append(l.b, '[')
	} else {
		l.b = append(l.b, ',')
	}
	l.n++
	l.first = true
	return l
}

// tuple starts a row that is an array of values.
func (l *jsonList) tuple() *jsonList {
	l.row()
	l.b = append(l.b, '[')
	l.open = true
	return l
}

func (l *jsonList) sep() {
	if !l.first {
		l.b = append(l.b, ',')
	}
	l.first = false
}

func (l *jsonList) end() {
	if l.open {
		l.b = append(l.b, ']')
		l.open = false
	}
}

// str adds a string (see appendJSONString: values match the stored text
// byte for byte).
func (l *jsonList) str(s string) *jsonList {
	l.sep()
	l.b = appendJSONString(l.b, s)
	return l
}

// int adds an integer.
func (l *jsonList) int(n int64) *jsonList {
	l.sep()
	l.b = strconv.AppendInt(l.b, n, 10)
	return l
}

// hex adds bytes as a hex string (unhex(value) in SQL).
func (l *jsonList) hex(b []byte) *jsonList {
	l.sep()
	l.b = append(l.b, '"')
	l.b = hex.AppendEncode(l.b, b)
	l.b = append(l.b, '"')
	return l
}

// String returns the array.
func (l *jsonList) String() string {
	l.end()
	if l.n == 0 {
		return "[]"
	}
	return string(l.b) + "]"
}

// load reads what the live detections of ps may need: the open alerts of
// their rules and keys, their entities' incidents, and the next alert ID.
func (r *raise) load(ctx context.Context, ps []alert.Pending, live []int) error {
	findFrom := int64(1<<63 - 1)
	var keys, ents jsonList
	for _, i := range live {
		p := &ps[i]
		findFrom = min(findFrom, nanos(p.EventTime)-int64(p.Window))
		k := ruleKey{p.RuleID, p.Key}
		if _, ok := r.open[k]; !ok {
			r.open[k] = nil
			keys.tuple().str(k.rule).str(k.key)
		}
		for _, e := range p.Entities {
			if e.Value == "" || !slices.Contains(p.GroupBy, e.Type) {
				continue
			}
			k := entKey{e.Type, strings.ToLower(e.Value)}
			if r.ents[k] == nil {
				r.ents[k] = &entState{}
				ents.tuple().str(k.typ).str(k.value)
			}
		}
	}
	rows, err := r.tx.QueryContext(ctx, openAlertsQuery(r.tx.x), string(r.t), keys.String(), findFrom)
	if err != nil {
		return fmt.Errorf("raise alerts: find open alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		row, err := scanAlert(rows)
		if err != nil {
			return fmt.Errorf("raise alerts: find open alerts: %w", err)
		}
		k := ruleKey{row.a.RuleID, row.a.Key}
		r.open[k] = append(r.open[k], &row)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("raise alerts: find open alerts: %w", err)
	}
	rows.Close()
	if ents.n > 0 {
		rows, err := r.tx.QueryContext(ctx, entitiesQuery(r.tx.x), string(r.t), ents.String())
		if err != nil {
			return fmt.Errorf("raise alerts: find incidents: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k entKey
			var es entState
			if err := rows.Scan(&k.typ, &k.value, &es.incident, &es.seen); err != nil {
				return fmt.Errorf("raise alerts: find incidents: %w", err)
			}
			r.ents[k] = &es
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("raise alerts: find incidents: %w", err)
		}
	}
	// Holding the write lock, no one else takes IDs until the commit.
	if err := r.tx.QueryRowContext(ctx, nextAlertID(r.tx.x)).Scan(&r.nextID); err != nil {
		return fmt.Errorf("raise alerts: next ID: %w", err)
	}
	return nil
}

// nextAlertID is the query of the next alert's ID: one above any given,
// deleted ones included. On PostgreSQL it takes the next value of the ID
// sequence; write moves the sequence past the IDs the batch gave.
func nextAlertID(x *dialect) string {
	if x.postgres {
		return `SELECT nextval(pg_get_serial_sequence('alerts', 'id'))`
	}
	return `SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'alerts'), 0),
		coalesce((SELECT max(id) FROM alerts), 0)) + 1`
}

// openAlertsQuery finds the open alerts of rules and keys (a JSON array of
// [rule, key]) first seen after a time, through alerts_open.
func openAlertsQuery(x *dialect) string {
	return `SELECT ` + alertCols + ` FROM alerts
	WHERE tenant = ? AND (rule_id, dedup_key) IN (SELECT value->>0, value->>1 FROM ` + x.jsonRows("?") + `)
	AND ` + openAlert + ` AND first_seen > ?`
}

// entitiesQuery finds where entities (a JSON array of [type, value]) were
// last seen.
func entitiesQuery(x *dialect) string {
	return `SELECT type, value, incident, last_seen FROM alert_incident_entities
	WHERE tenant = ? AND (type, value) IN (SELECT value->>0, value->>1 FROM ` + x.jsonRows("?") + `)`
}

// find returns the newest open alert of p's rule and key whose first event
// is within p's Window of p's event, either way, or nil.
func (r *raise) find(p *alert.Pending) *alertRow {
	et, w := nanos(p.EventTime), int64(p.Window)
	var best *alertRow
	for _, row := range r.open[ruleKey{p.RuleID, p.Key}] {
		fs := nanos(row.a.FirstSeen)
		if fs > et-w && fs < et+w && (best == nil || row.a.ID > best.a.ID) {
			best = row
		}
	}
	return best
}

func (r *raise) touch(row *alertRow) {
	if !row.touched {
		row.touched = true
		r.touched = append(r.touched, row)
	}
}

// join adds p's event to row.
func (r *raise) join(row *alertRow, p *alert.Pending) {
	a := &row.a
	et := normTime(p.EventTime)
	a.Count++
	if et.Before(a.FirstSeen) {
		a.FirstSeen = et
	}
	if et.After(a.LastSeen) {
		a.LastSeen = et
	}
	if addEvidence(a, p) {
		row.evidence = ""
	}
	row.crit = row.crit.Max(p.Criticality)
	a.Risk = alert.Risk(a.Level, row.crit, a.Count)
	a.Updated = r.now
	r.touch(row)
	r.seen(row, p)
}

// create opens a new alert for p, in an incident.
func (r *raise) create(p *alert.Pending) *alertRow {
	et := normTime(p.EventTime)
	crit := p.Criticality
	if crit == "" {
		crit = alert.CriticalityNormal
	}
	row := &alertRow{
		a: alert.Alert{
			ID: r.nextID, Tenant: r.t, Producer: p.Producer, RuleID: p.RuleID, Title: p.Title, Author: p.Author, Level: p.Level,
			References: nilIfEmpty(slices.Clone(p.References)), Tags: nilIfEmpty(slices.Clone(p.Tags)),
			Entities: nilIfEmpty(slices.Clone(p.Entities)), Fields: nilIfEmpty(slices.Clone(p.Fields)),
			Key: p.Key, Count: 1, EventTime: et, FirstSeen: et, LastSeen: et, Received: normTime(p.Received),
			Created: r.now, Updated: r.now, Risk: alert.Risk(p.Level, crit, 1), Status: alert.StatusNew,
		},
		crit: crit, isNew: true,
	}
	r.nextID++
	addEvidence(&row.a, p)
	// The newest incident that saw one of the alert's entities within
	// the group window, else a new one named after the alert.
	from := nanos(p.EventTime) - int64(p.GroupWindow)
	for _, k := range groupEntities(&row.a, p) {
		if es := r.ents[k]; es.incident != 0 && es.seen >= from && es.incident > row.a.Incident {
			row.a.Incident = es.incident
		}
	}
	if row.a.Incident == 0 {
		row.a.Incident = row.a.ID
	}
	k := ruleKey{p.RuleID, p.Key}
	r.open[k] = append(r.open[k], row)
	r.touch(row)
	r.seen(row, p)
	return row
}

// addEvidence adds the references of p's events (its event, then a
// correlation's others) to a's evidence, each once and at most
// alert.MaxEvidence in all, and reports whether any was added.
func addEvidence(a *alert.Alert, p *alert.Pending) bool {
	added := false
	for _, ref := range append([]string{p.EventRef}, p.Related...) {
		if ref != "" && len(a.Evidence) < alert.MaxEvidence && !slices.Contains(a.Evidence, ref) {
			a.Evidence = append(a.Evidence, ref)
			added = true
		}
	}
	return added
}

func nilIfEmpty[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}

// groupEntities returns the entities of a by which p groups.
func groupEntities(a *alert.Alert, p *alert.Pending) []entKey {
	var out []entKey
	for _, e := range a.Entities {
		if e.Value != "" && slices.Contains(p.GroupBy, e.Type) {
			out = append(out, entKey{e.Type, strings.ToLower(e.Value)})
		}
	}
	return out
}

// seen records that row's incident saw its entities at p's event.
func (r *raise) seen(row *alertRow, p *alert.Pending) {
	et := nanos(p.EventTime)
	for _, k := range groupEntities(&row.a, p) {
		es := r.ents[k]
		if es == nil { // an entity of a joined alert the detection lacks
			es = &entState{}
			r.ents[k] = es
		}
		if es.incident == 0 || et >= es.seen {
			es.incident, es.seen, es.dirty = row.a.Incident, et, true
		}
	}
}

// write stores the batch: new alerts, changed alerts, marks and incident
// entities.
func (r *raise) write(ctx context.Context) error {
	var ins, upd *stmt
	defer func() {
		for _, s := range []*stmt{ins, upd} {
			if s != nil {
				s.Close()
			}
		}
	}()
	for _, row := range r.touched {
		a := &row.a
		if row.evidence == "" {
			row.evidence = encodeStrings(a.Evidence)
		}
		if !row.isNew {
			if upd == nil {
				var err error
				if upd, err = r.tx.PrepareContext(ctx, `UPDATE alerts SET count = ?, evidence = ?, first_seen = ?, last_seen = ?,
					criticality = ?, risk = ?, updated = ? WHERE id = ?`); err != nil {
					return fmt.Errorf("raise alerts: prepare: %w", err)
				}
			}
			if _, err := upd.ExecContext(ctx, a.Count, row.evidence, nanos(a.FirstSeen), nanos(a.LastSeen),
				string(row.crit), a.Risk, nanos(a.Updated), a.ID); err != nil {
				return fmt.Errorf("raise alerts: update alert %d: %w", a.ID, err)
			}
			continue
		}
		if ins == nil {
			var err error
			if ins, err = r.tx.PrepareContext(ctx, `INSERT INTO alerts (id, tenant, producer, rule_id, title, author, level, refs, tags,
				entities, fields, dedup_key, count, evidence, event_time, first_seen, last_seen, received, created, updated, criticality,
				risk, incident, status, resolution, assignee, note, acknowledged, resolved, escalated)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', '', 0, 0, 0)`); err != nil {
				return fmt.Errorf("raise alerts: prepare: %w", err)
			}
		}
		if _, err := ins.ExecContext(ctx, a.ID, string(r.t), string(a.Producer), a.RuleID, a.Title, a.Author, a.Level,
			encodeStrings(a.References), encodeStrings(a.Tags), encodeEntities(a.Entities), encodeFields(a.Fields), a.Key,
			a.Count, row.evidence, nanos(a.EventTime), nanos(a.FirstSeen), nanos(a.LastSeen), nanos(a.Received),
			nanos(a.Created), nanos(a.Updated), string(row.crit), a.Risk, a.Incident, string(a.Status)); err != nil {
			if isForeignKey(err) {
				return fmt.Errorf("raise alerts: %w: %s", tenant.ErrNotFound, r.t)
			}
			return fmt.Errorf("raise alerts: insert alert: %w", err)
		}
	}
	if r.tx.x.postgres {
		// Past the IDs given (nextAlertID).
		if _, err := r.tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('alerts', 'id'), ?, false)`, r.nextID); err != nil {
			return fmt.Errorf("raise alerts: move the ID sequence: %w", err)
		}
	}
	// All rows in one statement each. OR IGNORE, though nothing conflicts:
	// a statement that cannot abort needs no statement journal (SQLite;
	// ON CONFLICT DO NOTHING on PostgreSQL).
	x := r.tx.x
	var marks jsonList
	for i, m := range r.marks {
		marks.tuple().hex(m[:]).int(r.markAlert[i])
	}
	if marks.n > 0 {
		if _, err := r.tx.ExecContext(ctx, `INSERT OR IGNORE INTO alert_events (mark, alert, at)
			SELECT `+x.unhex("value->>0")+`, CAST(value->>1 AS BIGINT), ? FROM `+x.jsonRows("?"), nanos(r.now), marks.String()); err != nil {
			return fmt.Errorf("raise alerts: store events: %w", err)
		}
	}
	var ents jsonList
	for k, es := range r.ents {
		if es.dirty {
			ents.tuple().str(k.typ).str(k.value).int(es.incident).int(es.seen)
		}
	}
	if ents.n > 0 {
		if _, err := r.tx.ExecContext(ctx, `INSERT OR IGNORE INTO alert_incident_entities (tenant, type, value, incident, last_seen)
			SELECT ?, value->>0, value->>1, CAST(value->>2 AS BIGINT), CAST(value->>3 AS BIGINT) FROM `+x.jsonRows("?")+` WHERE true
			ON CONFLICT (tenant, type, value) DO UPDATE SET incident = excluded.incident, last_seen = excluded.last_seen
			WHERE excluded.last_seen >= alert_incident_entities.last_seen`, string(r.t), ents.String()); err != nil {
			return fmt.Errorf("raise alerts: store incident entities: %w", err)
		}
	}
	return nil
}

// Alerts lists tenant t's alerts, newest first (f.ByRisk: riskiest first;
// f.BySLA: soonest deadline first).
func (d *DB) Alerts(ctx context.Context, t tenant.ID, f alert.Filter) ([]alert.Alert, error) {
	if !f.BySLA {
		return d.alerts(ctx, t, f, slaNone)
	}
	// By deadline in two parts: the open alerts with a deadline, read
	// through the status index and sorted (an ageing queue's resolved
	// bulk is never sorted), then those without one, newest first.
	limit := cmp.Or(f.Limit, defaultAlertsLimit)
	var out []alert.Alert
	if f.Before == 0 || f.BeforeDue < alert.NoDue {
		as, err := d.alerts(ctx, t, f, slaOpen)
		if err != nil {
			return nil, err
		}
		out = as
	}
	if len(out) < limit {
		g := f
		g.Limit = limit - len(out)
		if f.BeforeDue < alert.NoDue {
			g.Before = 0 // the cursor is among those with a deadline
		}
		as, err := d.alerts(ctx, t, g, slaNoDue)
		if err != nil {
			return nil, err
		}
		out = append(out, as...)
	}
	return out, nil
}

// defaultAlertsLimit is the most alerts a Filter without Limit lists.
const defaultAlertsLimit = 1000

// Parts of the order by deadline (alert.Filter.BySLA).
const (
	slaNone  = iota // not by deadline
	slaOpen         // the alerts with a deadline, soonest first
	slaNoDue        // those without one, newest first
)

func (d *DB) alerts(ctx context.Context, t tenant.ID, f alert.Filter, part int) ([]alert.Alert, error) {
	q, args := alertsQuery(d.db.x, t, f, part)
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	var out []alert.Alert
	for rows.Next() {
		row, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("list alerts: %w", err)
		}
		out = append(out, row.a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// alertsQuery is the query of Alerts. With several filters it walks the
// index of the one likely to match the fewest alerts, newest first, and
// tests the others on the rows (SQLite, without statistics, would pick
// any): an incident, an assignee, a rule, an open status, a level, a
// producer, and last the resolved status, the bulk of an ageing queue. The others are
// written +col, which keeps SQLite off their indexes (x.noIndex).
func alertsQuery(x *dialect, t tenant.ID, f alert.Filter, part int) (string, []any) {
	type cond struct {
		col string
		val any
	}
	var conds []cond
	if f.Incident != 0 {
		conds = append(conds, cond{"incident", f.Incident})
	}
	for _, c := range []cond{{"assignee", f.Assignee}, {"rule_id", f.RuleID}, {"status", string(f.Status)}, {"level", f.Level}, {"producer", string(f.Producer)}} {
		if c.val != "" {
			conds = append(conds, c)
		}
	}
	if f.Status == alert.StatusResolved && len(conds) > 1 {
		i := slices.IndexFunc(conds, func(c cond) bool { return c.col == "status" })
		conds = append(slices.Delete(conds, i, i+1), cond{"status", string(f.Status)})
	}
	var b strings.Builder
	b.WriteString(`SELECT ` + alertCols + ` FROM alerts WHERE tenant = ?`)
	args := []any{string(t)}
	indexed := false
	if part == slaOpen && f.Status == "" {
		// The open alerts, through the status index.
		b.WriteString(` AND status IN ('` + string(alert.StatusNew) + `', '` + string(alert.StatusAcknowledged) + `', '` + string(alert.StatusInProgress) + `')`)
		indexed = true
	}
	for _, c := range conds {
		b.WriteString(` AND `)
		if indexed {
			b.WriteString(x.noIndex)
		}
		indexed = true
		b.WriteString(c.col + ` = ?`)
		args = append(args, c.val)
	}
	if !f.CreatedFrom.IsZero() {
		b.WriteString(` AND created >= ?`)
		args = append(args, f.CreatedFrom.UnixNano())
	}
	if !f.CreatedTo.IsZero() {
		b.WriteString(` AND created < ?`)
		args = append(args, f.CreatedTo.UnixNano())
	}
	due := ""
	switch part {
	case slaOpen:
		due = dueExpr(t, f)
		b.WriteString(` AND ` + due + ` < ` + strconv.FormatInt(alert.NoDue, 10))
	case slaNoDue:
		b.WriteString(` AND ` + dueExpr(t, f) + ` = ` + strconv.FormatInt(alert.NoDue, 10))
	}
	switch {
	case f.Before > 0 && part == slaOpen:
		b.WriteString(` AND (` + due + ` > ? OR ` + due + ` = ? AND id < ?)`)
		args = append(args, f.BeforeDue, f.BeforeDue, f.Before)
	case f.Before > 0 && f.ByRisk:
		b.WriteString(` AND (risk < ? OR risk = ? AND id < ?)`)
		args = append(args, f.BeforeRisk, f.BeforeRisk, f.Before)
	case f.Before > 0:
		b.WriteString(` AND id < ?`)
		args = append(args, f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultAlertsLimit
	}
	switch {
	case part == slaOpen:
		b.WriteString(` ORDER BY ` + due + `, id DESC LIMIT ?`)
	case f.ByRisk:
		b.WriteString(` ORDER BY risk DESC, id DESC LIMIT ?`)
	default:
		b.WriteString(` ORDER BY id DESC LIMIT ?`)
	}
	args = append(args, limit)
	return b.String(), args
}

// dueExpr is alert.Filter.Due in SQL for tenant t's alerts: the deadline
// to acknowledge while new, else to resolve, alert.NoDue once resolved or
// escalated or without one. Its numbers are the tenant's service levels,
// written as literals (they come from the configuration, never a
// request), so the expression can stand in WHERE and ORDER BY alike.
func dueExpr(t tenant.ID, f alert.Filter) string {
	noDue := strconv.FormatInt(alert.NoDue, 10)
	byLevel := func(of func(alert.SLA) time.Duration) string {
		var b strings.Builder
		for l := range strings.SplitSeq(alert.Levels, ", ") {
			if f.SLA == nil {
				break
			}
			if d := of(f.SLA(t, l)); d > 0 {
				fmt.Fprintf(&b, ` WHEN '%s' THEN created + %d`, l, int64(d))
			}
		}
		if b.Len() == 0 {
			return noDue
		}
		return `CASE level` + b.String() + ` ELSE ` + noDue + ` END`
	}
	return `(CASE WHEN status IN ('` + string(alert.StatusResolved) + `', '` + string(alert.StatusEscalated) + `') THEN ` + noDue +
		` WHEN status = '` + string(alert.StatusNew) + `' THEN ` + byLevel(func(s alert.SLA) time.Duration { return s.Acknowledge }) +
		` ELSE ` + byLevel(func(s alert.SLA) time.Duration { return s.Resolve }) + ` END)`
}

// Alert returns one of tenant t's alerts.
func (d *DB) Alert(ctx context.Context, t tenant.ID, id int64) (alert.Alert, error) {
	row, err := scanAlert(d.db.QueryRowContext(ctx, `SELECT `+alertCols+` FROM alerts WHERE id = ? AND tenant = ?`, id, string(t)))
	if errors.Is(err, sql.ErrNoRows) {
		return alert.Alert{}, fmt.Errorf("alert %d: %w", id, alert.ErrNotFound)
	}
	if err != nil {
		return alert.Alert{}, fmt.Errorf("alert %d: %w", id, err)
	}
	return row.a, nil
}

// AlertTenant returns the tenant of alert id (for provider roles only).
func (d *DB) AlertTenant(ctx context.Context, id int64) (tenant.ID, error) {
	var t string
	err := d.db.QueryRowContext(ctx, `SELECT tenant FROM alerts WHERE id = ?`, id).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("alert %d: %w", id, alert.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("alert %d: %w", id, err)
	}
	return tenant.ID(t), nil
}

// Update changes the triage fields of one of tenant t's alerts with fn,
// in one transaction, and returns the alert before and after. fn works on
// a copy; an error from it aborts the change and is returned as is.
func (d *DB) Update(ctx context.Context, t tenant.ID, id int64, fn func(*alert.Alert) error) (before, after alert.Alert, err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return before, after, fmt.Errorf("update alert %d: %w", id, err)
	}
	defer tx.Rollback()
	row, err := scanAlert(tx.QueryRowContext(ctx, `SELECT `+alertCols+` FROM alerts WHERE id = ? AND tenant = ?`, id, string(t)))
	if errors.Is(err, sql.ErrNoRows) {
		return before, after, fmt.Errorf("alert %d: %w", id, alert.ErrNotFound)
	}
	if err != nil {
		return before, after, fmt.Errorf("update alert %d: %w", id, err)
	}
	b := row.a
	c := clone(b)
	if err := fn(&c); err != nil {
		return alert.Alert{}, alert.Alert{}, err
	}
	if !alert.ValidStatus(c.Status) {
		return alert.Alert{}, alert.Alert{}, fmt.Errorf("%w: status %q: want one of %s", alert.ErrInvalid, c.Status, alert.Statuses)
	}
	if c.Resolution != "" && !alert.ValidResolution(c.Resolution) {
		return alert.Alert{}, alert.Alert{}, fmt.Errorf("%w: resolution %q: want one of %s", alert.ErrInvalid, c.Resolution, alert.Resolutions)
	}
	a := clone(b)
	a.Status, a.Resolution, a.Assignee, a.Note = c.Status, c.Resolution, c.Assignee, c.Note
	a.Acknowledged, a.Resolved, a.Escalated, a.Updated = normTime(c.Acknowledged), normTime(c.Resolved), normTime(c.Escalated), normTime(c.Updated)
	a.History = c.History
	for i := range a.History {
		a.History[i].Time = normTime(a.History[i].Time)
	}
	history, err := json.Marshal(nonNilSteps(a.History))
	if err != nil {
		return alert.Alert{}, alert.Alert{}, fmt.Errorf("update alert %d: history: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE alerts SET status = ?, resolution = ?, assignee = ?, note = ?, acknowledged = ?,
		resolved = ?, escalated = ?, updated = ?, history = ? WHERE id = ?`,
		string(a.Status), string(a.Resolution), a.Assignee, a.Note, nanos(a.Acknowledged), nanos(a.Resolved), nanos(a.Escalated),
		nanos(a.Updated), string(history), id); err != nil {
		return alert.Alert{}, alert.Alert{}, fmt.Errorf("update alert %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return alert.Alert{}, alert.Alert{}, fmt.Errorf("update alert %d: commit: %w", id, err)
	}
	return b, a, nil
}

// clone copies a with its own slices.
func clone(a alert.Alert) alert.Alert {
	a.References, a.Tags, a.Evidence = slices.Clone(a.References), slices.Clone(a.Tags), slices.Clone(a.Evidence)
	a.Entities, a.Fields, a.History = slices.Clone(a.Entities), slices.Clone(a.Fields), slices.Clone(a.History)
	return a
}

// nonNilSteps returns s, or an empty history for nil (stored as []).
func nonNilSteps(s []alert.Step) []alert.Step {
	if s == nil {
		return []alert.Step{}
	}
	return s
}

const suppressionCols = `id, tenant, rule_id, conditions, reason, author, created, expires, hits`

func scanSuppression(s scanner) (alert.Suppression, error) {
	var sp alert.Suppression
	var t, conds string
	var created, expires int64
	if err := s.Scan(&sp.ID, &t, &sp.RuleID, &conds, &sp.Reason, &sp.Author, &created, &expires, &sp.Hits); err != nil {
		return sp, err
	}
	sp.Tenant, sp.Created, sp.Expires = tenant.ID(t), fromNanos(created), fromNanos(expires)
	if conds != "[]" {
		if err := json.Unmarshal([]byte(conds), &sp.Where); err != nil {
			return sp, fmt.Errorf("suppression %d conditions: %w", sp.ID, err)
		}
	}
	return sp, nil
}

// AddSuppression stores s and returns it with its ID.
func (d *DB) AddSuppression(ctx context.Context, s alert.Suppression) (alert.Suppression, error) {
	if s.Created.IsZero() {
		s.Created = time.Now()
	}
	s.Created, s.Expires = normTime(s.Created), normTime(s.Expires)
	if err := s.Validate(); err != nil {
		return alert.Suppression{}, err
	}
	s.Where = nilIfEmpty(s.Where)
	conds := "[]"
	if len(s.Where) > 0 {
		b, _ := json.Marshal(s.Where) // strings only: always marshals
		conds = string(b)
	}
	err := d.db.execScan(ctx, `INSERT INTO suppressions (tenant, rule_id, conditions, reason, author, created, expires, hits)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, []any{string(s.Tenant), s.RuleID, conds, s.Reason, s.Author, nanos(s.Created), nanos(s.Expires), s.Hits}, &s.ID)
	if isForeignKey(err) {
		return alert.Suppression{}, fmt.Errorf("add suppression: %w: %s", tenant.ErrNotFound, s.Tenant)
	}
	if err != nil {
		return alert.Suppression{}, fmt.Errorf("add suppression: %w", err)
	}
	return s, nil
}

func (d *DB) suppressions(ctx context.Context, q string, args ...any) ([]alert.Suppression, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list suppressions: %w", err)
	}
	defer rows.Close()
	var out []alert.Suppression
	for rows.Next() {
		s, err := scanSuppression(rows)
		if err != nil {
			return nil, fmt.Errorf("list suppressions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list suppressions: %w", err)
	}
	return out, nil
}

// Suppressions lists tenant t's suppressions, oldest first, expired ones
// included.
func (d *DB) Suppressions(ctx context.Context, t tenant.ID) ([]alert.Suppression, error) {
	return d.suppressions(ctx, `SELECT `+suppressionCols+` FROM suppressions WHERE tenant = ? ORDER BY id`, string(t))
}

// AllSuppressions lists every tenant's suppressions, oldest first.
func (d *DB) AllSuppressions(ctx context.Context) ([]alert.Suppression, error) {
	return d.suppressions(ctx, `SELECT `+suppressionCols+` FROM suppressions ORDER BY id`)
}

// RemoveSuppression deletes one of tenant t's suppressions and returns it.
func (d *DB) RemoveSuppression(ctx context.Context, t tenant.ID, id int64) (alert.Suppression, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return alert.Suppression{}, fmt.Errorf("remove suppression %d: %w", id, err)
	}
	defer tx.Rollback()
	s, err := scanSuppression(tx.QueryRowContext(ctx, `DELETE FROM suppressions WHERE id = ? AND tenant = ? RETURNING `+suppressionCols, id, string(t)))
	if errors.Is(err, sql.ErrNoRows) {
		return alert.Suppression{}, fmt.Errorf("suppression %d: %w", id, alert.ErrNotFound)
	}
	if err != nil {
		return alert.Suppression{}, fmt.Errorf("remove suppression %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return alert.Suppression{}, fmt.Errorf("remove suppression %d: %w", id, err)
	}
	return s, nil
}

// CountSuppressed adds hits per suppression ID of tenant t; IDs that are
// not tenant t's (or no longer exist) are ignored.
func (d *DB) CountSuppressed(ctx context.Context, t tenant.ID, hits map[int64]int64) error {
	if len(hits) == 0 {
		return nil
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("count suppressed: %w", err)
	}
	defer tx.Rollback()
	for id, n := range hits {
		if _, err := tx.ExecContext(ctx, `UPDATE suppressions SET hits = hits + ? WHERE id = ? AND tenant = ?`, n, id, string(t)); err != nil {
			return fmt.Errorf("count suppressed %d: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("count suppressed: commit: %w", err)
	}
	return nil
}

// SetAsset stores a's criticality; normal (or none) removes the asset.
func (d *DB) SetAsset(ctx context.Context, a alert.Asset) error {
	if a.Type == "" || a.Name == "" {
		return fmt.Errorf("%w: an asset needs a type and a name", alert.ErrInvalid)
	}
	key := strings.ToLower(a.Name)
	if a.Criticality == "" || a.Criticality == alert.CriticalityNormal {
		if _, err := d.db.ExecContext(ctx, `DELETE FROM assets WHERE tenant = ? AND type = ? AND key = ?`, string(a.Tenant), a.Type, key); err != nil {
			return fmt.Errorf("remove asset %s %s: %w", a.Type, a.Name, err)
		}
		return nil
	}
	if _, err := alert.ParseCriticality(string(a.Criticality)); err != nil {
		return err
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO assets (tenant, type, key, name, criticality) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant, type, key) DO UPDATE SET name = excluded.name, criticality = excluded.criticality`,
		string(a.Tenant), a.Type, key, a.Name, string(a.Criticality))
	if isForeignKey(err) {
		return fmt.Errorf("set asset: %w: %s", tenant.ErrNotFound, a.Tenant)
	}
	if err != nil {
		return fmt.Errorf("set asset %s %s: %w", a.Type, a.Name, err)
	}
	return nil
}

func (d *DB) assets(ctx context.Context, q string, args ...any) ([]alert.Asset, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list assets: %w", err)
	}
	defer rows.Close()
	var out []alert.Asset
	for rows.Next() {
		var a alert.Asset
		var t, crit string
		if err := rows.Scan(&t, &a.Type, &a.Name, &crit); err != nil {
			return nil, fmt.Errorf("list assets: %w", err)
		}
		a.Tenant, a.Criticality = tenant.ID(t), alert.Criticality(crit)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list assets: %w", err)
	}
	return out, nil
}

// Assets lists tenant t's assets by type and name.
func (d *DB) Assets(ctx context.Context, t tenant.ID) ([]alert.Asset, error) {
	return d.assets(ctx, `SELECT tenant, type, name, criticality FROM assets WHERE tenant = ? ORDER BY type, key`, string(t))
}

// AllAssets lists every tenant's assets.
func (d *DB) AllAssets(ctx context.Context) ([]alert.Asset, error) {
	return d.assets(ctx, `SELECT tenant, type, name, criticality FROM assets ORDER BY tenant, type, key`)
}

// alertMemoryMigration dates each counted event's mark (when it was
// raised; the marks kept from before, their alert's last event), so the
// retention job can forget old marks (Forget) instead of keeping one for
// every event any rule ever matched.
const alertMemoryMigration = `
ALTER TABLE alert_events ADD COLUMN at INTEGER NOT NULL DEFAULT 0;
UPDATE alert_events SET at = COALESCE((SELECT last_seen FROM alerts WHERE alerts.id = alert_events.alert), 0);
CREATE INDEX alert_events_at ON alert_events(at);
CREATE INDEX alert_incident_entities_seen ON alert_incident_entities(last_seen);`

// alertsRiskMigration serves the queue riskiest first (Filter.ByRisk).
const alertsRiskMigration = `
CREATE INDEX alerts_risk ON alerts(tenant, risk, id);`

// Forget deletes the marks of events raised before before, and the
// entities last seen by an incident (their event time) before it, in
// every tenant; see alert.Store. It deletes in batches of forgetBatch
// rows, so a first run over a large backlog never holds the database's
// write lock for long.
func (d *DB) Forget(ctx context.Context, before time.Time) (events, entities int64, err error) {
	if events, err = d.deleteBatched(ctx, `DELETE FROM alert_events WHERE mark IN (SELECT mark FROM alert_events WHERE at < ? LIMIT ?)`, nanos(before)); err != nil {
		return events, 0, fmt.Errorf("forget counted events: %w", err)
	}
	entities, err = d.deleteBatched(ctx, `DELETE FROM alert_incident_entities WHERE (tenant, type, value) IN
		(SELECT tenant, type, value FROM alert_incident_entities WHERE last_seen < ? LIMIT ?)`, nanos(before))
	if err != nil {
		return events, entities, fmt.Errorf("forget incident entities: %w", err)
	}
	return events, entities, nil
}

// forgetBatch is how many rows one statement of Forget deletes.
const forgetBatch = 20_000

// deleteBatched runs del (a DELETE taking before and a LIMIT) until it
// deletes fewer than forgetBatch rows, and returns how many it deleted.
func (d *DB) deleteBatched(ctx context.Context, del string, before int64) (int64, error) {
	var n int64
	for {
		res, err := d.db.ExecContext(ctx, del, before, forgetBatch)
		if err != nil {
			return n, err
		}
		k, err := res.RowsAffected()
		n += k
		if err != nil || k < forgetBatch {
			return n, err
		}
	}
}
