package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// PDF writes r in l as an A4 PDF: the same sections as HTML, the charts
// drawn as vector bars, the text in the Go fonts (embedded, subset: they
// have every Welsh letter, ŵ and ŷ too, which the PDF core fonts lack).
func (r *Report) PDF(w io.Writer, l Lang) error {
	p := &pdfDoc{f: fpdf.New("P", "mm", "A4", ""), l: l, r: r}
	p.render()
	if err := p.f.Error(); err != nil {
		return fmt.Errorf("render report of %s: %w", r.Tenant, err)
	}
	return p.f.Output(w)
}

const (
	pdfMargin = 15.0
	pdfWidth  = 210 - 2*pdfMargin
	lineH     = 6.0
)

type pdfDoc struct {
	f *fpdf.Fpdf
	l Lang
	r *Report
}

func (p *pdfDoc) font(bold bool, size float64) {
	style := ""
	if bold {
		style = "B"
	}
	p.f.SetFont("go", style, size)
}

func (p *pdfDoc) render() {
	f, l, r := p.f, p.l, p.r
	f.AddUTF8FontFromBytes("go", "", goregular.TTF)
	f.AddUTF8FontFromBytes("go", "B", gobold.TTF)
	f.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	f.SetAutoPageBreak(true, pdfMargin+5)
	f.SetCreationDate(r.Generated)
	f.SetModificationDate(r.Generated)
	f.SetTitle(l.T("title")+": "+r.TenantName+", "+l.Month(r.Month), true)
	f.SetLang(string(l))
	f.SetProducer("Tarian", true)
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(func() {
		f.SetY(-pdfMargin)
		p.font(false, 8)
		f.SetTextColor(100, 100, 100)
		f.CellFormat(pdfWidth/2, 5, "TLP:AMBER · "+r.TenantName+" · "+l.Month(r.Month), "", 0, "L", false, 0, "")
		f.CellFormat(pdfWidth/2, 5, pageText(l, f.PageNo()), "", 0, "R", false, 0, "")
		f.SetTextColor(0, 0, 0)
	})
	f.AddPage()

	p.font(true, 20)
	f.SetTextColor(20, 83, 45)
	f.MultiCell(pdfWidth, 9, l.T("title")+": "+r.TenantName, "", "L", false)
	f.SetTextColor(0, 0, 0)
	p.font(false, 10)
	f.MultiCell(pdfWidth, 5, l.T("member")+": "+r.TenantName+" ("+string(r.Tenant)+") · "+l.T("period")+": "+l.Month(r.Month), "", "L", false)
	f.MultiCell(pdfWidth, 5, l.T("generated")+": "+Stamp(r.Generated)+" · "+l.T("utc"), "", "L", false)
	f.MultiCell(pdfWidth, 5, "TLP:AMBER · "+l.T("marking"), "", "L", false)
	f.SetDrawColor(20, 83, 45)
	f.SetLineWidth(0.8)
	f.Line(pdfMargin, f.GetY()+2, pdfMargin+pdfWidth, f.GetY()+2)
	f.SetLineWidth(0.2)
	f.SetDrawColor(0, 0, 0)
	f.Ln(5)

	p.heading(l.T("summary"))
	p.tiles([][2]string{
		{l.T("alerts"), strconv.FormatInt(r.Alerts, 10)},
		{l.T("events"), strconv.FormatInt(r.Events, 10)},
		{l.T("cases"), strconv.Itoa(len(r.Cases.List))},
		{l.T("sla_breaches"), strconv.FormatInt(r.LateAlerts, 10)},
	})

	p.heading(l.T("by_severity"))
	if r.Alerts == 0 {
		p.para(l.T("no_alerts"))
	} else {
		p.chart(r.severityBars(l))
	}
	p.heading(l.T("by_outcome"))
	if r.Alerts > 0 {
		p.chart(r.outcomeBars(l))
	} else {
		p.para(l.T("no_alerts"))
	}

	p.heading(l.T("top_rules"))
	if len(r.Rules) == 0 {
		p.para(l.T("no_alerts"))
	} else {
		rows := make([][]string, len(r.Rules))
		for i, rc := range r.Rules {
			rows[i] = []string{rc.RuleID, l.RuleTitle(rc), strconv.FormatInt(rc.Alerts, 10), strconv.FormatInt(rc.FalsePositives, 10)}
		}
		p.table([]string{l.T("rule"), l.T("rule_title"), l.T("alerts"), l.T("false_positives")}, []float64{45, 85, 25, 25}, "LLRR", rows)
	}
	p.heading(l.T("top_techniques"))
	if len(r.Techniques) == 0 {
		p.para(l.T("no_techniques"))
	} else {
		rows := make([][]string, len(r.Techniques))
		for i, c := range r.Techniques {
			rows[i] = []string{c.Key, strconv.FormatInt(c.N, 10)}
		}
		p.table([]string{l.T("technique"), l.T("alerts")}, []float64{90, 40}, "LR", rows)
	}

	p.heading(l.T("times"))
	p.table([]string{l.T("measure"), l.T("mean"), l.T("measured")}, []float64{100, 45, 35}, "LRR", [][]string{
		{l.T("mttd"), l.Mean(r.MTTD), strconv.FormatInt(r.MTTD.Count, 10)},
		{l.T("mtta"), l.Mean(r.MTTA), strconv.FormatInt(r.MTTA.Count, 10)},
		{l.T("mttr"), l.Mean(r.MTTR), strconv.FormatInt(r.MTTR.Count, 10)},
	})
	p.subheading(l.T("sla"))
	rows := make([][]string, len(r.SLA))
	for i, s := range r.SLA {
		rows[i] = []string{l.T("level." + s.Level), strconv.FormatInt(s.Alerts, 10),
			l.Target(s.Acknowledge), l.Mean(s.MTTA), strconv.FormatInt(s.AcknowledgeBreached, 10),
			l.Target(s.Resolve), l.Mean(s.MTTR), strconv.FormatInt(s.ResolveBreached, 10)}
	}
	p.table([]string{l.T("severity"), l.T("alerts"), l.T("ack_target"), l.T("mtta"), l.T("ack_late"), l.T("resolve_target"), l.T("mttr"), l.T("resolve_late")},
		[]float64{22, 21, 23, 25, 22, 21, 26, 20}, "LRRRRRRR", rows)
	p.note(l.T("sla_note"))

	p.heading(l.T("cases"))
	p.note(l.T("cases_note"))
	p.tiles([][2]string{
		{l.T("cases_opened"), strconv.Itoa(r.Cases.Opened)},
		{l.T("cases_closed"), strconv.Itoa(r.Cases.Closed)},
		{l.T("cases_open"), strconv.Itoa(r.Cases.Open)},
	})
	if len(r.Cases.List) == 0 {
		p.para(l.T("no_cases"))
	} else {
		rows := make([][]string, len(r.Cases.List))
		for i, c := range r.Cases.List {
			class := "—"
			if c.Classification != "" {
				class = l.T("outcome." + string(c.Classification))
			}
			rows[i] = []string{strconv.FormatInt(c.ID, 10), c.Title, l.T("level." + c.Severity), l.T("case." + string(c.Status)), Stamp(c.Created), Stamp(c.Closed), class}
		}
		p.table([]string{l.T("case"), l.T("rule_title"), l.T("severity"), l.T("status"), l.T("opened"), l.T("closed"), l.T("classification")},
			[]float64{14, 46, 20, 20, 27, 27, 26}, "RLLLLLL", rows)
	}

	p.heading(l.T("sources"))
	if len(r.Sources) == 0 {
		p.para(l.T("no_sources"))
	} else {
		rows := make([][]string, len(r.Sources))
		for i, s := range r.Sources {
			rows[i] = []string{s.Name, s.Receiver, s.Host, l.SourceType(s), l.T("state." + s.State), Stamp(s.LastSeen), strconv.FormatInt(s.Events, 10)}
		}
		p.table([]string{l.T("source"), l.T("receiver"), l.T("host"), l.T("type"), l.T("state"), l.T("last_seen"), l.T("month_events")},
			[]float64{34, 22, 28, 20, 22, 28, 26}, "LLLLLLR", rows)
	}

	p.heading(l.T("advisories"))
	if len(r.Advisories) == 0 {
		p.para(l.T("no_advisories"))
	} else {
		rows := make([][]string, len(r.Advisories))
		for i, a := range r.Advisories {
			title, ack := a.TitleEN, l.T("not_acked")
			if l == Welsh {
				title = a.TitleCY
			}
			if !a.Acknowledged.IsZero() {
				ack = Stamp(a.Acknowledged)
			}
			rows[i] = []string{strconv.FormatInt(a.ID, 10), title, a.TLP, Stamp(a.Published), ack}
		}
		p.table([]string{l.T("advisory"), l.T("rule_title"), "TLP", l.T("published"), l.T("acknowledged")}, []float64{18, 74, 28, 30, 30}, "RLLLL", rows)
	}

	p.heading(l.T("campaigns"))
	if len(r.Campaigns) == 0 {
		p.para(l.T("no_campaigns"))
	} else {
		p.note(fmt.Sprintf(l.T("campaigns_note"), r.KAnonymity))
		rows := make([][]string, len(r.Campaigns))
		v := view{R: r, L: l}
		for i, c := range r.Campaigns {
			rows[i] = []string{strconv.FormatInt(c.ID, 10), l.Kind(c.Kind) + ": " + c.Value, Stamp(c.FirstSeen), Stamp(c.LastSeen), strconv.Itoa(c.Alerts), v.Others(c, r.KAnonymity)}
		}
		p.table([]string{l.T("campaign"), l.T("observable"), l.T("first_seen"), l.T("last_seen"), l.T("own_alerts"), l.T("other_members")},
			[]float64{20, 54, 28, 28, 22, 28}, "RLLLRR", rows)
	}
}

// pageText is "Page 2 of {nb}" in l; fpdf replaces {nb} with the count.
func pageText(l Lang, n int) string {
	return strings.Replace(strings.Replace(l.T("page"), "%d", strconv.Itoa(n), 1), "%d", "{nb}", 1)
}

// room starts a new page unless h mm fit above the bottom margin.
func (p *pdfDoc) room(h float64) {
	_, ph := p.f.GetPageSize()
	if p.f.GetY()+h > ph-pdfMargin-5 {
		p.f.AddPage()
	}
}

func (p *pdfDoc) heading(s string) {
	p.room(30)
	p.f.Ln(3)
	p.font(true, 13)
	p.f.CellFormat(pdfWidth, 8, s, "B", 1, "L", false, 0, "")
	p.f.Ln(2)
}

func (p *pdfDoc) subheading(s string) {
	p.room(20)
	p.f.Ln(2)
	p.font(true, 10)
	p.f.CellFormat(pdfWidth, lineH, s, "", 1, "L", false, 0, "")
}

func (p *pdfDoc) para(s string) {
	p.font(false, 10)
	p.f.MultiCell(pdfWidth, 5, s, "", "L", false)
}

func (p *pdfDoc) note(s string) {
	p.font(false, 8.5)
	p.f.SetTextColor(80, 80, 80)
	p.f.MultiCell(pdfWidth, 4.5, s, "", "L", false)
	p.f.SetTextColor(0, 0, 0)
	p.f.Ln(1)
}

// tiles draws figures in boxes side by side.
func (p *pdfDoc) tiles(ts [][2]string) {
	p.room(20)
	w := pdfWidth / float64(len(ts))
	x0, y := pdfMargin, p.f.GetY()
	for i, t := range ts {
		x := x0 + float64(i)*w
		p.f.SetDrawColor(200, 200, 200)
		p.f.Rect(x+1, y, w-2, 17, "D")
		p.f.SetXY(x+3, y+1)
		p.font(false, 8)
		// A label too long for one line (Welsh often is) takes two.
		first, rest := p.split(t[0], w-6)
		p.f.CellFormat(w-6, 3.5, first, "", 2, "L", false, 0, "")
		if rest != "" {
			p.f.SetX(x + 3)
			p.f.CellFormat(w-6, 3.5, p.fit(rest, w-6), "", 0, "L", false, 0, "")
		}
		p.f.SetXY(x+3, y+8.5)
		p.font(true, 15)
		p.f.CellFormat(w-6, 8, t[1], "", 0, "L", false, 0, "")
	}
	p.f.SetDrawColor(0, 0, 0)
	p.f.SetXY(pdfMargin, y+20)
}

// chart draws bars as a horizontal bar chart, scaled to the largest.
func (p *pdfDoc) chart(bars []Bar) {
	const labelW, valueW, rowH, barH = 55.0, 15.0, 7.0, 5.0
	p.room(rowH*float64(len(bars)) + 4)
	var top int64
	for _, b := range bars {
		top = max(top, b.N)
	}
	span := pdfWidth - labelW - valueW
	p.font(false, 9)
	for _, b := range bars {
		y := p.f.GetY()
		p.f.SetXY(pdfMargin, y)
		p.f.CellFormat(labelW-3, rowH, p.fit(b.Label, labelW-3), "", 0, "R", false, 0, "")
		w := 0.0
		if top > 0 {
			w = span * float64(b.N) / float64(top)
		}
		if b.N > 0 {
			w = max(w, 0.8)
			r, g, bl := hexColor(b.Color)
			p.f.SetFillColor(r, g, bl)
			p.f.Rect(pdfMargin+labelW, y+(rowH-barH)/2, w, barH, "F")
		}
		p.f.SetXY(pdfMargin+labelW+w+2, y)
		p.f.CellFormat(valueW, rowH, strconv.FormatInt(b.N, 10), "", 0, "L", false, 0, "")
		p.f.SetXY(pdfMargin, y+rowH)
	}
	p.f.Ln(2)
}

// table draws a header row and rows; align has one letter (L, R) a
// column. A header or cell too long for its column wraps at spaces onto
// more lines (a word wider than its column is broken where it must be),
// up to three, the third cut with an ellipsis: a Welsh state such as "Heb
// ei gysylltu eto", a long host name or a rule's title is read whole, not
// cut at its column's edge.
func (p *pdfDoc) table(head []string, widths []float64, align string, rows [][]string) {
	const (
		maxLines = 3
		headH    = 3.8 // a header line, bold 8 pt
		cellH    = 4.2 // a cell line, 8.5 pt
		pad      = 0.9 // above and below a row's lines
	)
	p.room(lineH * 3)
	margin := p.f.GetCellMargin() // the text's room: a cell's width less its margin on one side
	lay := func(cells []string) ([][]string, int) {
		lines, n := make([][]string, len(cells)), 1
		for i, c := range cells {
			lines[i] = p.wrap(c, widths[i]-margin, maxLines)
			n = max(n, len(lines[i]))
		}
		return lines, n
	}
	draw := func(lines [][]string, y, lh float64) {
		cx := p.f.GetX()
		for i := range lines {
			for j, ln := range lines[i] {
				p.f.SetXY(cx, y+float64(j)*lh)
				p.f.CellFormat(widths[i], lh, ln, "", 0, string(align[i]), false, 0, "")
			}
			cx += widths[i]
		}
	}
	header := func() {
		p.font(true, 8)
		lines, n := lay(head)
		x, y := p.f.GetX(), p.f.GetY()
		h := float64(n)*headH + 1.5
		p.f.SetFillColor(235, 240, 235)
		p.f.Rect(x, y, sum(widths), h, "F")
		p.f.Line(x, y+h, x+sum(widths), y+h)
		draw(lines, y+0.75, headH)
		p.f.SetXY(x, y+h)
	}
	header()
	p.font(false, 8.5)
	_, ph := p.f.GetPageSize()
	for _, row := range rows {
		lines, n := lay(row)
		h := max(lineH, float64(n)*cellH+2*pad)
		if p.f.GetY()+h > ph-pdfMargin-5 {
			p.f.AddPage()
			header()
			p.font(false, 8.5)
		}
		x, y := p.f.GetX(), p.f.GetY()
		draw(lines, y+(h-float64(n)*cellH)/2, cellH)
		p.f.Line(x, y+h, x+sum(widths), y+h)
		p.f.SetXY(x, y+h)
	}
	p.f.Ln(2)
}

// wrap breaks s into lines of at most w mm in the current font, at
// spaces; a word wider than w is broken where it must be. Past n lines,
// the nth ends with "…".
func (p *pdfDoc) wrap(s string, w float64, n int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && p.f.GetStringWidth(line+" "+word) <= w {
			line += " " + word
			continue
		}
		if line != "" {
			lines = append(lines, line)
		}
		for rs := []rune(word); p.f.GetStringWidth(string(rs)) > w && len(rs) > 1; rs = []rune(word) {
			k := len(rs) - 1
			for k > 1 && p.f.GetStringWidth(string(rs[:k])) > w {
				k--
			}
			lines = append(lines, string(rs[:k]))
			word = string(rs[k:])
		}
		line = word
	}
	lines = append(lines, line)
	if len(lines) > n {
		lines = append(lines[:n-1], p.fit(strings.Join(lines[n-1:], " ")+" …", w))
	}
	return lines
}

// split returns the words of s that fit in w mm in the current font, and
// the rest ("" when all fit). A first word too long is cut (fit).
func (p *pdfDoc) split(s string, w float64) (first, rest string) {
	words := strings.Fields(s)
	n := 0
	for n < len(words) && p.f.GetStringWidth(strings.Join(words[:n+1], " ")) <= w {
		n++
	}
	if n == 0 {
		return p.fit(s, w), ""
	}
	return strings.Join(words[:n], " "), strings.Join(words[n:], " ")
}

// fit cuts s to w mm in the current font, ending it with "…".
func (p *pdfDoc) fit(s string, w float64) string {
	if p.f.GetStringWidth(s) <= w {
		return s
	}
	rs := []rune(s)
	for len(rs) > 0 && p.f.GetStringWidth(string(rs)+"…") > w {
		rs = rs[:len(rs)-1]
	}
	return string(rs) + "…"
}

func sum(ws []float64) float64 {
	var t float64
	for _, w := range ws {
		t += w
	}
	return t
}

func hexColor(s string) (r, g, b int) {
	if len(s) != 7 || s[0] != '#' {
		return 128, 128, 128
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return 128, 128, 128
	}
	return int(v >> 16 & 0xff), int(v >> 8 & 0xff), int(v & 0xff)
}
