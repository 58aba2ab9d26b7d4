package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tarian-soc/tarian/internal/auth"
)

// benchAuth measures the authed middleware alone: the handler does
// nothing, so the figure is the per-request cost of authentication.
func benchAuth(b *testing.B, r *http.Request, w *acctWorld) {
	h := w.api.authed("GET /bench", readers, func(http.ResponseWriter, *http.Request, auth.Principal) error { return nil })
	rec := httptest.NewRecorder()
	h(rec, r)
	if rec.Code != 200 {
		b.Fatalf("authed = %d %s", rec.Code, rec.Body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h(rec, r)
	}
}

func BenchmarkAuthToken(b *testing.B) {
	w := newAcctWorld(b, nil)
	r := httptest.NewRequest("GET", "/api/v1/tenants", nil)
	r.Header.Set("Authorization", "Bearer "+w.tokens["provider-admin"])
	benchAuth(b, r, w)
}

func BenchmarkAuthSession(b *testing.B) {
	w := newAcctWorld(b, nil)
	w.addUser(b, "alice", "council-a", auth.RoleTenantAnalyst, pw, false)
	s := w.mustLogin(b, "alice", pw, "")
	r := httptest.NewRequest("POST", "/api/v1/alerts/1/ack", nil)
	r.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: s.cookie})
	r.Header.Set("X-CSRF-Token", s.csrf)
	benchAuth(b, r, w)
}

// BenchmarkAuthTokenMiss is a token's first request (or one after the
// cache's 10 s): the SQLite look-up the cache saves.
func BenchmarkAuthTokenMiss(b *testing.B) {
	w := newAcctWorld(b, nil)
	secret := w.tokens["provider-admin"]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := auth.Authenticate(b.Context(), w.db, secret); err != nil {
			b.Fatal(err)
		}
	}
}
