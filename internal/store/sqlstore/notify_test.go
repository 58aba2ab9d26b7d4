package sqlstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/alert/notify"
)

func TestNotifyChannelsTenantScoped(t *testing.T) { backends(t, testNotifyChannelsTenantScoped) }

func testNotifyChannelsTenantScoped(t *testing.T, open func(testing.TB) *DB) {
	ctx := context.Background()
	db := open(t)
	created := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	a, err := db.AddNotifyChannel(ctx, notify.Channel{
		Tenant: "council-a", Name: "on-call", Kind: notify.Email, Target: "smtp://mail:587 to x@y",
		Mail:   &notify.Mail{Server: "mail:587", TLS: notify.TLSStartTLS, Username: "soc", From: "soc@x", To: []string{"x@y"}},
		Route:  notify.Route{MinSeverity: "high", Tags: []string{"attack.t1059*"}, Hours: []string{"mon-fri 18:00-08:00 Europe/London"}, Changes: []string{"created", "escalate"}},
		Sealed: []byte{1, 2, 3}, Created: created,
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.AddNotifyChannel(ctx, notify.Channel{Tenant: notify.Provider, Name: "provider", Kind: notify.Slack, Target: "https://hooks.slack.com/…", Sealed: []byte{4}, Created: created})
	if err != nil {
		t.Fatal(err)
	}

	got, err := db.NotifyChannel(ctx, "council-a", a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("round trip (-added +read):\n%s", diff)
	}
	if _, err := db.NotifyChannel(ctx, "council-b", a.ID); !errors.Is(err, notify.ErrNotFound) {
		t.Errorf("council-b reads council-a's channel: %v", err)
	}
	if _, err := db.RemoveNotifyChannel(ctx, "council-b", a.ID); !errors.Is(err, notify.ErrNotFound) {
		t.Errorf("council-b removes council-a's channel: %v", err)
	}
	if cs, err := db.NotifyChannels(ctx, "council-b"); err != nil || len(cs) != 0 {
		t.Errorf("council-b lists %v, %v", cs, err)
	}
	if cs, err := db.NotifyChannels(ctx, notify.Provider); err != nil || len(cs) != 1 || cs[0].ID != p.ID {
		t.Errorf("provider lists %v, %v", cs, err)
	}
	if all, err := db.AllNotifyChannels(ctx); err != nil || len(all) != 2 {
		t.Errorf("all: %v, %v", all, err)
	}
	if ten, err := db.NotifyChannelTenant(ctx, a.ID); err != nil || ten != "council-a" {
		t.Errorf("tenant of %d: %q, %v", a.ID, ten, err)
	}
	if _, err := db.NotifyChannelTenant(ctx, 999); !errors.Is(err, notify.ErrNotFound) {
		t.Errorf("tenant of 999: %v", err)
	}

	for i := range 3 {
		if _, err := db.AddNotifyDeadLetter(ctx, notify.DeadLetter{Tenant: "council-a", Channel: a.ID, ChannelName: "on-call", Kind: notify.Email,
			AlertTenant: "council-a", AlertID: int64(10 + i), Change: "created", Payload: "Subject: x", LastError: "smtp: 554", Attempts: 5, Time: created}); err != nil {
			t.Fatal(err)
		}
	}
	dls, err := db.NotifyDeadLetters(ctx, "council-a", 0, 2)
	if err != nil || len(dls) != 2 || dls[0].AlertID != 12 || dls[1].AlertID != 11 || dls[0].Payload != "Subject: x" || dls[0].Attempts != 5 || !dls[0].Time.Equal(created) {
		t.Fatalf("dead letters %+v, %v", dls, err)
	}
	if more, err := db.NotifyDeadLetters(ctx, "council-a", dls[1].ID, 10); err != nil || len(more) != 1 || more[0].AlertID != 10 {
		t.Errorf("next page %+v, %v", more, err)
	}
	if other, err := db.NotifyDeadLetters(ctx, "council-b", 0, 10); err != nil || len(other) != 0 {
		t.Errorf("council-b dead letters %+v, %v", other, err)
	}

	removed, err := db.RemoveNotifyChannel(ctx, "council-a", a.ID)
	if err != nil || removed.ID != a.ID {
		t.Fatalf("remove: %+v, %v", removed, err)
	}
	if _, err := db.NotifyChannel(ctx, "council-a", a.ID); !errors.Is(err, notify.ErrNotFound) {
		t.Errorf("after remove: %v", err)
	}
	if dls, _ := db.NotifyDeadLetters(ctx, "council-a", 0, 10); len(dls) != 3 {
		t.Errorf("dead letters after the channel's removal: %d, want 3", len(dls))
	}
}
