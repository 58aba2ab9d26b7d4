package sqlstore

import (
	"context"
	"fmt"

	"github.com/tarian-soc/tarian/internal/store"
)

// secretKeyMigration records which secret key the state store's sealed
// secrets and audit checkpoints are made with: its ID (a fingerprint,
// never the key).
const secretKeyMigration = `
CREATE TABLE secret_key (
	id     INTEGER PRIMARY KEY CHECK (id = 1),
	key_id TEXT NOT NULL
);`

// ClaimSecretKey records keyID as the state store's secret key when it
// has none yet, and fails with store.ErrSecretKeyDiffers when it has another:
// a server whose key differs would seal secrets the others cannot open
// and sign audit checkpoints that do not verify.
func (d *DB) ClaimSecretKey(ctx context.Context, keyID string) error {
	if _, err := d.db.ExecContext(ctx, `INSERT INTO secret_key (id, key_id) VALUES (1, ?) ON CONFLICT (id) DO NOTHING`, keyID); err != nil {
		return fmt.Errorf("record the secret key: %w", err)
	}
	var have string
	if err := d.db.QueryRowContext(ctx, `SELECT key_id FROM secret_key WHERE id = 1`).Scan(&have); err != nil {
		return fmt.Errorf("read the secret key: %w", err)
	}
	if have != keyID {
		return fmt.Errorf("%w: this server's key is %s, the state store was set up with %s", store.ErrSecretKeyDiffers, keyID, have)
	}
	return nil
}
