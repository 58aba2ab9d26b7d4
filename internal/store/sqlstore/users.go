package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// usersMigration holds local accounts, their recovery codes and their
// sessions. Sessions are stored by the SHA-256 of their ID, recovery codes
// by the SHA-256 of the code; a password only as its argon2id hash.
const usersMigration = `
CREATE TABLE users (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	name           TEXT NOT NULL UNIQUE,
	tenant         TEXT REFERENCES tenants(id),
	role           TEXT NOT NULL,
	email          TEXT NOT NULL,
	password       TEXT NOT NULL,
	disabled       INTEGER NOT NULL DEFAULT 0,
	require_mfa    INTEGER NOT NULL DEFAULT 0,
	totp_secret    BLOB,
	totp_pending   BLOB,
	totp_last_step INTEGER NOT NULL DEFAULT 0,
	created        INTEGER NOT NULL
);
CREATE INDEX users_tenant ON users(tenant, name);
CREATE TABLE recovery_codes (
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	hash    BLOB NOT NULL,
	PRIMARY KEY (user_id, hash)
);
CREATE TABLE sessions (
	hash        BLOB PRIMARY KEY,
	user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	csrf        TEXT NOT NULL,
	created     INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	mfa_pending INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
ALTER TABLE tokens ADD COLUMN expires INTEGER NOT NULL DEFAULT 0;`

// accountsMigration makes user names unique whatever their letter case,
// and ties a token to the user it acts for.
//
// name_key is the name in lower case (auth.UserNameKey), unique: "Alice"
// cannot be made beside "alice". A database from before may hold names
// that differ only in case: the oldest of each such set gets the key, the
// others none (NULL), so the migration never fails on them and each of
// them still logs in by its exact spelling (UserByName), while any other
// spelling is the oldest's.
//
// epoch counts the revocations of a user's credentials (disable, reset);
// a token records its user (user_id) and the epoch it was made at, and
// works only while they match (TokenByHash). Deleting a user deletes its
// tokens.
const accountsMigration = `
ALTER TABLE users ADD COLUMN name_key TEXT;
ALTER TABLE users ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
UPDATE users SET name_key = lower(name)
	WHERE NOT EXISTS (SELECT 1 FROM users o WHERE lower(o.name) = lower(users.name) AND o.id < users.id);
CREATE UNIQUE INDEX users_name_any_case ON users(name_key);
ALTER TABLE tokens ADD COLUMN user_id INTEGER REFERENCES users(id) ON DELETE CASCADE;
ALTER TABLE tokens ADD COLUMN user_epoch INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tokens_user ON tokens(user_id);`

func nullTenant(t tenant.ID) any {
	if t == "" {
		return nil
	}
	return string(t)
}

const userColumns = `id, name, tenant, role, email, password, disabled, require_mfa, totp_secret, totp_last_step, created, epoch`

func scanUser(s scanner) (auth.User, error) {
	var u auth.User
	var ten sql.NullString
	var role string
	var created int64
	if err := s.Scan(&u.ID, &u.Name, &ten, &role, &u.Email, &u.PasswordHash, &u.Disabled, &u.RequireMFA, &u.TOTPSecret, &u.TOTPLastStep, &created, &u.Epoch); err != nil {
		return u, err
	}
	u.Tenant = tenant.ID(ten.String)
	u.Role = auth.Role(role)
	u.Created = time.Unix(0, created).UTC()
	return u, nil
}

// CreateUser stores a new user and returns it with its ID.
func (d *DB) CreateUser(ctx context.Context, u auth.User) (auth.User, error) {
	if err := u.Validate(); err != nil {
		return auth.User{}, err
	}
	if u.Created.IsZero() {
		u.Created = time.Now().UTC()
	}
	err := d.db.execScan(ctx, `INSERT INTO users (name, name_key, tenant, role, email, password, require_mfa, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		[]any{u.Name, auth.UserNameKey(u.Name), nullTenant(u.Tenant), string(u.Role), u.Email, u.PasswordHash, u.RequireMFA, u.Created.UnixNano()}, &u.ID)
	switch {
	case isUnique(err):
		return auth.User{}, fmt.Errorf("%w: %s", auth.ErrUserExists, u.Name)
	case isForeignKey(err):
		return auth.User{}, fmt.Errorf("%w: %s", tenant.ErrNotFound, u.Tenant)
	case err != nil:
		return auth.User{}, fmt.Errorf("insert user %s: %w", u.Name, err)
	}
	return u, nil
}

// UserByName returns the user called name, whatever its tenant (login
// knows only the name) and whatever the letter case: the user whose name
// is spelt so, else the one whose name differs only in case (the oldest,
// where a database from before names were unique in any case holds
// several: accountsMigration).
func (d *DB) UserByName(ctx context.Context, name string) (auth.User, error) {
	u, err := scanUser(d.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ? OR name_key = ?
		ORDER BY CASE WHEN name = ? THEN 0 ELSE 1 END LIMIT 1`, name, auth.UserNameKey(name), name))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.User{}, fmt.Errorf("%w: %s", auth.ErrUserNotFound, name)
	}
	return u, err
}

// User returns tenant t's user name ("" t: a provider user).
func (d *DB) User(ctx context.Context, t tenant.ID, name string) (auth.User, error) {
	u, err := scanUser(d.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE tenant IS NOT DISTINCT FROM ? AND name = ?`, nullTenant(t), name))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.User{}, fmt.Errorf("%w: %s", auth.ErrUserNotFound, name)
	}
	return u, err
}

// Users lists tenant t's users by name ("" t: the provider's); all lists
// every user of every tenant and the provider.
func (d *DB) Users(ctx context.Context, t tenant.ID, all bool) ([]auth.User, error) {
	q, args := `SELECT `+userColumns+` FROM users WHERE tenant IS NOT DISTINCT FROM ? ORDER BY name`, []any{nullTenant(t)}
	if all {
		q, args = `SELECT `+userColumns+` FROM users ORDER BY name`, nil
	}
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auth.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// userTx runs fn in a transaction on tenant t's user name, giving it the
// user's ID.
func (d *DB) userTx(ctx context.Context, t tenant.ID, name string, fn func(tx *txn, id int64) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx, `SELECT id FROM users WHERE tenant IS NOT DISTINCT FROM ? AND name = ?`, nullTenant(t), name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s", auth.ErrUserNotFound, name)
	}
	if err != nil {
		return err
	}
	if err := fn(tx, id); err != nil {
		return err
	}
	return tx.Commit()
}

// SetUserDisabled disables (or enables) tenant t's user name. Disabling
// revokes every session of the user and every token that acts for it (it
// moves the user's epoch on, and deletes them), and returns those tokens.
func (d *DB) SetUserDisabled(ctx context.Context, t tenant.ID, name string, disabled bool) (revoked []auth.Token, err error) {
	err = d.userTx(ctx, t, name, func(tx *txn, id int64) error {
		if !disabled {
			_, err := tx.ExecContext(ctx, `UPDATE users SET disabled = 0 WHERE id = ?`, id)
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled = 1, epoch = epoch + 1 WHERE id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
			return err
		}
		revoked, err = revokeUserTokens(ctx, tx, id)
		return err
	})
	return revoked, err
}

// DeleteUser removes tenant t's user name with its sessions, recovery
// codes and identity provider links, revokes the tokens that act for it,
// and returns those tokens. The name is free again; what the user did
// (audit records, authorship, alert history) keeps naming it.
func (d *DB) DeleteUser(ctx context.Context, t tenant.ID, name string) (revoked []auth.Token, err error) {
	err = d.userTx(ctx, t, name, func(tx *txn, id int64) error {
		if revoked, err = revokeUserTokens(ctx, tx, id); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM sessions WHERE user_id = ?`,
			`DELETE FROM recovery_codes WHERE user_id = ?`,
			`DELETE FROM sso_identities WHERE user_id = ?`,
			`DELETE FROM users WHERE id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete user %s: %w", name, err)
			}
		}
		return nil
	})
	return revoked, err
}

// ResetUser sets tenant t's user name's password hash, removes its TOTP
// enrolment and recovery codes (it enrols again), revokes its sessions
// and the tokens that act for it (as SetUserDisabled), and returns those
// tokens.
func (d *DB) ResetUser(ctx context.Context, t tenant.ID, name, passwordHash string) (revoked []auth.Token, err error) {
	err = d.userTx(ctx, t, name, func(tx *txn, id int64) error {
		for _, q := range []string{
			`UPDATE users SET password = ?, totp_secret = NULL, totp_pending = NULL, totp_last_step = 0, epoch = epoch + 1 WHERE id = ?`,
			`DELETE FROM recovery_codes WHERE user_id = ?`,
			`DELETE FROM sessions WHERE user_id = ?`,
		} {
			args := []any{id}
			if strings.HasPrefix(q, "UPDATE") {
				args = []any{passwordHash, id}
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		revoked, err = revokeUserTokens(ctx, tx, id)
		return err
	})
	return revoked, err
}

// revokeUserTokens deletes the tokens that act for user id and returns
// them (without their hashes).
func revokeUserTokens(ctx context.Context, tx *txn, id int64) ([]auth.Token, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens t LEFT JOIN users u ON u.id = t.user_id WHERE t.user_id = ? ORDER BY t.created, t.id`, id)
	if err != nil {
		return nil, err
	}
	toks, err := scanTokens(rows)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE user_id = ?`, id); err != nil {
		return nil, fmt.Errorf("revoke the tokens of user %d: %w", id, err)
	}
	return toks, nil
}

// SetTOTPPending stores a TOTP secret being enrolled for tenant t's user
// name; ConfirmTOTP makes it the user's.
func (d *DB) SetTOTPPending(ctx context.Context, t tenant.ID, name string, secret []byte) error {
	return d.userTx(ctx, t, name, func(tx *txn, id int64) error {
		_, err := tx.ExecContext(ctx, `UPDATE users SET totp_pending = ? WHERE id = ?`, secret, id)
		return err
	})
}

// TOTPPending returns the secret being enrolled (nil if none).
func (d *DB) TOTPPending(ctx context.Context, t tenant.ID, name string) ([]byte, error) {
	var secret []byte
	err := d.db.QueryRowContext(ctx, `SELECT totp_pending FROM users WHERE tenant IS NOT DISTINCT FROM ? AND name = ?`, nullTenant(t), name).Scan(&secret)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", auth.ErrUserNotFound, name)
	}
	return secret, err
}

// ConfirmTOTP makes the pending secret tenant t's user name's, with step
// as its last accepted step, and replaces its recovery codes with
// codeHashes.
func (d *DB) ConfirmTOTP(ctx context.Context, t tenant.ID, name string, step int64, codeHashes [][]byte) error {
	return d.userTx(ctx, t, name, func(tx *txn, id int64) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = ? WHERE id = ? AND totp_pending IS NOT NULL`, step, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errors.New("no TOTP enrolment in progress")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, id); err != nil {
			return err
		}
		for _, h := range codeHashes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, hash) VALUES (?, ?)`, id, h); err != nil {
				return err
			}
		}
		return nil
	})
}

// UseTOTPStep records step as the last TOTP step accepted for user id, if
// it is later than the one recorded; false means the code was replayed
// (also by a concurrent login).
func (d *DB) UseTOTPStep(ctx context.Context, t tenant.ID, id int64, step int64) (bool, error) {
	res, err := d.db.ExecContext(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ? AND tenant IS NOT DISTINCT FROM ? AND totp_last_step < ?`, step, id, nullTenant(t), step)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// UseRecoveryCode consumes the recovery code with hash of user id; false
// if there is none (never issued, or used).
func (d *DB) UseRecoveryCode(ctx context.Context, t tenant.ID, id int64, hash []byte) (bool, error) {
	res, err := d.db.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = (SELECT id FROM users WHERE id = ? AND tenant IS NOT DISTINCT FROM ?) AND hash = ?`, id, nullTenant(t), hash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RecoveryCodesLeft counts user id's unused recovery codes.
func (d *DB) RecoveryCodesLeft(ctx context.Context, id int64) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?`, id).Scan(&n)
	return n, err
}

// CreateSession stores s.
func (d *DB) CreateSession(ctx context.Context, s auth.Session) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO sessions (hash, user_id, csrf, created, last_seen, mfa_pending) VALUES (?, ?, ?, ?, ?, ?)`,
		s.Hash, s.UserID, s.CSRF, s.Created.UnixNano(), s.LastSeen.UnixNano(), s.MFAPending)
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionByHash returns the session whose ID hashes to hash and its user.
func (d *DB) SessionByHash(ctx context.Context, hash []byte) (auth.Session, auth.User, error) {
	var s auth.Session
	var u auth.User
	var ten sql.NullString
	var role string
	var created, seen int64
	err := d.db.QueryRowContext(ctx, `SELECT s.user_id, s.csrf, s.created, s.last_seen, s.mfa_pending, u.name, u.tenant, u.role, u.disabled, u.epoch
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = ?`, hash).
		Scan(&s.UserID, &s.CSRF, &created, &seen, &s.MFAPending, &u.Name, &ten, &role, &u.Disabled, &u.Epoch)
	if errors.Is(err, sql.ErrNoRows) {
		return s, u, auth.ErrSessionGone
	}
	if err != nil {
		return s, u, err
	}
	s.Hash = hash
	s.Created, s.LastSeen = time.Unix(0, created), time.Unix(0, seen)
	u.ID, u.Tenant, u.Role = s.UserID, tenant.ID(ten.String), auth.Role(role)
	return s, u, nil
}

// TouchSession records activity on a session (idle expiry counts from it).
func (d *DB) TouchSession(ctx context.Context, hash []byte, now time.Time) error {
	_, err := d.db.ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE hash = ?`, now.UnixNano(), hash)
	return err
}

// SessionMFADone clears a session's pending MFA enrolment.
func (d *DB) SessionMFADone(ctx context.Context, hash []byte) error {
	_, err := d.db.ExecContext(ctx, `UPDATE sessions SET mfa_pending = 0 WHERE hash = ?`, hash)
	return err
}

// DeleteSession revokes one session.
func (d *DB) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
	return err
}

// DeleteExpiredSessions removes sessions idle since before idle or created
// before absolute.
func (d *DB) DeleteExpiredSessions(ctx context.Context, idle, absolute time.Time) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen < ? OR created < ?`, idle.UnixNano(), absolute.UnixNano())
	return err
}

func unixNanoOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// tokenColumns are a token's columns (t) and its user's name (u) as
// scanTokens reads them: never the hash.
const tokenColumns = `t.id, t.tenant, t.role, t.name, t.created, t.expires, t.user_id, t.user_epoch, u.name`

// scanToken reads one row of tokenColumns.
func scanToken(s scanner) (auth.Token, error) {
	var tok auth.Token
	var ten, user sql.NullString
	var uid sql.NullInt64
	var role string
	var created, expires int64
	if err := s.Scan(&tok.ID, &ten, &role, &tok.Name, &created, &expires, &uid, &tok.UserEpoch, &user); err != nil {
		return auth.Token{}, err
	}
	tok.Tenant, tok.Role, tok.Created = tenant.ID(ten.String), auth.Role(role), time.Unix(0, created).UTC()
	if expires != 0 {
		tok.Expires = time.Unix(0, expires).UTC()
	}
	tok.User, tok.UserName = uid.Int64, user.String
	return tok, nil
}

func scanTokens(rows *sql.Rows) ([]auth.Token, error) {
	defer rows.Close()
	var out []auth.Token
	for rows.Next() {
		tok, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, tok)
	}
	return out, rows.Err()
}

// TokenByID returns the token id (without its hash).
func (d *DB) TokenByID(ctx context.Context, id string) (auth.Token, error) {
	tok, err := scanToken(d.db.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens t LEFT JOIN users u ON u.id = t.user_id WHERE t.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Token{}, auth.ErrNotFound
	}
	return tok, err
}

// RevokeToken deletes tenant t's token id ("" t: a provider token).
func (d *DB) RevokeToken(ctx context.Context, t tenant.ID, id string) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM tokens WHERE id = ? AND tenant IS NOT DISTINCT FROM ?`, id, nullTenant(t))
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return auth.ErrNotFound
	}
	return nil
}

// Tokens lists tenant t's tokens ("" t: the provider's), or every token
// when all is set, oldest first, without their hashes, each with the name
// of the user it acts for.
func (d *DB) Tokens(ctx context.Context, t tenant.ID, all bool) ([]auth.Token, error) {
	q, args := `SELECT `+tokenColumns+` FROM tokens t LEFT JOIN users u ON u.id = t.user_id WHERE t.tenant IS NOT DISTINCT FROM ? ORDER BY t.created, t.id`, []any{nullTenant(t)}
	if all {
		q, args = `SELECT `+tokenColumns+` FROM tokens t LEFT JOIN users u ON u.id = t.user_id ORDER BY t.created, t.id`, nil
	}
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return scanTokens(rows)
}
