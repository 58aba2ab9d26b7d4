package detector_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/parse/windows/windowstest"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

const shapeRule = `title: Shape marker process
id: 7d0c8e51-3f2a-4b6e-9c1d-0a9b8c7d6e5f
status: test
author: Tarian tests
logsource: {product: windows, category: process_creation}
detection:
  selection:
    CommandLine|contains: shape-marker
    Image|endswith: '\cmd.exe'
  condition: selection
level: high
`

// sysmonEvent is a Sysmon process creation, evtx-style, written for this
// test.
const sysmonEvent = `{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"}},"EventID":1,"Version":5,"Level":4,"Task":1,"Opcode":0,"Keywords":"0x8000000000000000","TimeCreated":{"#attributes":{"SystemTime":"2026-11-25T10:00:00.123Z"}},"EventRecordID":4242,"Execution":{"#attributes":{"ProcessID":2000,"ThreadID":3000}},"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws01.cardiff.example","Security":{"#attributes":{"UserID":"S-1-5-18"}}},"EventData":{"UtcTime":"2026-11-25 10:00:00.120","ProcessGuid":"{11111111-2222-3333-4444-555555555555}","ProcessId":4321,"Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd.exe /c echo shape-marker","User":"CARDIFF\\alice","ParentImage":"C:\\Windows\\explorer.exe"}}}`

// TestWindowsShapesThroughServer sends one Sysmon event in each shape a
// member's shipper may use — evtx JSON and Winlogbeat JSON over the HTTP
// API, the Windows XML rendering over HEC raw — and expects the Sigma rule
// to fire on each, for the sending tenant only.
func TestWindowsShapesThroughServer(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.HEC.Listen = "127.0.0.1:0"
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "council-a")
	s.AddTenant(t, "council-b")
	importRules(t, s, map[string]string{"shape.yml": shapeRule})
	tok := s.Token(t, "council-a", "ingest")

	wlb, err := windowstest.ToWinlogbeat([]byte(sysmonEvent))
	if err != nil {
		t.Fatal(err)
	}
	xml, err := windowstest.ToXML([]byte(sysmonEvent))
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, s, tok, sysmonEvent, string(wlb))
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.HECAddr().String()+"/services/collector/raw?channel=0b0b0b0b-0000-4000-8000-000000000002",
		strings.NewReader(strings.ReplaceAll(string(xml), "\n", "")+"\n"))
	req.Header.Set("Authorization", "Splunk "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HEC raw: %d", resp.StatusCode)
	}

	// The three shapes are three events (three records) of one rule on one
	// host: one alert counting each.
	got := alertCount(t, s, servertest.AdminToken, "council-a", 3)
	if len(got) != 1 || got[0].Count != 3 {
		t.Fatalf("alerts %+v, want one counting each shape (3)", got)
	}
	for _, a := range got {
		if a.RuleID != "7d0c8e51-3f2a-4b6e-9c1d-0a9b8c7d6e5f" || !strings.Contains(a.Fields["CommandLine"], "shape-marker") {
			t.Errorf("alert %+v", a)
		}
	}
	if b := alerts(t, s, servertest.AdminToken, "council-b", 0); len(b) != 0 {
		t.Fatalf("council-b has alerts: %+v", b)
	}
}
