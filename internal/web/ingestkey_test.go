package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// keysDown is a state store that cannot answer for Idempotency-Keys.
type keysDown struct{ puts int }

func (k *keysDown) IngestKey(context.Context, tenant.ID, string, time.Time) (string, string, bool, error) {
	return "", "", false, errors.New("state store down")
}

func (k *keysDown) PutIngestKey(context.Context, tenant.ID, string, string, string, time.Time, time.Time) error {
	k.puts++
	return errors.New("state store down")
}

// keyedIngester records the write keys of what it accepts.
type keyedIngester struct{ keys []string }

func (i *keyedIngester) AcceptNDJSON(ctx context.Context, _ tenant.ID, _ string, _ []byte) (ingest.Summary, error) {
	i.keys = append(i.keys, ingest.WriteKey(ctx))
	return ingest.Summary{Accepted: 1, Errors: []ingest.LineError{}}, nil
}

// TestIngestKeyStoreDown: with the state store unable to look a key up
// or keep its answer, a keyed batch is still written (named by its key,
// so the bus stores a retry once) and acknowledged, not refused.
func TestIngestKeyStoreDown(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, t.TempDir()+"/state.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: "council-a", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	secret, id, hash := auth.NewSecret()
	if err := db.CreateToken(ctx, auth.Token{ID: id, Tenant: "council-a", Role: auth.RoleIngest, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	in, keys := &keyedIngester{}, &keysDown{}
	api := New(DefaultConfig(), Deps{Tenants: db, Tokens: db, Ingest: in, IngestLimit: ingest.DefaultConfig(), IngestKeys: keys,
		Log: slog.New(slog.DiscardHandler), Ready: func() error { return nil }})
	req := httptest.NewRequest(http.MethodPost, "/api/v1/ingest", strings.NewReader(`{"message":"x"}`+"\n"))
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Idempotency-Key", "batch-1")
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || len(in.keys) != 1 || in.keys[0] != "batch-1" || keys.puts != 1 {
		t.Errorf("keyed ingest with the state store down: %d %s, write keys %q, answers kept %d; want 200, written under batch-1, one try to keep it",
			rec.Code, rec.Body, in.keys, keys.puts)
	}
}
