package report_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/health"
	"github.com/tarian-soc/tarian/internal/report"
)

// tool finds a poppler-utils program, or skips saying loudly what is
// missing; in CI (which installs it: scripts/install-deps.sh) a missing
// one fails the test.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := "\n*** " + name + " (Debian package poppler-utils) is not installed: the PDF is not checked as rendered; apt-get install poppler-utils ***\n"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	fmt.Fprint(os.Stderr, msg)
	t.Skip(msg)
	return ""
}

func gathered(t testing.TB) *report.Report {
	t.Helper()
	ds := seed(t)
	r, err := report.Gather(context.Background(), ds.deps, "gwynedd", at("2026-11-01 00:00:00"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPDFRenders: the PDF's first page, rasterised by poppler, is not
// blank, in both languages; its text (pdftotext) carries the figures.
func TestPDFRenders(t *testing.T) {
	r := gathered(t)
	pdftoppm := tool(t, "pdftoppm")
	for _, l := range []report.Lang{report.English, report.Welsh} {
		t.Run(string(l), func(t *testing.T) {
			var b bytes.Buffer
			began := time.Now()
			if err := r.PDF(&b, l); err != nil {
				t.Fatal(err)
			}
			t.Logf("PDF %s: %d bytes in %v", l, b.Len(), time.Since(began).Round(time.Millisecond))
			if !bytes.HasPrefix(b.Bytes(), []byte("%PDF-")) {
				t.Fatalf("not a PDF: %q", b.Bytes()[:min(20, b.Len())])
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "report.pdf")
			if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", file, filepath.Join(dir, "page")).CombinedOutput()
			if err != nil {
				t.Fatalf("pdftoppm: %v\n%s", err, out)
			}
			f, err := os.Open(filepath.Join(dir, "page.png"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			inked, variance := ink(img)
			t.Logf("page 1: %v, %.1f%% inked, luminance variance %.0f", img.Bounds().Size(), 100*inked, variance)
			if inked < 0.02 || variance < 500 {
				t.Errorf("page 1 looks blank: %.2f%% of pixels inked, luminance variance %.0f", 100*inked, variance)
			}
			if pdftotext, err := exec.LookPath("pdftotext"); err == nil {
				txt, err := exec.Command(pdftotext, "-layout", file, "-").Output()
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range []string{"Cyngor Gwynedd", l.T("title"), l.Month(r.Month), "T1021.002", "r-psexec", l.Duration(2550 * time.Second)} {
					if !bytes.Contains(txt, []byte(s)) {
						t.Errorf("the PDF's text lacks %q", s)
					}
				}
				if l == report.Welsh {
					checkWelsh(t, "PDF", string(txt))
				}
			}
		})
	}
}

// ink is the share of pixels darker than near-white, and the variance of
// the luminance (0-255) over the image.
func ink(img image.Image) (inked, variance float64) {
	b := img.Bounds()
	var n, dark float64
	var sum, sq float64
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			lum := (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
			n++
			sum += lum
			sq += lum * lum
			if lum < 240 {
				dark++
			}
		}
	}
	m := sum / n
	return dark / n, sq/n - m*m
}

var (
	styleRE = regexp.MustCompile(`(?s)<style>.*?</style>`)
	codeRE  = regexp.MustCompile(`(?s)<code>.*?</code>`)
	tagRE   = regexp.MustCompile(`<[^>]*>`)
)

// pageText is the text a reader sees on an HTML page, identifiers
// (<code>: rule IDs, observables) left out: they are in no language.
func pageText(page []byte) string {
	s := styleRE.ReplaceAllString(string(page), " ")
	s = codeRE.ReplaceAllString(s, " ")
	s = tagRE.ReplaceAllString(s, " ")
	return html.UnescapeString(s)
}

// checkWelsh fails for every English string of the catalogue found in
// text as a phrase (a format's numbers and names matched by anything).
func checkWelsh(t *testing.T, what, text string) {
	t.Helper()
	for key, en := range report.Catalogue(report.English) {
		if en == report.Welsh.T(key) {
			continue // the same in both (none today)
		}
		pat := regexp.QuoteMeta(en)
		pat = strings.ReplaceAll(pat, "%d", `\d+`)
		pat = strings.ReplaceAll(pat, "%s", `.+?`)
		re := regexp.MustCompile(`(^|[^\p{L}\p{N}])` + pat + `($|[^\p{L}\p{N}])`)
		if m := re.FindString(text); m != "" {
			t.Errorf("the Welsh %s holds English %s %q: %q", what, key, en, strings.TrimSpace(m))
		}
	}
}

// TestWelshHasNoEnglish: the Welsh page holds none of the catalogue's
// English strings; the English page is in English.
func TestWelshHasNoEnglish(t *testing.T) {
	r := gathered(t)
	cy, err := r.HTML(report.Welsh)
	if err != nil {
		t.Fatal(err)
	}
	text := pageText(cy)
	checkWelsh(t, "page", text)
	for _, s := range []string{"Adroddiad misol", "Rhybuddion yn ôl difrifoldeb", "Achosion", "Difrifoldeb", "Tachwedd 2026", "Critigol", "Ton gwe-rwydo yn erbyn cynghorau",
		"Amser cymedrig i gydnabod (MTTA)", "42 mun 30 eil", "Tawel", `lang="cy"`} {
		if !strings.Contains(text, s) && !bytes.Contains(cy, []byte(s)) {
			t.Errorf("the Welsh page lacks %q", s)
		}
	}
	en, err := r.HTML(report.English)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Monthly report", "November 2026", "Phishing wave against councils", "42 min 30 s", "Silent", "Cyngor Gwynedd"} {
		if !bytes.Contains(en, []byte(s)) {
			t.Errorf("the English page lacks %q", s)
		}
	}
	// Self-contained: no script, no outside resource.
	for _, s := range []string{"<script", "src=", "href=", "url(", "@import"} {
		if bytes.Contains(en, []byte(s)) {
			t.Errorf("the page holds %q", s)
		}
	}
	t.Logf("HTML: en %d bytes, cy %d bytes", len(en), len(cy))
}

// TestWelshTariansOwnStrings: what Tarian itself names in a report (its
// health alerts' rules, a source of unknown type, a source not connected
// yet) is in Welsh on the Welsh page and in the Welsh PDF.
func TestWelshTariansOwnStrings(t *testing.T) {
	r := gathered(t)
	r.Rules = append(r.Rules,
		report.RuleCount{RuleID: health.RuleSilence + "syslog/fortigate", Title: "Log source silent: firewall (syslog/fortigate from fw1)", Alerts: 1},
		report.RuleCount{RuleID: health.RuleDrop + "http/unknown", Title: "Log source rate dropped: http/unknown from ws7", Alerts: 1})
	r.Sources = append(r.Sources,
		report.SourceHealth{Name: "printers", Receiver: "http", Host: "prn1", Type: health.TypeUnknown, State: report.SourceOK, Events: 3},
		report.SourceHealth{Name: "m365", Receiver: "http", Type: "m365", State: report.SourceWaiting})
	cy, err := r.HTML(report.Welsh)
	if err != nil {
		t.Fatal(err)
	}
	text := pageText(cy)
	checkWelsh(t, "page", text)
	for _, s := range []string{"Ffynhonnell logiau yn dawel: syslog/fortigate", "Cyfradd y ffynhonnell logiau wedi gostwng: http/anhysbys", "Heb ei gysylltu eto"} {
		if !strings.Contains(text, s) {
			t.Errorf("the Welsh page lacks %q", s)
		}
	}
	en, err := r.HTML(report.English)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Log source silent: syslog/fortigate", "Log source rate dropped: http/unknown", "Not connected yet", ">unknown<"} {
		if !bytes.Contains(en, []byte(s)) {
			t.Errorf("the English page lacks %q", s)
		}
	}
	pdftotext := tool(t, "pdftotext")
	var pdf bytes.Buffer
	if err := r.PDF(&pdf, report.Welsh); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "cy.pdf")
	if err := os.WriteFile(f, pdf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", f, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Ffynhonnell logiau yn dawel", "anhysbys"} {
		if !bytes.Contains(out, []byte(s)) {
			t.Errorf("the Welsh PDF lacks %q", s)
		}
	}
	for _, s := range []string{"Log source silent", "Not connected yet"} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("the Welsh PDF holds %q", s)
		}
	}
}

// TestWelshIntelTitles: Tarian's own words in the titles of indicator
// matches and retro-hunts ("Threat intelligence: ...", "Retro-hunt: ...")
// are in Welsh on the Welsh page and PDF; the observable stays as it is,
// and the English page is unchanged.
func TestWelshIntelTitles(t *testing.T) {
	r := gathered(t)
	r.Rules = []report.RuleCount{
		{RuleID: "intel:indicator--1", Title: "Threat intelligence: domain evil.example (Phish kit)", Alerts: 2},
		{RuleID: "intel:indicator--2", Title: "Retro-hunt: ipv4 198.51.100.23", Alerts: 1},
		{RuleID: "intel:indicator--3", Title: "Threat intelligence: pattern [x:y = 'z']", Alerts: 1},
		{RuleID: "intel:indicator--4", Title: "Retro-hunt: pattern [a:b = 'c']", Alerts: 1},
	}
	cy, err := r.HTML(report.Welsh)
	if err != nil {
		t.Fatal(err)
	}
	text := pageText(cy)
	checkWelsh(t, "page", text)
	for _, s := range []string{"Cudd-wybodaeth am fygythiadau: domain evil.example (Phish kit)", "Helfa ôl-weithredol: ipv4 198.51.100.23",
		"Cudd-wybodaeth am fygythiadau: patrwm [x:y = 'z']", "Helfa ôl-weithredol: patrwm [a:b = 'c']"} {
		if !strings.Contains(text, s) {
			t.Errorf("the Welsh page lacks %q", s)
		}
	}
	en, err := r.HTML(report.English)
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range r.Rules {
		if !strings.Contains(pageText(en), rc.Title) {
			t.Errorf("the English page lacks %q", rc.Title)
		}
	}
	pdftotext := tool(t, "pdftotext")
	var pdf bytes.Buffer
	if err := r.PDF(&pdf, report.Welsh); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "cy.pdf")
	if err := os.WriteFile(f, pdf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, f, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Threat intelligence: domain", "Retro-hunt"} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("the Welsh PDF holds %q", s)
		}
	}
	if !bytes.Contains(out, []byte("Helfa ôl-weithredol")) {
		t.Errorf("the Welsh PDF lacks %q", "Helfa ôl-weithredol")
	}
}

// TestPDFCellsWrap: a PDF table cell too long for its column wraps onto
// more lines instead of being cut at the column's edge (the Welsh state
// "Heb ei gysylltu eto" was "Heb ei gysyll…", a long host or rule title
// lost its end), and a header's words are not broken.
func TestPDFCellsWrap(t *testing.T) {
	pdftotext := tool(t, "pdftotext")
	r := gathered(t)
	long := "Windows Shell Scripting Processes Spawning Suspicious Programs Via Wmic And Mshta From A Temporary Folder"
	r.Rules = append(r.Rules, report.RuleCount{RuleID: "3a6586ad-127a-4d3b-a677-1e6eacdf8fde", Title: long, Alerts: 1})
	r.Sources = append(r.Sources,
		report.SourceHealth{Name: "gw-m365", Receiver: "http", Type: "json", State: report.SourceWaiting},
		report.SourceHealth{Receiver: "http", Host: "WIN-77LTAPHIQ1R.example.corp", Type: "windows", State: report.SourceOK, Events: 3})
	for _, l := range []report.Lang{report.English, report.Welsh} {
		var pdf bytes.Buffer
		if err := r.PDF(&pdf, l); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "r.pdf")
		if err := os.WriteFile(f, pdf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(pdftotext, f, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		text := string(out)
		if strings.Contains(text, "…") {
			t.Errorf("%s: a cell was cut: %q", l, regexp.MustCompile(`\S*…`).FindAllString(text, -1))
		}
		words := append(strings.Fields(long), strings.Fields(l.T("state.waiting"))...)
		// A word wider than its column is broken: its two ends are there.
		words = append(words, "3a6586ad-127a", "cdf8fde", "WIN-77LTAPHIQ", "example.corp", l.T("level.informational"))
		for _, w := range words {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the PDF lacks %q", l, w)
			}
		}
		if l == report.Welsh && !strings.Contains(text, "Rhybuddion a") {
			t.Errorf("cy: the service levels' header %q is broken inside a word", "Rhybuddion a godwyd")
		}
		if l == report.English && !strings.Contains(text, "Acknowledged") {
			t.Errorf("en: the service levels' header %q is broken inside a word", "Acknowledged late")
		}
	}
}

// TestCampaignKindInLanguage: a campaign's observable kind is a word of
// the report's language ("Parth", "Domain"), not the indicator type
// ("domain"); the observable itself stays as it is.
func TestCampaignKindInLanguage(t *testing.T) {
	r := gathered(t)
	if len(r.Campaigns) == 0 || r.Campaigns[0].Kind != "domain" {
		t.Fatalf("the seeded month's campaigns: %+v", r.Campaigns)
	}
	for l, want := range map[report.Lang]string{report.Welsh: `Parth:\s+evil\.example`, report.English: `Domain:\s+evil\.example`} {
		page, err := r.HTML(l)
		if err != nil {
			t.Fatal(err)
		}
		text := html.UnescapeString(tagRE.ReplaceAllString(string(page), " "))
		if !regexp.MustCompile(want).MatchString(text) || bytes.Contains(page, []byte("domain: evil.example")) {
			t.Errorf("%s: the campaign's observable is not shown as %s", l, want)
		}
	}
	if got := report.Welsh.Kind("no-such-kind"); got != "no-such-kind" {
		t.Errorf("an unknown kind: %q", got)
	}
}

// keyRE finds the catalogue keys the renderers name literally.
var keyRE = regexp.MustCompile(`\bT\(?\s*"([a-z_.]+)"`)

// TestCatalogue: every key has both languages, every key the renderers
// use is there, and so is every key made from data.
func TestCatalogue(t *testing.T) {
	en, cy := report.Catalogue(report.English), report.Catalogue(report.Welsh)
	if len(en) != len(cy) {
		t.Fatalf("%d English strings, %d Welsh", len(en), len(cy))
	}
	for k, v := range en {
		if strings.TrimSpace(v) == "" || strings.TrimSpace(cy[k]) == "" {
			t.Errorf("%s: en %q, cy %q: both must be there", k, v, cy[k])
		}
		if strings.Count(v, "%") != strings.Count(cy[k], "%") {
			t.Errorf("%s: en %q and cy %q differ in their verbs", k, v, cy[k])
		}
	}
	for _, f := range []string{"html.go", "pdf.go", "schedule.go"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRE.FindAllStringSubmatch(string(src), -1) {
			if _, ok := en[m[1]]; !ok && !strings.HasSuffix(m[1], ".") { // a prefix: the data keys below
				t.Errorf("%s names key %q, not in the catalogue", f, m[1])
			}
		}
	}
	var data []string
	for _, k := range []string{"critical", "high", "medium", "low", "informational"} {
		data = append(data, "level."+k)
	}
	for _, k := range []string{"true-positive", "benign-positive", "false-positive", "duplicate", "escalated", "open"} {
		data = append(data, "outcome."+k)
	}
	for _, k := range []string{"open", "in-progress", "closed"} {
		data = append(data, "case."+k)
	}
	for _, k := range []string{report.SourceOK, report.SourceSilent, report.SourceDropped, report.SourceWaiting} {
		data = append(data, "state."+k)
	}
	for m := 1; m <= 12; m++ {
		data = append(data, fmt.Sprintf("month.%d", m))
	}
	for _, u := range []string{"d", "h", "min", "s"} {
		data = append(data, "unit."+u)
	}
	for _, k := range data {
		if _, ok := en[k]; !ok {
			t.Errorf("key %q (from data) is not in the catalogue", k)
		}
	}
}

func TestDuration(t *testing.T) {
	for _, c := range []struct {
		d      time.Duration
		en, cy string
	}{
		{0, "0 s", "0 eil"},
		{400 * time.Millisecond, "0 s", "0 eil"},
		{45 * time.Second, "45 s", "45 eil"},
		{2550 * time.Second, "42 min 30 s", "42 mun 30 eil"},
		{2 * time.Hour, "2 h", "2 awr"},
		{25*time.Hour + 59*time.Second, "1 d 1 h", "1 diwrnod 1 awr"},
		{33600*time.Second + 333333333, "9 h 20 min", "9 awr 20 mun"},
	} {
		if got := report.English.Duration(c.d); got != c.en {
			t.Errorf("en %v: %q, want %q", c.d, got, c.en)
		}
		if got := report.Welsh.Duration(c.d); got != c.cy {
			t.Errorf("cy %v: %q, want %q", c.d, got, c.cy)
		}
	}
}

func TestParse(t *testing.T) {
	if m, err := report.ParseMonth("2026-02"); err != nil || !m.Equal(at("2026-02-01 00:00:00")) {
		t.Errorf("2026-02: %v %v", m, err)
	}
	for _, bad := range []string{"2026-13", "26-02", "2026-02-01", ""} {
		if _, err := report.ParseMonth(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if l, err := report.ParseLang("CY"); err != nil || l != report.Welsh {
		t.Errorf("CY: %v %v", l, err)
	}
	if _, err := report.ParseLang("fr"); err == nil {
		t.Error("fr: no error")
	}
	if m := report.PreviousMonth(at("2026-01-01 06:00:00")); !m.Equal(at("2025-12-01 00:00:00")) {
		t.Errorf("the month before January 2026: %v", m)
	}
}
