package sqlstore

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/defend"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// TestAlertedBefore: a retro-hunt's detection is of an event already
// alerted when an alert of the same tenant, of another rule, that saw the
// detection's observable counts that event; not for another tenant's
// alert, another observable, another event or its own rule.
func TestAlertedBefore(t *testing.T) { backends(t, testAlertedBefore) }

// twoCouncils adds the tenants council-a and council-b and returns the
// tests' time.
func twoCouncils(t *testing.T, db *DB) time.Time {
	t.Helper()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, tn := range []tenant.ID{"council-a", "council-b"} {
		if _, err := db.CreateTenant(t.Context(), tenant.Tenant{ID: tn, Name: string(tn), Created: at}); err != nil {
			t.Fatal(err)
		}
	}
	return at
}

func testAlertedBefore(t *testing.T, open func(testing.TB) *DB) {
	ctx := t.Context()
	db := open(t)
	at := twoCouncils(t, db)
	const seenKey = "domain-name:login.phish-wave.net"
	det := func(rule, hash string) alert.Detection {
		return alert.Detection{Producer: alert.ProducerSigma, RuleID: rule, Level: "high", EventHash: hash, EventRef: "3:" + hash,
			EventTime: at.Add(-time.Hour), Received: at.Add(-time.Hour + time.Second)}
	}
	raise := func(tn tenant.ID, d alert.Detection, keys ...string) {
		t.Helper()
		cs, err := db.Raise(ctx, tn, []alert.Pending{{Detection: d, Key: d.EventHash, Window: time.Hour}}, at)
		if err != nil || len(cs) != 1 {
			t.Fatalf("raise: %v %+v", err, cs)
		}
		if len(keys) > 0 {
			if err := db.RecordObservables(ctx, tn, cs[0].Alert.ID, at, keys); err != nil {
				t.Fatal(err)
			}
		}
	}
	// council-a: the wave rule saw the domain in events h1 and h2; another
	// rule alerted on h3 without it. council-b's wave alert holds h4.
	raise("council-a", det("wave", "h1"), seenKey, "ipv4-addr:203.0.113.77")
	raise("council-a", det("wave", "h2"), seenKey)
	raise("council-a", det("other", "h3"))
	raise("council-b", det("wave", "h4"), seenKey)

	retro := func(hash string) alert.Detection {
		d := det("intel:indicator--1", hash)
		d.Producer = alert.ProducerRetroHunt
		return d
	}
	tests := []struct {
		name string
		t    tenant.ID
		ds   []alert.Detection
		keys []string
		want []bool
	}{
		{"the wave's events, not the others", "council-a",
			[]alert.Detection{retro("h1"), retro("h3"), retro("h2"), retro("h5"), retro("h4")},
			[]string{seenKey, seenKey, seenKey, seenKey, seenKey},
			[]bool{true, false, true, false, false}},
		{"another observable of the same event", "council-a",
			[]alert.Detection{retro("h1"), retro("h1")},
			[]string{"domain-name:elsewhere.example", "ipv4-addr:203.0.113.77"},
			[]bool{false, true}},
		{"another member's alert counts for it alone", "council-b",
			[]alert.Detection{retro("h4"), retro("h1")},
			[]string{seenKey, seenKey},
			[]bool{true, false}},
		{"its own rule is Raise's to count", "council-a",
			[]alert.Detection{det("wave", "h1")},
			[]string{seenKey},
			[]bool{false}},
		{"no key", "council-a", []alert.Detection{retro("h1")}, []string{""}, []bool{false}},
	}
	for _, tt := range tests {
		got, err := db.AlertedBefore(ctx, tt.t, tt.ds, tt.keys)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	if _, err := db.AlertedBefore(ctx, "council-a", []alert.Detection{retro("h1")}, nil); err == nil {
		t.Error("detections without their keys: no error")
	}
}

// TestUnpropagate: forgetting an alert's shares says, per indicator it
// shared, how many alerts still share it, on both backends.
func TestUnpropagate(t *testing.T) { backends(t, testUnpropagate) }

func testUnpropagate(t *testing.T, open func(testing.TB) *DB) {
	ctx := t.Context()
	db := open(t)
	at := twoCouncils(t, db)
	for _, p := range []struct {
		ind   string
		t     tenant.ID
		alert int64
	}{{"sender", "council-a", 1}, {"domain", "council-a", 1}, {"sender", "council-b", 7}} {
		if err := db.RecordPropagation(ctx, p.ind, p.t, p.alert, at); err != nil {
			t.Fatal(err)
		}
	}
	left, err := db.Unpropagate(ctx, "council-a", 1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"sender": 1, "domain": 0}, left); diff != "" {
		t.Errorf("left (-want +got):\n%s", diff)
	}
	if left, err := db.Unpropagate(ctx, "council-a", 1); err != nil || len(left) != 0 {
		t.Errorf("again: %v, %v; want nothing", left, err)
	}
	if left, err := db.Unpropagate(ctx, "council-b", 7); err != nil || left["sender"] != 0 {
		t.Errorf("council-b's: %v, %v; want sender with none left", left, err)
	}
}

// TestCampaignStatus: a closed campaign is not open for new alerts, lists
// under its status with who closed it and why, and its alerts do not count
// towards a new campaign of its observables; opened again, it forgets its
// closing.
func TestCampaignStatus(t *testing.T) { backends(t, testCampaignStatus) }

func testCampaignStatus(t *testing.T, open func(testing.TB) *DB) {
	ctx := t.Context()
	db := open(t)
	at := twoCouncils(t, db)
	const key = "domain:login.phish-wave.net"
	for i, tn := range []tenant.ID{"council-a", "council-b"} {
		if err := db.RecordObservables(ctx, tn, int64(i+1), at, []string{key}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := db.CreateCampaign(ctx, defend.Campaign{Kind: "domain", Value: "login.phish-wave.net", FirstSeen: at, LastSeen: at, Created: at, Status: defend.StatusOpen})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.LinkCampaign(ctx, c.ID, []defend.Link{{Tenant: "council-a", AlertID: 1, Seen: at}}, []string{key}); err != nil {
		t.Fatal(err)
	}
	closedAt := at.Add(time.Hour)
	if err := db.SetCampaignStatus(ctx, c.ID, defend.StatusChange{Status: defend.StatusClosed, By: "user:rhys", Note: "blocked", At: closedAt}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := db.OpenCampaign(ctx, []string{key}, at.Add(-time.Hour)); err != nil || ok {
		t.Errorf("an open campaign of the key after closing: %v, %v", ok, err)
	}
	got, err := db.Campaigns(ctx, defend.StatusClosed, 10)
	if err != nil || len(got) != 1 || got[0].ClosedBy != "user:rhys" || got[0].CloseNote != "blocked" || got[0].ClosedAt == nil || !got[0].ClosedAt.Equal(closedAt) {
		t.Fatalf("closed campaigns: %+v, %v", got, err)
	}
	if got, err := db.Campaigns(ctx, defend.StatusOpen, 10); err != nil || len(got) != 0 {
		t.Errorf("open campaigns: %+v, %v", got, err)
	}
	if got, err := db.Campaigns(ctx, "", 10); err != nil || len(got) != 1 {
		t.Errorf("every campaign: %+v, %v", got, err)
	}
	// council-a's alert is in the closed campaign; council-b's is not.
	links, err := db.SeenSince(ctx, key, at.Add(-time.Hour))
	if err != nil || len(links) != 1 || links[0].Tenant != "council-b" {
		t.Errorf("seen since, but for the closed campaign's alerts: %+v, %v", links, err)
	}

	if err := db.SetCampaignStatus(ctx, c.ID, defend.StatusChange{Status: defend.StatusOpen}); err != nil {
		t.Fatal(err)
	}
	c, err = db.Campaign(ctx, c.ID)
	if err != nil || c.Status != defend.StatusOpen || c.ClosedAt != nil || c.ClosedBy != "" || c.CloseNote != "" {
		t.Errorf("opened again: %+v, %v", c, err)
	}
	if links, err := db.SeenSince(ctx, key, at.Add(-time.Hour)); err != nil || len(links) != 2 {
		t.Errorf("seen since, the campaign open: %+v, %v", links, err)
	}
	if err := db.SetCampaignStatus(ctx, c.ID+100, defend.StatusChange{Status: defend.StatusClosed}); !errors.Is(err, defend.ErrNotFound) {
		t.Errorf("closing a campaign that does not exist: %v", err)
	}
}
