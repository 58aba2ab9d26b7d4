// Package health is log-source health: every source a member sends
// (tenant + receiver + host + type) with when it was last heard, its rate
// against a baseline learned per hour of day, and how much of it no format
// recognised. A source that goes silent, or whose hourly count falls
// sharply below its baseline, raises an alert (producer health) through
// the alert pipeline: a ransomware crew's first act is often to stop the
// logging.
//
// The Monitor is a stage consumer: it counts each record once, and its
// counts and baselines are saved with its checkpoint in the state store,
// so they survive restarts and a crash counts nothing twice.
package health

import (
	"fmt"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Config tunes the monitor (the `health:` section).
type Config struct {
	// Silence is how long a source may stay quiet before it is silent;
	// a declared source's own silence (sources[].silence) overrides it.
	Silence time.Duration `yaml:"silence"`
	// Drop is the fall against the baseline that raises a drop alert:
	// 0.8 alerts when an hour brings less than a fifth of what that hour
	// of day usually brings.
	Drop float64 `yaml:"drop"`
	// DropMinEvents is the least baseline (events in that hour of day)
	// a drop is judged against: quieter sources vary too much.
	DropMinEvents float64 `yaml:"drop_min_events"`
	// MinExpected is how many events a source that no log source
	// declares must have been expected to send during its quiet time
	// before its silence alerts: a laptop that sleeps at night has a
	// baseline of nothing then, and its silence is no news.
	MinExpected float64 `yaml:"min_expected"`
	// Level is the level of silence alerts of declared sources; others,
	// and drops, are one level lower.
	Level string `yaml:"level"`
	// TimeZone is the IANA zone whose hours of the day (and working days
	// and weekends) the baselines learn: Europe/London for the UK.
	TimeZone string `yaml:"time_zone"`
	// ForgetAfter is how long a source nobody declared may stay quiet
	// before it leaves the sources list, the scorecard and its baselines
	// (a laptop replaced, a server retired); declared sources stay.
	ForgetAfter time.Duration `yaml:"forget_after"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Silence: time.Hour, Drop: 0.8, DropMinEvents: 100, MinExpected: 10, Level: "high", TimeZone: "UTC", ForgetAfter: 30 * 24 * time.Hour}
}

// Validate reports the first bad setting, naming its key.
func (c Config) Validate() error {
	switch {
	case c.Silence < 10*time.Second:
		return fmt.Errorf("silence: %s is too short (at least 10s)", c.Silence)
	case c.Drop <= 0 || c.Drop >= 1:
		return fmt.Errorf("drop: %v is not a fraction between 0 and 1 (0.8 alerts below a fifth of the baseline)", c.Drop)
	case c.DropMinEvents < 0:
		return fmt.Errorf("drop_min_events: %v is negative", c.DropMinEvents)
	case c.MinExpected < 0:
		return fmt.Errorf("min_expected: %v is negative", c.MinExpected)
	case c.ForgetAfter < 24*time.Hour || c.ForgetAfter < c.Silence:
		return fmt.Errorf("forget_after: %s is shorter than a day or than silence (%s)", c.ForgetAfter, c.Silence)
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "" {
		return fmt.Errorf("time_zone: %q is not an IANA time zone (e.g. Europe/London, UTC)", c.TimeZone)
	}
	switch c.Level {
	case "low", "medium", "high", "critical":
		return nil
	}
	return fmt.Errorf("level: %q is not one of low, medium, high, critical", c.Level)
}

// Key names a log source: whose, through which receiver, from which host,
// of which type (the format it was parsed as; empty when none recognised
// it).
type Key struct {
	Tenant   tenant.ID `json:"tenant"`
	Receiver string    `json:"receiver"`
	Host     string    `json:"host"`
	Type     string    `json:"type"`
}

// Label names the source for people: "syslog/fortigate from fw01".
func (k Key) Label() string {
	typ := k.Type
	if typ == "" {
		typ = TypeUnknown
	}
	s := k.Receiver + "/" + typ
	if k.Host != "" {
		s += " from " + k.Host
	}
	return s
}

// TypeUnknown stands for the type of records no format recognised.
const TypeUnknown = "unknown"

// States of a source.
const (
	// StateOK: heard from within its silence, at a usual rate.
	StateOK = "ok"
	// StateSilent: quiet past its silence when it was expected to speak.
	StateSilent = "silent"
	// StateDropped: its last hour brought far less than its baseline.
	StateDropped = "dropped"
	// StateIdle: quiet past its silence, but no source declares it and
	// its baseline expected next to nothing then (a laptop at night).
	StateIdle = "idle"
	// StateWaiting: declared, never heard from.
	StateWaiting = "waiting"
)

// Source is one source's health, as the API and CLI show it.
type Source struct {
	Key
	// Name is the declared log source that claims it (sources[].name).
	Name      string    `json:"name,omitempty"`
	Declared  bool      `json:"declared"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// Events counts every event since first seen; Unparsed those no
	// format recognised.
	Events   int64 `json:"events"`
	Unparsed int64 `json:"unparsed"`
	// DeadLetters counts the receiver's dead letters of the last 24
	// hours (records refused or not parsed), on the source row of the
	// receiver without host and type.
	DeadLetters int64 `json:"dead_letters_24h"`
	// Rate is events per second over the last 15 minutes; Baseline is
	// what this hour of day usually brings, per second (nil until
	// learned: a day of data).
	Rate     float64  `json:"rate"`
	Baseline *float64 `json:"baseline"`
	// SilenceSeconds is the quiet time after which the source is silent.
	SilenceSeconds int64  `json:"silence_seconds"`
	State          string `json:"state"`
}
