package windows

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// elasticIgnored are expected fields that come from Elastic's own
// processing rather than from the event: none in this fixture's expected
// document today, but a regenerated one carries these.
var elasticIgnored = []string{
	"event.ingested", // the time Elasticsearch indexed the document
	"agent.",         // the shipper's identity
	"tags",           // the test harness's and integration's tags
	"data_stream.",   // the index Elastic routes to
	"elastic_agent.", // the agent's identity
}

// TestElasticSysmonAgreement scores our fields against Elastic's expected
// document for its sysmon_operational pipeline test: once from the
// Winlogbeat input as Elastic Agent sends it, once from the XML rendering
// in its event.original alone.
func TestElasticSysmonAgreement(t *testing.T) {
	dir := parsertest.Corpus(t, "logs", "elastic-integrations", "windows-sysmon_operational")
	in, err := os.ReadFile(filepath.Join(dir, "test-image-loaded-failed-signature.json"))
	if err != nil {
		t.Fatal(err)
	}
	exp, err := os.ReadFile(filepath.Join(dir, "test-image-loaded-failed-signature.json-expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var input struct{ Events []json.RawMessage }
	var expected struct{ Expected []json.RawMessage }
	if err := json.Unmarshal(in, &input); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(exp, &expected); err != nil {
		t.Fatal(err)
	}
	if len(input.Events) == 0 || len(input.Events) != len(expected.Expected) {
		t.Fatalf("%d events, %d expected documents", len(input.Events), len(expected.Expected))
	}
	p := Parser{aliases: true}
	var fromWinlogbeat, fromXML parsertest.Score
	for i, raw := range input.Events {
		want, err := parsertest.Flatten(expected.Expected[i])
		if err != nil {
			t.Fatal(err)
		}
		got := pipelineFields(t, &p, raw)
		s := parsertest.Agreement(want, got, elasticIgnored...)
		t.Logf("event %d from the Winlogbeat document: %s", i, s)
		fromWinlogbeat.Add(s)

		var doc struct {
			Event struct{ Original string }
		}
		if err := json.Unmarshal(raw, &doc); err != nil || doc.Event.Original == "" {
			t.Fatalf("event %d has no event.original: %v", i, err)
		}
		got = pipelineFields(t, &p, []byte(doc.Event.Original))
		s = parsertest.Agreement(want, got, elasticIgnored...)
		t.Logf("event %d from its XML alone: %s", i, s)
		fromXML.Add(s)
	}
	t.Logf("Sysmon agreement with Elastic: Winlogbeat input %s; XML input %s", fromWinlogbeat, fromXML)
	for name, s := range map[string]parsertest.Score{"Winlogbeat": fromWinlogbeat, "XML": fromXML} {
		if s.Share() < 0.95 {
			t.Errorf("%s input: agreement %.1f%% is under the 95%% target", name, 100*s.Share())
		}
	}
}

// pipelineFields parses payload and adds what the pipeline
// (internal/parse) adds to every event: @timestamp from the event time
// and event.original (the payload) when the parser left it out.
func pipelineFields(t *testing.T, p *Parser, payload []byte) map[string]string {
	t.Helper()
	ev := &event.Event{}
	if err := p.Parse(payload, ev); err != nil {
		t.Fatal(err)
	}
	got := parsertest.Fields(ev)
	if ev.Time.IsZero() {
		t.Fatal("no event time")
	}
	got["@timestamp"] = millis(ev.Time)
	if _, ok := got["event.original"]; !ok {
		got["event.original"] = string(payload)
	}
	return got
}
