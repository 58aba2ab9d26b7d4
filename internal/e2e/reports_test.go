package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/mailer/mailertest"
)

// TestMemberReports drives the built binary: alerts raised from ingested
// events appear in `tarian reports create` (HTML and PDF, English and
// Welsh; the PDF's first page rendered by poppler is not blank); another
// member's token is refused; and the schedule in the configuration mails
// last month's report, PDF attached, to the member's listed recipients,
// once, across a restart.
func TestMemberReports(t *testing.T) {
	dir := t.TempDir()
	box := mailertest.StartPlain(t)
	cfg := filepath.Join(dir, "tarian.yaml")
	// Due from the 1st at 00:00 UTC: at any time the test runs, last
	// month's report is due.
	conf := "reports:\n  schedule: {day: 1, hour: 0}\n  email:\n    server: " + box.Addr + "\n    tls: optional\n    from: soc@tarian.test\n" +
		"  members:\n    gwynedd: {to: [it@gwynedd.test], languages: [cy, en]}\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	s := twoMembers(t, dir, queueRules, "--config", cfg)
	// The scheduler looked at start, before the members existed, and looks
	// again a minute later; a restart looks at once.
	s.stop()
	s = startServerWith(t, filepath.Join(dir, "data"), []string{"--config", cfg})

	// The schedule: last month's report of gwynedd, in Welsh and English.
	lastMonth := time.Now().UTC().AddDate(0, 0, -time.Now().UTC().Day()) // a day of the month before
	langs := map[string]bool{}
	for range 2 {
		select {
		case m := <-box.Got:
			to, data := m.To, string(m.Data)
			if len(to) != 1 || to[0] != "it@gwynedd.test" || !strings.Contains(data, "application/pdf") ||
				!strings.Contains(data, "report-gwynedd-"+lastMonth.Format("2006-01")) {
				t.Fatalf("mail to %v: %.600s", to, data)
			}
			for _, l := range []string{"cy", "en"} {
				if strings.Contains(data, "Content-Language: "+l) {
					langs[l] = true
				}
			}
		case <-time.After(time.Minute):
			t.Fatalf("no scheduled report mailed; server log:\n%s", s.log())
		}
	}
	if !langs["cy"] || !langs["en"] {
		t.Errorf("mailed languages %v, want cy and en", langs)
	}

	// Alerts this month, reported on demand.
	ingest := s.createToken("gwynedd", "ingest").Token
	start := time.Now().UTC().Add(-2 * time.Minute).Truncate(time.Second)
	s.ingestLines(ingest,
		sysmonProc("WS1", `GWYNEDD\bob`, `C:\Windows\System32\whoami.exe`, start, 1),
		sysmonProc("WS2", `GWYNEDD\ann`, `C:\Windows\System32\net.exe`, start.Add(time.Second), 2))
	s.waitDetected()
	month := time.Now().UTC().Format("2006-01")
	viewer := s.createToken("gwynedd", "tenant-viewer").Token
	html := filepath.Join(dir, "report.html")
	s.mustCLI(viewer, "reports", "create", "--tenant", "gwynedd", "--month", month, "--lang", "cy", "-o", html)
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Adroddiad misol", "Rhybuddion a godwyd<b>2</b>", "T1033", "Uchel"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the Welsh report lacks %q", want)
		}
	}
	pdf := filepath.Join(dir, "report.pdf")
	s.mustCLI(adminToken, "reports", "create", "--tenant", "gwynedd", "--month", month, "--pdf", "-o", pdf)
	if pdftoppm, err := exec.LookPath("pdftoppm"); err == nil {
		out, err := exec.Command(pdftoppm, "-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile", pdf, filepath.Join(dir, "page")).CombinedOutput()
		if err != nil {
			t.Fatalf("pdftoppm: %v %s", err, out)
		}
		if st, err := os.Stat(filepath.Join(dir, "page.png")); err != nil || st.Size() < 2000 {
			t.Errorf("page 1 as PNG: %v, %v", st, err)
		}
	} else if os.Getenv("CI") != "" {
		t.Fatal("pdftoppm (poppler-utils) is not installed; CI installs it (scripts/install-deps.sh)")
	}
	other := s.createToken("powys", "tenant-viewer").Token
	if r := s.cli(other, "reports", "create", "--tenant", "gwynedd", "--month", month, "-o", filepath.Join(dir, "x.html")); r.code != 1 {
		t.Errorf("powys's viewer, gwynedd's report: exit %d %s", r.code, r.stderr)
	}

	// A restart sends nothing again.
	s.stop()
	s = startServerWith(t, filepath.Join(dir, "data"), []string{"--config", cfg})
	s.mustCLI(adminToken, "tenant", "list")
	select {
	case m := <-box.Got:
		t.Errorf("after a restart, mailed again to %v", m.To)
	case <-time.After(2 * time.Second):
	}
}
