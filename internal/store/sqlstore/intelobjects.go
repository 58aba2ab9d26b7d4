package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/taxii"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// intelObjectsMigration keeps every version of every STIX object as it came
// (what TAXII collections serve and exports read), the status resources of
// TAXII posts, and the checkpoints of polled TAXII feeds.
//
// A version is unique per owner: two members posting the same object each
// keep theirs. The provider's copy widens its audience when the same
// version is shared again with more members. audience is ",a,b," so that
// one member is found with instr() (strpos() on PostgreSQL); aud_all is 1 for "all members".
// added (TAXII date_added, nanoseconds) is strictly increasing per store,
// drawn from intel_objects_clock, in whole microseconds so that the
// timestamps TAXII writes read back exactly.
const intelObjectsMigration = `
CREATE TABLE intel_objects (
	row          INTEGER PRIMARY KEY AUTOINCREMENT,
	id           TEXT NOT NULL,
	type         TEXT NOT NULL,
	modified     INTEGER NOT NULL,
	spec_version TEXT NOT NULL,
	added        INTEGER NOT NULL,
	tlp          TEXT NOT NULL,
	restricted   INTEGER NOT NULL,
	owner        TEXT NOT NULL,
	aud_all      INTEGER NOT NULL,
	audience     TEXT NOT NULL,
	object       BLOB NOT NULL,
	UNIQUE (owner, id, modified)
);
CREATE INDEX intel_objects_id ON intel_objects(id, modified);
CREATE UNIQUE INDEX intel_objects_added ON intel_objects(added);
CREATE TABLE intel_objects_clock (
	one  INTEGER PRIMARY KEY CHECK (one = 1),
	last INTEGER NOT NULL
);
INSERT INTO intel_objects_clock (one, last) VALUES (1, 0);
CREATE TABLE taxii_status (
	id      TEXT PRIMARY KEY,
	owner   TEXT NOT NULL,
	created INTEGER NOT NULL,
	body    BLOB NOT NULL
);
CREATE TABLE taxii_feeds (
	name       TEXT PRIMARY KEY,
	checkpoint TEXT NOT NULL,
	updated    INTEGER NOT NULL
);`

var (
	_ taxii.Store     = (*DB)(nil)
	_ taxii.FeedState = (*DB)(nil)
)

func audienceColumn(a []tenant.ID) (all int, list string) {
	if a == nil {
		return 1, ""
	}
	var b strings.Builder
	b.WriteByte(',')
	for _, t := range a {
		b.WriteString(string(t))
		b.WriteByte(',')
	}
	return 0, b.String()
}

func audienceOf(all int, list string) []tenant.ID {
	if all == 1 {
		return nil
	}
	a := []tenant.ID{}
	for _, s := range strings.Split(strings.Trim(list, ","), ",") {
		if s != "" {
			a = append(a, tenant.ID(s))
		}
	}
	return a
}

// widen returns the union of two audiences (nil, all members, wins) and
// whether it differs from have.
func widen(have, add []tenant.ID) ([]tenant.ID, bool) {
	if have == nil {
		return nil, false
	}
	if add == nil {
		return nil, true
	}
	out, changed := slices.Clone(have), false
	for _, t := range add {
		if !slices.Contains(out, t) {
			out, changed = append(out, t), true
		}
	}
	return out, changed
}

// versionColumn is a version as stored: 0 for an object that has none (a
// cyber-observable object: its deterministic id is its content, so it is
// stored once).
func versionColumn(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// PutObjects stores object versions. A version already held for the same
// owner is left as it is (the provider's widens its audience to the new
// one's); added counts the versions stored or widened. It sets each
// object's Added: its new date_added, or the one it already had.
func (d *DB) PutObjects(ctx context.Context, objs []intel.Object) (added int, err error) {
	for _, o := range objs {
		switch {
		case o.ID == "" || o.Type == "":
			return 0, fmt.Errorf("object %q: id and type are required", o.ID)
		case len(o.JSON) == 0:
			return 0, fmt.Errorf("object %s: no JSON", o.ID)
		}
		if _, err := intel.ParseTLP(string(o.TLP)); err != nil {
			return 0, fmt.Errorf("object %s: %w", o.ID, err)
		}
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT last FROM intel_objects_clock WHERE one = 1`).Scan(&last); err != nil {
		return 0, fmt.Errorf("read object clock: %w", err)
	}
	stamp := func() int64 {
		now := time.Now().Truncate(time.Microsecond).UnixNano()
		last = max(now, last+int64(time.Microsecond))
		return last
	}
	get, err := tx.PrepareContext(ctx, `SELECT row, added, aud_all, audience FROM intel_objects WHERE owner = ? AND id = ? AND modified = ?`)
	if err != nil {
		return 0, err
	}
	defer get.Close()
	put, err := tx.PrepareContext(ctx, `INSERT INTO intel_objects (id, type, modified, spec_version, added, tlp, restricted, owner, aud_all, audience, object)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return 0, err
	}
	defer put.Close()
	for i := range objs {
		o := &objs[i]
		var (
			row, have  int64
			all        int
			list       string
			mod, owner = versionColumn(o.Modified), string(o.Owner)
		)
		switch err := get.QueryRowContext(ctx, owner, o.ID, mod).Scan(&row, &have, &all, &list); {
		case errors.Is(err, sql.ErrNoRows):
			at := stamp()
			aall, alist := audienceColumn(o.Audience)
			if o.Owner != "" {
				aall, alist = 0, ""
			}
			if _, err := put.ExecContext(ctx, o.ID, o.Type, mod, o.SpecVersion, at, string(o.TLP), o.TLP.Restricted(), owner, aall, alist, []byte(o.JSON)); err != nil {
				return 0, fmt.Errorf("store object %s: %w", o.ID, err)
			}
			o.Added = time.Unix(0, at).UTC()
			added++
		case err != nil:
			return 0, fmt.Errorf("look up object %s: %w", o.ID, err)
		default:
			o.Added = time.Unix(0, have).UTC()
			if o.Owner != "" {
				continue
			}
			aud, changed := widen(audienceOf(all, list), o.Audience)
			if !changed {
				continue
			}
			at := stamp()
			aall, alist := audienceColumn(aud)
			if _, err := tx.ExecContext(ctx, `UPDATE intel_objects SET aud_all = ?, audience = ?, added = ? WHERE row = ?`, aall, alist, at, row); err != nil {
				return 0, fmt.Errorf("widen object %s: %w", o.ID, err)
			}
			o.Added = time.Unix(0, at).UTC()
			added++
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE intel_objects_clock SET last = ? WHERE one = 1`, last); err != nil {
		return 0, err
	}
	return added, tx.Commit()
}

// objectSelect builds the query of q: the rows the viewer may read in the
// collection, one per (id, version), per id its latest spec version unless
// q names some, the versions q keeps, added after q's cursor, in the order
// they were added. limit is the LIMIT (0: none). every keeps the copies of
// one version that several owners hold (for deleting); else the first
// stored stands for them.
//
// The rows are walked in date_added order (its unique index) from the
// cursor, each tested against its siblings (same id, by the id index), so
// a page costs its own rows, not the collection's.
func objectSelect(d *dialect, q intel.ObjectQuery, limit int, every bool) (string, []any, error) {
	if err := q.Validate(); err != nil {
		return "", nil, err
	}
	if !q.Provider && q.Viewer == "" {
		return "", nil, errors.New("object query: no viewer")
	}
	var args []any
	// scope is the viewer's right to read and the collection, for the row
	// alias x; it appends its arguments.
	scope := func(x string) string {
		var w []string
		if !q.Provider {
			w = append(w, `(`+x+`.owner = ? OR (`+x+`.owner = '' AND ((`+x+`.aud_all = 1 AND `+x+`.restricted = 0) OR `+d.strpos+`(`+x+`.audience, ?) > 0)))`)
			args = append(args, string(q.Viewer), ","+string(q.Viewer)+",")
		}
		switch {
		case q.Shared:
			w = append(w, x+`.owner = '' AND `+x+`.aud_all = 1`)
		case q.Member != "":
			w = append(w, `(`+x+`.owner = ? OR (`+x+`.owner = '' AND `+d.strpos+`(`+x+`.audience, ?) > 0))`)
			args = append(args, string(q.Member), ","+string(q.Member)+",")
		}
		if len(q.SpecVersions) > 0 {
			w = append(w, x+`.spec_version IN (`+strings.TrimSuffix(strings.Repeat("?,", len(q.SpecVersions)), ",")+`)`)
			for _, v := range q.SpecVersions {
				args = append(args, v)
			}
		}
		if len(w) == 0 {
			return "true"
		}
		return strings.Join(w, " AND ")
	}
	// sibling is "another row x of o's object that the query could
	// return" (without the version and cursor filters).
	sibling := func(x, cond string) string {
		s := `EXISTS (SELECT 1 FROM intel_objects ` + x + ` WHERE ` + x + `.id = o.id AND ` + cond + ` AND ` + scope(x)
		if len(q.SpecVersions) == 0 {
			s += ` AND ` + x + `.spec_version = o.spec_version`
		}
		return s + `)`
	}
	where := []string{scope("o")}
	in := func(col string, vs []string) {
		if len(vs) == 0 {
			return
		}
		where = append(where, col+` IN (`+strings.TrimSuffix(strings.Repeat("?,", len(vs)), ",")+`)`)
		for _, v := range vs {
			args = append(args, v)
		}
	}
	in("o.id", q.IDs)
	in("o.type", q.Types)
	if len(q.SpecVersions) == 0 {
		// Per object, its latest spec version only.
		c := `NOT EXISTS (SELECT 1 FROM intel_objects s WHERE s.id = o.id AND s.spec_version > o.spec_version AND ` + scope("s") + `)`
		where = append(where, c)
	}
	if !every {
		where = append(where, `NOT `+sibling("d", `d.modified = o.modified AND d.row < o.row`))
	}
	versions := q.Versions
	if len(versions) == 0 {
		versions = []string{intel.VersionLast}
	}
	if !slices.Contains(versions, intel.VersionAll) {
		var vers []string
		for _, v := range versions {
			switch v {
			case intel.VersionFirst:
				vers = append(vers, `NOT `+sibling("f", `f.modified < o.modified`))
			case intel.VersionLast:
				vers = append(vers, `NOT `+sibling("l", `l.modified > o.modified`))
			default:
				t, _ := intel.ParseTimestamp(v) // Validate checked it
				vers = append(vers, "o.modified = ?")
				args = append(args, t.UnixNano())
			}
		}
		where = append(where, `(`+strings.Join(vers, " OR ")+`)`)
	}
	var after int64
	switch {
	case q.AddedAfter.After(time.Unix(0, math.MaxInt64)):
		after = math.MaxInt64
	case q.AddedAfter.After(time.Unix(0, 0)):
		after = q.AddedAfter.UnixNano()
	}
	if q.Next != "" {
		n, err := strconv.ParseInt(q.Next, 10, 64)
		if err != nil || n < 0 {
			return "", nil, fmt.Errorf("next %q: not a cursor this server gave", q.Next)
		}
		after = max(after, n)
	}
	where = append(where, "o.added > ?")
	args = append(args, after)
	// Walk date_added's index (or, for named objects, the id index):
	// left to itself, the planner prefers the owner index and sorts every
	// row of a collection for each page.
	index := "intel_objects_added"
	if len(q.IDs) > 0 {
		index = "intel_objects_id"
	}
	s := `SELECT o.row, o.id, o.type, o.modified, o.spec_version, o.added, o.tlp, o.owner, o.aud_all, o.audience, o.object
FROM intel_objects o INDEXED BY ` + index + ` WHERE ` + strings.Join(where, " AND ") + ` ORDER BY o.added`
	if limit > 0 {
		s += ` LIMIT ?`
		args = append(args, limit)
	}
	return s, args, nil
}

type objectRow struct {
	row int64
	intel.Object
}

func (d *DB) objectRows(ctx context.Context, q intel.ObjectQuery, limit int, every bool) ([]objectRow, error) {
	s, args, err := objectSelect(d.db.x, q, limit, every)
	if err != nil {
		return nil, err
	}
	rows, err := d.db.QueryContext(ctx, s, args...)
	if err != nil {
		return nil, fmt.Errorf("query objects: %w", err)
	}
	defer rows.Close()
	var out []objectRow
	for rows.Next() {
		var (
			r               objectRow
			mod, added      int64
			tlp, owner, aud string
			all             int
			body            []byte
		)
		if err := rows.Scan(&r.row, &r.ID, &r.Type, &mod, &r.SpecVersion, &added, &tlp, &owner, &all, &aud, &body); err != nil {
			return nil, err
		}
		r.Added = time.Unix(0, added).UTC()
		if mod != 0 {
			r.Modified = time.Unix(0, mod).UTC()
		}
		r.TLP, r.Owner, r.JSON = intel.TLP(tlp), tenant.ID(owner), json.RawMessage(body)
		if r.Owner == "" {
			r.Audience = audienceOf(all, aud)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Objects returns a page of the object versions q selects, oldest added
// first; more reports that there are more, from q.Next =
// intel.ObjectCursor(the last one).
func (d *DB) Objects(ctx context.Context, q intel.ObjectQuery) (objs []intel.Object, more bool, err error) {
	limit := 0
	if q.Limit > 0 {
		limit = q.Limit + 1
	}
	rows, err := d.objectRows(ctx, q, limit, false)
	if err != nil {
		return nil, false, err
	}
	if q.Limit > 0 && len(rows) > q.Limit {
		rows, more = rows[:q.Limit], true
	}
	objs = make([]intel.Object, len(rows))
	for i, r := range rows {
		objs[i] = r.Object
	}
	return objs, more, nil
}

// DeleteObjects deletes the versions q selects (Limit and Next ignored)
// that the viewer may change: a member its own, the provider any.
func (d *DB) DeleteObjects(ctx context.Context, q intel.ObjectQuery) (deleted int, err error) {
	q.Limit, q.Next = 0, ""
	rows, err := d.objectRows(ctx, q, 0, true)
	if err != nil {
		return 0, err
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	for _, r := range rows {
		if !q.Provider && r.Owner != q.Viewer {
			continue
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM intel_objects WHERE row = ?`, r.row)
		if err != nil {
			return 0, fmt.Errorf("delete object %s: %w", r.ID, err)
		}
		n, _ := res.RowsAffected()
		deleted += int(n)
	}
	return deleted, tx.Commit()
}

// SaveTAXIIStatus stores a TAXII status resource.
func (d *DB) SaveTAXIIStatus(ctx context.Context, st taxii.Status) error {
	body, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if _, err := d.db.ExecContext(ctx, `INSERT INTO taxii_status (id, owner, created, body) VALUES (?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET body = excluded.body`, st.ID, string(st.Owner), time.Now().UnixNano(), body); err != nil {
		return fmt.Errorf("store taxii status %s: %w", st.ID, err)
	}
	return nil
}

// TAXIIStatus returns a status resource, whoever owns it (taxii checks).
func (d *DB) TAXIIStatus(ctx context.Context, id string) (taxii.Status, error) {
	var (
		st    taxii.Status
		owner string
		body  []byte
	)
	err := d.db.QueryRowContext(ctx, `SELECT owner, body FROM taxii_status WHERE id = ?`, id).Scan(&owner, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("%w: status %s", taxii.ErrNotFound, id)
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, fmt.Errorf("status %s: %w", id, err)
	}
	st.Owner = tenant.ID(owner)
	return st, nil
}

// TAXIIFeedCheckpoint returns where feed name's polling stopped ("" never
// polled).
func (d *DB) TAXIIFeedCheckpoint(ctx context.Context, name string) (string, error) {
	var c string
	err := d.db.QueryRowContext(ctx, `SELECT checkpoint FROM taxii_feeds WHERE name = ?`, name).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return c, err
}

// SetTAXIIFeedCheckpoint records where feed name's polling stopped.
func (d *DB) SetTAXIIFeedCheckpoint(ctx context.Context, name, checkpoint string) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO taxii_feeds (name, checkpoint, updated) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET checkpoint = excluded.checkpoint, updated = excluded.updated`, name, checkpoint, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("store taxii feed %s checkpoint: %w", name, err)
	}
	return nil
}
