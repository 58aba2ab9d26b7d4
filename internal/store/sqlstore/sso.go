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

// ssoMigration links users to the single sign-on identities they were
// provisioned for: an identity provider's name (as configured) and the
// subject ("sub") it gives the person. A user has at most one; an identity
// signs in as no other user.
const ssoMigration = `
CREATE TABLE sso_identities (
	provider TEXT NOT NULL,
	subject  TEXT NOT NULL,
	user_id  INTEGER NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
	PRIMARY KEY (provider, subject)
);`

// SSOUser returns the user linked to provider's subject.
func (d *DB) SSOUser(ctx context.Context, provider, subject string) (auth.User, error) {
	u, err := scanUser(d.db.QueryRowContext(ctx, `SELECT `+prefixed("u.", userColumns)+` FROM sso_identities i JOIN users u ON u.id = i.user_id
		WHERE i.provider = ? AND i.subject = ?`, provider, subject))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.User{}, fmt.Errorf("%w: %s of %s", auth.ErrUserNotFound, subject, provider)
	}
	return u, err
}

// CreateSSOUser stores a new user linked to provider's subject, both or
// neither. A name in use answers auth.ErrUserExists.
func (d *DB) CreateSSOUser(ctx context.Context, u auth.User, provider, subject string) (auth.User, error) {
	if err := u.Validate(); err != nil {
		return auth.User{}, err
	}
	if u.Created.IsZero() {
		u.Created = time.Now().UTC()
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return auth.User{}, err
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, `INSERT INTO users (name, name_key, tenant, role, email, password, require_mfa, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Name, auth.UserNameKey(u.Name), nullTenant(u.Tenant), string(u.Role), u.Email, u.PasswordHash, u.RequireMFA, u.Created.UnixNano()).Scan(&u.ID)
	switch {
	case isUnique(err):
		return auth.User{}, fmt.Errorf("%w: %s", auth.ErrUserExists, u.Name)
	case isForeignKey(err):
		return auth.User{}, fmt.Errorf("%w: %s", tenant.ErrNotFound, u.Tenant)
	case err != nil:
		return auth.User{}, fmt.Errorf("insert user %s: %w", u.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sso_identities (provider, subject, user_id) VALUES (?, ?, ?)`, provider, subject, u.ID); err != nil {
		if isUnique(err) {
			return auth.User{}, fmt.Errorf("%w: %s of %s is linked", auth.ErrUserExists, subject, provider)
		}
		return auth.User{}, fmt.Errorf("link user %s: %w", u.Name, err)
	}
	return u, tx.Commit()
}

// SetUserRole changes tenant t's user name's role and revokes its
// sessions (they carry the old role) and the tokens that act for it (made
// under the old role: a user the identity provider demoted must not keep
// an admin's token), as SetUserDisabled does, and returns those tokens.
func (d *DB) SetUserRole(ctx context.Context, t tenant.ID, name string, role auth.Role) (revoked []auth.Token, err error) {
	if err := (auth.User{Name: name, Tenant: t, Role: role}).Validate(); err != nil {
		return nil, err
	}
	err = d.userTx(ctx, t, name, func(tx *txn, id int64) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ?, epoch = epoch + 1 WHERE id = ?`, string(role), id); err != nil {
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

// prefixed qualifies each column of a list with p.
func prefixed(p, cols string) string {
	fs := strings.Split(cols, ", ")
	for i := range fs {
		fs[i] = p + fs[i]
	}
	return strings.Join(fs, ", ")
}
