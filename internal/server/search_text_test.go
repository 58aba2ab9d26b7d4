package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/ingest/syslog"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// sysmonMimikatz is a Sysmon process creation in the evtx JSON shape (as
// evtx_dump writes it): no message, the text in EventData.
const sysmonMimikatz = `{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"5770385F-C22A-43E0-BF4C-06F5698FFBD9"}},` +
	`"EventID":1,"Version":5,"Level":4,"Task":1,"Opcode":0,"Keywords":"0x8000000000000000",` +
	`"TimeCreated":{"#attributes":{"SystemTime":"2026-11-25T09:12:01.123456Z"}},"EventRecordID":7001,` +
	`"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"WS-0042.council.local","Security":{"#attributes":{"UserID":"S-1-5-18"}}},` +
	`"EventData":{"RuleName":"-","UtcTime":"2026-11-25 09:12:01.120","ProcessGuid":"{747F3D96-0A17-5E76-0000-001062373A00}","ProcessId":4876,` +
	`"Image":"C:\\Users\\bob\\AppData\\Local\\Temp\\m64.exe","OriginalFileName":"mimikatz.exe",` +
	`"CommandLine":"m64.exe \"privilege::debug\" \"sekurlsa::logonpasswords\" exit","CurrentDirectory":"C:\\Users\\bob\\",` +
	`"User":"COUNCIL\\bob","LogonId":"0x2de43","IntegrityLevel":"High","Hashes":"SHA256=78097C7CD0E57902536C60B7FA17528C313DB20869E5F944223A0BA4C801D39B",` +
	`"ParentImage":"C:\\Windows\\System32\\cmd.exe","ParentCommandLine":"cmd.exe /c m64.exe"}}}`

// TestSearchFindsWords searches, through a whole server, events of every
// kind for the words an analyst types: a Windows event (no message), a
// plain JSON event (no message), syslog lines and an OTLP record whose text
// is in its attributes. It also checks that syslog senders are told apart
// by host.name and that OTLP attributes are stored at their ECS names.
func TestSearchFindsWords(t *testing.T) {
	dir := t.TempDir()
	// The tenant must exist before the syslog listener that names it.
	first := servertest.Start(t, servertest.Config(dir))
	first.AddTenant(t, "cardiff")
	first.Stop(t)
	cfg := servertest.Config(dir)
	cfg.Syslog.Listeners = []syslog.Listener{{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "cardiff"}}
	cfg.OTLP.HTTPListen = "127.0.0.1:0"
	s := servertest.Start(t, cfg)
	ingest, analyst := s.Token(t, "cardiff", "ingest"), s.Token(t, "cardiff", "tenant-analyst")

	post := func(url, contentType string, body []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+ingest)
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d", url, resp.StatusCode)
		}
	}

	// Windows and plain JSON over the HTTP API.
	post(s.URL+"/api/v1/ingest", "application/x-ndjson", []byte(sysmonMimikatz+"\n"+
		`{"@timestamp":"2026-11-25T09:13:00Z","event":{"action":"file-download"},"url":{"original":"http://203.0.113.80/tools/mimikatz.zip"},"user":{"name":"dave"}}`+"\n"))

	// Syslog from two hosts.
	addrs := s.SyslogAddrs()
	if len(addrs) != 1 {
		t.Fatalf("syslog listeners: %v", addrs)
	}
	conn, err := net.Dial("tcp", addrs[0].String())
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range []string{
		"<38>1 2026-11-25T09:14:00Z fw01 sshd 4321 - - Failed password for root from 203.0.113.9 port 22 ssh2",
		"<38>1 2026-11-25T09:14:01Z fw01 sshd 4321 - - Failed password for admin from 203.0.113.9 port 22 ssh2",
		"<38>1 2026-11-25T09:14:02Z fw02 sshd 999 - - Failed password for root from 198.51.100.4 port 22 ssh2",
		"<38>1 2026-11-25T09:14:03Z fw02 sudo 1000 - - bob : TTY=pts/0 ; PWD=/tmp ; USER=root ; COMMAND=/tmp/mimikatz",
	} {
		if _, err := fmt.Fprintf(conn, "%d %s", len(line), line); err != nil {
			t.Fatalf("syslog line %d: %v", i, err)
		}
	}
	conn.Close()

	// OTLP/JSON: the text is in the record's attributes.
	otlpBody := `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"portal"}},` +
		`{"key":"host.name","value":{"stringValue":"web01"}}]},"scopeLogs":[{"scope":{"name":"portal"},"logRecords":[` +
		`{"timeUnixNano":"1795597200000000000","severityText":"WARN","body":{"stringValue":"download blocked"},"attributes":[` +
		`{"key":"enduser.id","value":{"stringValue":"erin"}},{"key":"client.address","value":{"stringValue":"192.0.2.33"}},` +
		`{"key":"url.full","value":{"stringValue":"https://files.example/share/mimikatz.7z"}}]}]}]}]}`
	post("http://"+s.OTLPHTTPAddr().String()+"/v1/logs", "application/json", []byte(otlpBody))

	search := func(q string) []map[string]string {
		t.Helper()
		_, body := s.Do(t, "GET", "/api/v1/search?limit=100&q="+url.QueryEscape(q), analyst, nil)
		var rows []map[string]string
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var row map[string]any
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
				t.Fatalf("%s: %v: %s", q, err, body)
			}
			if _, bad := row["error"]; bad {
				t.Fatalf("%s: %s", q, body)
			}
			r := map[string]string{}
			for k, v := range row {
				r[k] = fmt.Sprint(v)
			}
			rows = append(rows, r)
		}
		return rows
	}
	// Everything is in once 7 events are.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if rows := search("* | stats count() as n"); len(rows) == 1 && rows[0]["n"] == "7" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events not all stored: %v", search("*"))
		}
	}

	// The word is in a Windows event's OriginalFileName, a JSON event's
	// url.original, a syslog message and an OTLP attribute: all four.
	var kinds []string
	for _, r := range search("mimikatz") {
		switch {
		case r["EventID"] == "1":
			kinds = append(kinds, "windows")
		case r["url.original"] != "":
			kinds = append(kinds, "json")
		case r["log.syslog.hostname"] != "":
			kinds = append(kinds, "syslog")
		case r["service.name"] == "portal":
			kinds = append(kinds, "otlp")
		default:
			t.Errorf("mimikatz found %v", r)
		}
	}
	slices.Sort(kinds)
	if want := []string{"json", "otlp", "syslog", "windows"}; !slices.Equal(kinds, want) {
		t.Errorf("mimikatz found %v, want %v", kinds, want)
	}
	for q, want := range map[string]int{
		`"sekurlsa::logonpasswords"`:          1, // a phrase in a Windows command line
		`sekurlsa*`:                           1, // a prefix
		`i(MIMIKATZ)`:                         4, // any case
		`mimikatz -dave`:                      3, // dave is the JSON event's user.name
		`mimikatz EventID:1`:                  1,
		`203.0.113.9`:                         2, // in syslog messages
		`erin`:                                1, // an OTLP attribute, now user.name
		`"Failed password" -fw01`:             1,
		`message:"Failed password"`:           3,
		`_msg:mimikatz`:                       1, // the message alone, as LogsQL means it
		`mimikatz | stats count() as n`:       -1,
		`user.name:erin source.ip:192.0.2.33`: 1,
		// Winlogbeat's names for the values stored once under their
		// Sigma names (parse/windows.NativeName).
		`winlog.event_id:1`: 1,
		`winlog.event_data.OriginalFileName:"mimikatz.exe"`:                                       1,
		`"winlog.computer_name":"WS-0042.council.local" -winlog.event_data.User:"COUNCIL\\alice"`: 1,
		`winlog.event_id:4624`: 0,
	} {
		rows := search(q)
		if want < 0 {
			if len(rows) != 1 || rows[0]["n"] != "4" {
				t.Errorf("%s: %v, want n=4", q, rows)
			}
			continue
		}
		if len(rows) != want {
			t.Errorf("%s: %d events, want %d: %v", q, len(rows), want, rows)
		}
	}

	// Syslog senders are told apart by host.name.
	var hosts []string
	for _, r := range search(`log.syslog.hostname:* | stats by (host.name) count() as n`) {
		hosts = append(hosts, r["host.name"]+"="+r["n"])
	}
	slices.Sort(hosts)
	if want := []string{"fw01=2", "fw02=2"}; !slices.Equal(hosts, want) {
		t.Errorf("syslog events by host.name: %v, want %v", hosts, want)
	}

	// OTLP attributes at their ECS names, resource attributes once.
	rows := search("service.name:portal")
	if len(rows) != 1 {
		t.Fatalf("OTLP record: %v", rows)
	}
	otlp := rows[0]
	for name, want := range map[string]string{"user.name": "erin", "source.ip": "192.0.2.33",
		"url.full": "https://files.example/share/mimikatz.7z", "host.name": "web01", "message": "download blocked"} {
		if otlp[name] != want {
			t.Errorf("OTLP event %s = %q, want %q", name, otlp[name], want)
		}
	}
	for name := range otlp {
		if strings.HasPrefix(name, "attributes.") || name == "resource.attributes.host.name" || name == "resource.attributes.service.name" {
			t.Errorf("OTLP event keeps %s = %q", name, otlp[name])
		}
	}
}

// TestSearchFindsWordsInCorpus searches the corpus' evtx attack samples
// (4,479 Windows and Sysmon events, none with a message) for tool names
// through a whole server: the text fields find (nearly) every event that
// has the word in any field.
func TestSearchFindsWordsInCorpus(t *testing.T) {
	root := os.Getenv("TARIAN_CORPUS")
	if root == "" {
		t.Skip("TARIAN_CORPUS not set: skipping the search over the corpus' Windows events (set it to ../shared/corpus)")
	}
	var body bytes.Buffer
	lines := 0
	err := filepath.WalkDir(filepath.Join(root, "events", "evtx-attack-samples"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".jsonl") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for l := range bytes.Lines(data) {
			if l = bytes.TrimSpace(l); len(l) > 0 {
				body.Write(l)
				body.WriteByte('\n')
				lines++
			}
		}
		return nil
	})
	if err != nil || lines == 0 {
		t.Fatalf("corpus: %d events, %v", lines, err)
	}
	cfg := servertest.Config(t.TempDir())
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "cardiff")
	ingest, analyst := s.Token(t, "cardiff", "ingest"), s.Token(t, "cardiff", "tenant-analyst")
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/ingest", &body)
	req.Header.Set("Authorization", "Bearer "+ingest)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ingest: %d", resp.StatusCode)
	}
	count := func(q string) int {
		t.Helper()
		_, b := s.Do(t, "GET", "/api/v1/search?q="+url.QueryEscape(q+" | stats count() as n"), analyst, nil)
		var row struct{ N string }
		if err := json.Unmarshal(b, &row); err != nil {
			t.Fatalf("%s: %s", q, b)
		}
		n, _ := strconv.Atoi(row.N)
		return n
	}
	for deadline := time.Now().Add(60 * time.Second); count("*") != lines; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("stored %d of %d events", count("*"), lines)
		}
	}
	if n := count(`-_msg:""`); n != 0 {
		t.Errorf("%d events have a message", n)
	}
	for _, word := range []string{"whoami", "lsass", "rundll32", "certutil", "PSEXE*", "i(mimikatz)"} {
		found, anyField := count(word), count("*:"+word)
		t.Logf("%s: %d events (%d with it in any field) of %d", word, found, anyField, lines)
		if found == 0 || found < anyField*9/10 {
			t.Errorf("%s: %d events found, %d have it in some field", word, found, anyField)
		}
	}
}
