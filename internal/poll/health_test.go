package poll_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/poll"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// TestHealthSurvivesRestart: a stream's last success, last error and
// record count are what a restarted server (a new Service on the same
// database) shows, and the count goes on from there.
func TestHealthSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	e.cfg.ContentTypes = []string{"Audit.General"}
	e.cfg.MaxAttempts = 1
	for i, id := range []string{"signin-1", "signin-2", "signin-3"} {
		e.ms.addSignIn(id, e.clock.Now().Add(-time.Duration(60-i)*time.Minute))
	}
	e.ms.addBlob("Audit.General", "general-1", e.clock.Now().Add(-2*time.Hour), 2)
	s := e.service()
	info := e.addSource(s, e.ms.secret, poll.StreamSignIns, poll.StreamM365)
	src := e.source(info.ID)
	s.PollSource(t.Context(), src)
	okAt := e.clock.Now().UTC()

	// The next poll of the sign-ins fails; the audit stream succeeds.
	e.clock.advance(5 * time.Minute)
	e.ms.mu.Lock()
	e.ms.throttle["/v1.0/auditLogs/signIns"] = []int{503}
	e.ms.mu.Unlock()
	s.PollSource(t.Context(), src)
	failAt := e.clock.Now().UTC()
	before := s.Health(info.ID)
	want := []poll.Health{
		{Stream: poll.StreamSignIns, LastSuccess: &okAt, LastError: before[0].LastError, LastErrorTime: &failAt, Records: 3},
		{Stream: poll.StreamM365 + "/Audit.General", LastSuccess: &failAt, Records: 2},
	}
	if diff := cmp.Diff(want, before); diff != "" || !strings.Contains(before[0].LastError, "503") {
		t.Fatalf("health before the restart (-want +got):\n%s", diff)
	}

	// Restart: the same health, through Health and the API's List.
	s2 := e.service()
	if diff := cmp.Diff(before, s2.Health(info.ID)); diff != "" {
		t.Errorf("health after the restart (-before +after):\n%s", diff)
	}
	l1, l2 := mustList(t, s), mustList(t, s2)
	j1, _ := json.Marshal(l1)
	j2, _ := json.Marshal(l2)
	if string(j1) != string(j2) {
		t.Errorf("API list after the restart:\n got %s\nwant %s", j2, j1)
	}

	// Polling on counts from the stored number and clears the error.
	e.ms.addSignIn("signin-4", e.clock.Now().Add(-30*time.Minute))
	e.clock.advance(5 * time.Minute)
	s2.PollSource(t.Context(), src)
	h := s2.Health(info.ID)
	if h[0].Records != 4 || h[0].LastError != "" || h[0].LastErrorTime != nil || !h[0].LastSuccess.Equal(e.clock.Now()) {
		t.Errorf("sign-in health after the next poll: %+v, want 4 records and no error", h[0])
	}
	if s3 := e.service(); !cmp.Equal(h, s3.Health(info.ID)) {
		t.Errorf("health after a second restart: %+v, want %+v", s3.Health(info.ID), h)
	}

	// A content type taken out of the configuration is not shown again.
	e.cfg.ContentTypes = []string{"Audit.Exchange"}
	if h := e.service().Health(info.ID); len(h) != 1 || h[0].Stream != poll.StreamSignIns {
		t.Errorf("health with Audit.General no longer polled: %+v", h)
	}

	// Removing the source removes its stored health.
	if err := s2.Remove(t.Context(), acme, info.ID); err != nil {
		t.Fatal(err)
	}
	if hs, err := e.db.PollHealth(t.Context(), acme, info.ID); err != nil || len(hs) != 0 {
		t.Errorf("stored health after removal: %+v, %v", hs, err)
	}
}

// TestHealthOfFailingSourceSurvivesRestart: a source that never worked
// (refused secret: no checkpoint yet) keeps its error across a restart,
// and its streams still start from the lookback.
func TestHealthOfFailingSourceSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	e.ms.addSignIn("signin-1", e.clock.Now().Add(-time.Hour))
	s := e.service()
	info := e.addSource(s, "old~Expired.Secret-Value", poll.StreamSignIns)
	src := e.source(info.ID)
	s.PollSource(t.Context(), src)
	before := s.Health(info.ID)
	if len(before) != 1 || !strings.Contains(before[0].LastError, "AADSTS7000222") {
		t.Fatalf("health = %+v, want the refused secret", before)
	}
	if diff := cmp.Diff(before, e.service().Health(info.ID)); diff != "" {
		t.Errorf("health after the restart (-before +after):\n%s", diff)
	}
	cp, err := e.db.PollCheckpoint(t.Context(), acme, info.ID, poll.StreamSignIns)
	if err != nil || !cp.Time.IsZero() || len(cp.Seen) != 0 {
		t.Errorf("checkpoint of a stream with only health = %+v, %v, want none", cp, err)
	}
	// Health and checkpoint are kept side by side: writing one leaves the
	// other.
	at := e.clock.Now().Add(-time.Hour).UTC()
	if err := e.db.SetPollCheckpoint(t.Context(), acme, info.ID, poll.StreamSignIns, poll.Checkpoint{Time: at, Seen: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	if hs, err := e.db.PollHealth(t.Context(), acme, info.ID); err != nil || !cmp.Equal(hs, before) {
		t.Errorf("health after a checkpoint: %+v, %v", hs, err)
	}
	if err := e.db.SetPollHealth(t.Context(), acme, info.ID, poll.Health{Stream: poll.StreamSignIns, Records: 7}); err != nil {
		t.Fatal(err)
	}
	if cp, err := e.db.PollCheckpoint(t.Context(), acme, info.ID, poll.StreamSignIns); err != nil || !cp.Time.Equal(at) {
		t.Errorf("checkpoint after a health write: %+v, %v", cp, err)
	}
	// Neither a source that does not exist nor another tenant's is written.
	for _, c := range []struct {
		ten tenant.ID
		id  int64
	}{{acme, info.ID + 100}, {"globex", info.ID}} {
		if err := e.db.SetPollHealth(t.Context(), c.ten, c.id, poll.Health{Stream: poll.StreamSignIns}); !errors.Is(err, poll.ErrNotFound) {
			t.Errorf("health stored for %s's source %d: err = %v, want ErrNotFound", c.ten, c.id, err)
		}
	}
	if hs, err := e.db.PollHealth(t.Context(), "globex", info.ID); err != nil || len(hs) != 0 {
		t.Errorf("globex reads acme's health: %+v, %v", hs, err)
	}
}
