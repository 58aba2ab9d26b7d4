package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
)

// Writers. SQLite runs one write transaction at a time (_txlock=immediate:
// BEGIN takes the write lock), and the code relies on it: a transaction
// that reads and then writes (the head of an audit chain, the open alerts
// a detection joins, the next alert ID) sees no other writer in between.
//
// PostgreSQL gets the same guarantee from one transaction-scoped advisory
// lock, writersLock, taken first thing in every write transaction and
// released by its commit or rollback; the transaction is READ COMMITTED,
// so each statement after the lock sees every earlier writer's commit.
// The lock is per database, so it serialises the writers of every tarian
// process sharing the database, and the migrations (a migration is a
// write transaction too). A statement run outside a transaction that may
// write (ExecContext, execScan) is wrapped in such a transaction.
//
// SERIALIZABLE with retries would let writers run in parallel, but every
// write transaction would have to be a function that can be run again
// (the code has callbacks and side effects mid-transaction), and a hot
// chain head or alert key would make the retries the common case. The
// state store's writes are small and few next to the events (which go to
// the event store), so one writer at a time, as SQLite has, is the simple
// choice; readers never wait for it.
//
// Within a process, writers queue on a channel first, so that those
// waiting hold no pooled connection and readers always find one.

// writersLock is the key of the writers' advisory lock: "tarian" and 1.
const writersLock int64 = 0x74617269616e0001

// engine is the database handle of every method: database/sql with the
// dialect's query rewrite and, on PostgreSQL, the writers' lock.
type engine struct {
	db     *sql.DB
	x      *dialect
	writer chan struct{} // PostgreSQL: one write transaction of this process at a time
	stmts  *stmtCache    // SQLite: prepared statements by query text
}

func newEngine(db *sql.DB, postgres bool) *engine {
	e := &engine{db: db, x: newDialect(postgres), writer: make(chan struct{}, 1)}
	if !postgres {
		e.stmts = &stmtCache{m: map[string]*sql.Stmt{}}
	}
	return e
}

// stmtCache keeps SQLite's statements prepared: compiling a statement
// took about two fifths of raising an alert. PostgreSQL's driver keeps
// its own cache. Query texts are the code's constants, some with
// optional filters; one with a built list of placeholders ("IN
// (?,?,?)", a text per length) is not kept, and the bound holds the rest:
// a statement past it is prepared each time, as without the cache.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// maxStmts bounds the statements an engine keeps prepared.
const maxStmts = 256

// prepared returns query's cached statement, preparing it on first use;
// nil when there is no cache, it is full or the statement did not
// prepare (running it unprepared then reports the error, or succeeds
// once what it names exists).
func (e *engine) prepared(ctx context.Context, query string) *sql.Stmt {
	c := e.stmts
	if c == nil {
		return nil
	}
	c.mu.Lock()
	s, ok := c.m[query]
	full := len(c.m) >= maxStmts
	c.mu.Unlock()
	if ok || full || strings.Contains(query, "?,?") {
		return s
	}
	s, err := e.db.PrepareContext(ctx, query)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		s = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if had, ok := c.m[query]; ok { // prepared meanwhile by another caller
		if s != nil {
			s.Close()
		}
		return had
	}
	c.m[query] = s
	return s
}

// args converts arguments the PostgreSQL driver would refuse: booleans
// are stored as integers 0 and 1, as in SQLite.
func (x *dialect) args(args []any) []any {
	if !x.postgres {
		return args
	}
	var out []any
	for i, a := range args {
		b, ok := a.(bool)
		if !ok {
			continue
		}
		if out == nil {
			out = append([]any(nil), args...)
		}
		out[i] = 0
		if b {
			out[i] = 1
		}
	}
	if out == nil {
		return args
	}
	return out
}

func (e *engine) Close() error {
	if c := e.stmts; c != nil {
		c.mu.Lock()
		for q, s := range c.m {
			if s != nil {
				s.Close()
			}
			delete(c.m, q)
		}
		c.mu.Unlock()
	}
	return e.db.Close()
}

// ExecContext runs a statement; on PostgreSQL one that may write runs in a
// write transaction.
func (e *engine) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	q := e.x.rewrite(query)
	if s := e.prepared(ctx, q.text); s != nil {
		return s.ExecContext(ctx, args...)
	}
	if !q.write || !e.x.postgres {
		return e.db.ExecContext(ctx, q.text, e.x.args(args)...)
	}
	tx, err := e.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	res, err := tx.tx.ExecContext(ctx, q.text, e.x.args(args)...)
	if err != nil {
		return nil, err
	}
	return res, tx.Commit()
}

// QueryContext runs a query that does not write (see execScan).
func (e *engine) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := e.prepared(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return e.db.QueryContext(ctx, e.x.rewrite(query).text, e.x.args(args)...)
}

// QueryRowContext runs a query that does not write (see execScan).
func (e *engine) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := e.prepared(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return e.db.QueryRowContext(ctx, e.x.rewrite(query).text, e.x.args(args)...)
}

// execScan runs a statement that writes and returns one row (RETURNING),
// scanning the row into dest; sql.ErrNoRows when it returned none.
func (e *engine) execScan(ctx context.Context, query string, args []any, dest ...any) error {
	tx, err := e.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, query, args...).Scan(dest...); err != nil {
		return err
	}
	return tx.Commit()
}

// BeginTx starts a transaction: a write transaction unless opts says
// ReadOnly. On PostgreSQL a read-only one is REPEATABLE READ (one
// snapshot, as SQLite's read transactions) and a write one takes the
// writers' lock.
func (e *engine) BeginTx(ctx context.Context, opts *sql.TxOptions) (*txn, error) {
	if !e.x.postgres {
		t, err := e.db.BeginTx(ctx, opts)
		if err != nil {
			return nil, err
		}
		return &txn{tx: t, x: e.x, e: e}, nil
	}
	if opts != nil && opts.ReadOnly {
		t, err := e.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
		if err != nil {
			return nil, err
		}
		return &txn{tx: t, x: e.x, e: e}, nil
	}
	select {
	case e.writer <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release := func() { <-e.writer }
	t, err := e.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		release()
		return nil, err
	}
	if _, err := t.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, writersLock); err != nil {
		t.Rollback()
		release()
		return nil, fmt.Errorf("take the writers' lock: %w", err)
	}
	return &txn{tx: t, x: e.x, e: e, release: release}, nil
}

// txn is a transaction of an engine.
type txn struct {
	tx      *sql.Tx
	x       *dialect
	e       *engine // for its prepared statements (SQLite)
	release func()  // frees the process's writer slot, once
	// unprepared are the queries it ran that had no cached statement.
	unprepared []string
}

func (t *txn) done() {
	if t.release != nil {
		t.release()
		t.release = nil
	}
	for _, q := range t.unprepared {
		t.e.prepared(context.Background(), q)
	}
	t.unprepared = nil
}

func (t *txn) Commit() error {
	defer t.done()
	return t.tx.Commit()
}

// Rollback ends the transaction unless it was committed (then it is a
// no-op returning sql.ErrTxDone, as *sql.Tx's).
func (t *txn) Rollback() error {
	defer t.done()
	return t.tx.Rollback()
}

// The transaction's copies of cached statements are closed with it.

func (t *txn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := t.prepared(query); s != nil {
		return t.tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, t.x.rewrite(query).text, t.x.args(args)...)
}

func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := t.prepared(query); s != nil {
		return t.tx.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, t.x.rewrite(query).text, t.x.args(args)...)
}

func (t *txn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := t.prepared(query); s != nil {
		return t.tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, t.x.rewrite(query).text, t.x.args(args)...)
}

// prepared returns query's cached statement, or nil. A transaction does
// not prepare one itself: that takes a second connection from the pool
// while it holds the write lock, and when every other connection waits
// for that lock, it waits until their busy timeout. It is prepared once
// the transaction has ended.
func (t *txn) prepared(query string) *sql.Stmt {
	c := t.e.stmts
	if c == nil {
		return nil
	}
	c.mu.Lock()
	s, ok := c.m[query]
	c.mu.Unlock()
	if !ok && !slices.Contains(t.unprepared, query) {
		t.unprepared = append(t.unprepared, query)
	}
	return s
}

func (t *txn) PrepareContext(ctx context.Context, query string) (*stmt, error) {
	s, err := t.tx.PrepareContext(ctx, t.x.rewrite(query).text)
	if err != nil {
		return nil, err
	}
	return &stmt{s: s, x: t.x}, nil
}

// savepoint runs fn inside a savepoint: when fn fails, its changes are
// undone and the transaction goes on (PostgreSQL aborts a transaction at
// its first failed statement otherwise).
func (t *txn) savepoint(ctx context.Context, fn func() error) error {
	if _, err := t.tx.ExecContext(ctx, `SAVEPOINT sp`); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rerr := t.tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT sp`); rerr != nil {
			return errors.Join(err, rerr)
		}
		_, rerr := t.tx.ExecContext(ctx, `RELEASE SAVEPOINT sp`)
		return errors.Join(err, rerr)
	}
	_, err := t.tx.ExecContext(ctx, `RELEASE SAVEPOINT sp`)
	return err
}

// stmt is a prepared statement of a transaction.
type stmt struct {
	s *sql.Stmt
	x *dialect
}

func (s *stmt) Close() error { return s.s.Close() }

func (s *stmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return s.s.ExecContext(ctx, s.x.args(args)...)
}

func (s *stmt) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	return s.s.QueryRowContext(ctx, s.x.args(args)...)
}

// isUnique reports a unique constraint's violation.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// isForeignKey reports a foreign key's violation.
func isForeignKey(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	return err != nil && strings.Contains(err.Error(), "FOREIGN KEY")
}
