package sqlstore

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestNewerSchemaRefused: a database a newer tarian migrated (a schema
// version beyond this build's last migration) is refused at open, naming
// both versions, rather than used with tables this build does not know.
func TestNewerSchemaRefused(t *testing.T) { persistent(t, testNewerSchemaRefused) }

func testNewerSchemaRefused(t *testing.T, p place) {
	p.reopen(t) // migrated to this build's schema
	p.raw(t, fmt.Sprintf(`INSERT INTO schema_migrations (version, applied) VALUES (%d, 0)`, Schema()+1))
	var (
		db  *DB
		err error
	)
	if p.postgres {
		db, err = OpenPostgres(t.Context(), p.dsn)
	} else {
		db, err = Open(t.Context(), strings.TrimSuffix(strings.TrimPrefix(p.dsn, "file:"), "?_pragma=foreign_keys(1)"))
	}
	if err == nil {
		db.Close()
		t.Fatal("a database at a newer schema opened")
	}
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), fmt.Sprintf("schema %d and this tarian knows schema %d", Schema()+1, Schema())) {
		t.Errorf("err = %v, want ErrNewerSchema naming both schemas", err)
	}
}
