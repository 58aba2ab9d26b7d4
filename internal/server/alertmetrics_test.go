package server

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/metrics"
)

// The SOC's times reach /metrics exactly, per tenant, once per alert.
func TestObserveAlerts(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	raised := alert.Alert{Tenant: "gwynedd", EventTime: t0, Received: t0.Add(30 * time.Second), Created: t0.Add(32 * time.Second), Status: alert.StatusNew}
	raised.Updated = raised.Created
	acked := raised
	if err := alert.Apply(&acked, alert.Action{Verb: alert.VerbAck}, raised.Created.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	resolved := acked
	if err := alert.Apply(&resolved, alert.Action{Verb: alert.VerbResolve, Resolution: alert.TruePositive}, raised.Created.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	joined := raised // more events joined: no new times
	reg := metrics.New()
	observeAlerts(reg, []alert.Change{{What: alert.ChangeCreated, Alert: raised}, {What: alert.ChangeUpdated, Alert: joined}})
	observeAlerts(reg, []alert.Change{{What: alert.VerbAck, Alert: acked}})
	observeAlerts(reg, []alert.Change{{What: alert.VerbResolve, Alert: resolved}})
	var b bytes.Buffer
	reg.Write(&b)
	for _, want := range []string{
		`tarian_alert_time_to_detect_seconds_sum{tenant="gwynedd"} 32`,
		`tarian_alert_time_to_detect_seconds_count{tenant="gwynedd"} 1`,
		`tarian_alert_ingest_lag_seconds_sum{tenant="gwynedd"} 30`,
		`tarian_alert_detection_lag_seconds_sum{tenant="gwynedd"} 2`,
		`tarian_alert_time_to_acknowledge_seconds_sum{tenant="gwynedd"} 300`,
		`tarian_alert_time_to_acknowledge_seconds_count{tenant="gwynedd"} 1`,
		`tarian_alert_time_to_resolve_seconds_sum{tenant="gwynedd"} 3600`,
		`tarian_alert_time_to_resolve_seconds_count{tenant="gwynedd"} 1`,
	} {
		if !strings.Contains(b.String(), want+"\n") {
			t.Errorf("/metrics lacks %q:\n%s", want, b.String())
		}
	}
}
