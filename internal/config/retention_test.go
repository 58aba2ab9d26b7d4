package config

import (
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

func TestRetentionFor(t *testing.T) {
	day := 24 * time.Hour
	r := Retention{
		Default: Keep{Events: 90 * day, DeadLetters: 30 * day},
		Tenants: map[string]Keep{"north-vale": {Events: 30 * day, Raw: 7 * day}},
	}
	if got, want := r.For("north-vale"), (Keep{Events: 30 * day, Raw: 7 * day, DeadLetters: 30 * day}); got != want {
		t.Errorf("north-vale: %+v, want %+v", got, want)
	}
	if got, want := r.For(tenant.ID("south-fire")), r.Default; got != want {
		t.Errorf("south-fire: %+v, want the default %+v", got, want)
	}
}

func TestRetentionNamesKeyAndReason(t *testing.T) {
	tests := []struct{ body, want string }{
		{"retention:\n  tenants:\n    north-vale: {events: 2h}\n", "retention.tenants.north-vale.events: 2h0m0s is shorter than one day"},
		{"retention:\n  default: {raw: -24h}\n", "retention.default.raw: -24h0m0s is negative"},
		{"retention:\n  tenants:\n    north-vale: {events: 9000h}\n", "retention.tenants.north-vale.events: 9000h0m0s is longer than events.retention"},
		{"retention:\n  tenants:\n    North_Vale: {events: 48h}\n", "retention.tenants.North_Vale"},
		{"retention:\n  interval: 1s\n", "retention.interval"},
	}
	for _, tt := range tests {
		_, err := Load(writeFile(t, tt.body), noEnv)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.body, err, tt.want)
		}
	}
	c, err := Load(writeFile(t, "retention:\n  default: {dead_letters: 9000h}\n  tenants:\n    north-vale: {events: 720h, raw: 720h}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Retention.For("north-vale").Events != 720*time.Hour {
		t.Errorf("retention not read: %+v", c.Retention)
	}
}

func TestRawFollowsEvents(t *testing.T) {
	if got := (Keep{Events: 30 * 24 * time.Hour}).RawOrEvents(); got != 30*24*time.Hour {
		t.Errorf("raw follows events: %v", got)
	}
	if got := (Keep{Events: 30 * 24 * time.Hour, Raw: 48 * time.Hour}).RawOrEvents(); got != 48*time.Hour {
		t.Errorf("raw of its own: %v", got)
	}
}
