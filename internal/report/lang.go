package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/health"
)

// Lang is a report's language.
type Lang string

// The languages of a report. The Welsh follows the console's own
// (web/src/i18n/cy): Cynghorion, CLG, positif ffug.
const (
	English Lang = "en"
	Welsh   Lang = "cy"
)

// Langs lists the languages, for messages.
const Langs = "en, cy"

// ParseLang reads "en" or "cy" ("" is English).
func ParseLang(s string) (Lang, error) {
	switch Lang(strings.ToLower(s)) {
	case "", English:
		return English, nil
	case Welsh:
		return Welsh, nil
	}
	return "", fmt.Errorf("%w: lang %q: want one of %s", ErrInvalid, s, Langs)
}

// text is one string in both languages.
type text struct{ en, cy string }

// catalogue is every string a report shows, by key. Keys name their
// use; level.*, outcome.*, case.*, state.* and month.* are looked up from
// data. TestCatalogue checks both languages are there.
var catalogue = map[string]text{
	"title":        {"Monthly report", "Adroddiad misol"},
	"member":       {"Member body", "Corff sy'n aelod"},
	"period":       {"Period", "Cyfnod"},
	"generated":    {"Generated", "Cynhyrchwyd"},
	"utc":          {"All times are UTC.", "Mae pob amser yn UTC."},
	"marking":      {"For the member body and its councillors.", "Ar gyfer y corff sy'n aelod a'i gynghorwyr."},
	"page":         {"Page %d of %d", "Tudalen %d o %d"},
	"summary":      {"Summary", "Crynodeb"},
	"alerts":       {"Alerts raised", "Rhybuddion a godwyd"},
	"events":       {"Events in those alerts", "Digwyddiadau yn y rhybuddion hynny"},
	"cases":        {"Cases", "Achosion"},
	"sla_breaches": {"Alerts past their service level", "Rhybuddion y tu hwnt i'w lefel gwasanaeth"},
	"count":        {"Number", "Nifer"},

	"by_severity": {"Alerts by severity", "Rhybuddion yn ôl difrifoldeb"},
	"severity":    {"Severity", "Difrifoldeb"},
	"by_outcome":  {"Alerts by outcome", "Rhybuddion yn ôl canlyniad"},
	"outcome":     {"Outcome", "Canlyniad"},
	"no_alerts":   {"No alerts were raised this month.", "Ni chodwyd unrhyw rybudd y mis hwn."},

	"level.critical":      {"Critical", "Critigol"},
	"level.high":          {"High", "Uchel"},
	"level.medium":        {"Medium", "Canolig"},
	"level.low":           {"Low", "Isel"},
	"level.informational": {"Informational", "Gwybodaeth"},

	"outcome.true-positive":   {"True positive", "Positif gwir"},
	"outcome.benign-positive": {"Benign positive", "Positif diniwed"},
	"outcome.false-positive":  {"False positive", "Positif ffug"},
	"outcome.duplicate":       {"Duplicate", "Dyblyg"},
	"outcome.escalated":       {"Escalated to the member", "Wedi'i uwchgyfeirio at yr aelod"},
	"outcome.open":            {"Still open", "Yn dal ar agor"},

	"top_rules":       {"Top detection rules", "Y prif reolau canfod"},
	"rule":            {"Rule", "Rheol"},
	"rule_title":      {"Title", "Teitl"},
	"false_positives": {"False positives", "Positifau ffug"},
	"top_techniques":  {"Top ATT&CK techniques", "Y prif dechnegau ATT&CK"},
	"technique":       {"Technique", "Techneg"},
	"no_techniques":   {"No alert this month names an ATT&CK technique.", "Nid oes unrhyw rybudd y mis hwn yn enwi techneg ATT&CK."},

	"times":          {"Response times against the service level", "Amseroedd ymateb yn erbyn y lefel gwasanaeth"},
	"measure":        {"Measure", "Mesur"},
	"mean":           {"Mean", "Cymedr"},
	"measured":       {"Alerts measured", "Rhybuddion a fesurwyd"},
	"mttd":           {"Mean time to detect (MTTD)", "Amser cymedrig i ganfod (MTTD)"},
	"mtta":           {"Mean time to acknowledge (MTTA)", "Amser cymedrig i gydnabod (MTTA)"},
	"mttr":           {"Mean time to resolve (MTTR)", "Amser cymedrig i ddatrys (MTTR)"},
	"sla":            {"Service levels", "Lefelau gwasanaeth"},
	"ack_target":     {"Acknowledge within", "Cydnabod o fewn"},
	"ack_late":       {"Acknowledged late", "Wedi'u cydnabod yn hwyr"},
	"resolve_target": {"Resolve within", "Datrys o fewn"},
	"resolve_late":   {"Resolved late", "Wedi'u datrys yn hwyr"},
	"sla_note":       {"Late alerts are counted as at the time of this report; an alert still open past its time counts as late.", "Cyfrifir rhybuddion hwyr fel yr oeddent adeg yr adroddiad hwn; mae rhybudd sy'n dal ar agor ar ôl ei amser yn cyfrif yn hwyr."},

	"cases_note":       {"The cases your provider has escalated to you that were open during the month.", "Yr achosion y mae eich darparwr wedi'u huwchgyfeirio atoch a oedd ar agor yn ystod y mis."},
	"cases_opened":     {"Opened this month", "Agorwyd y mis hwn"},
	"cases_closed":     {"Closed this month", "Caewyd y mis hwn"},
	"cases_open":       {"Open at the end of the month", "Ar agor ar ddiwedd y mis"},
	"case":             {"Case", "Achos"},
	"status":           {"Status", "Statws"},
	"opened":           {"Opened", "Agorwyd"},
	"closed":           {"Closed", "Caewyd"},
	"classification":   {"Classification", "Dosbarthiad"},
	"case.open":        {"Open", "Agored"},
	"case.in-progress": {"In progress", "Ar waith"},
	"case.closed":      {"Closed", "Ar gau"},
	"no_cases":         {"No cases were shared with the member this month.", "Ni rannwyd unrhyw achos â'r aelod y mis hwn."},

	"sources":       {"Log sources", "Ffynonellau logiau"},
	"source":        {"Source", "Ffynhonnell"},
	"receiver":      {"Receiver", "Derbynnydd"},
	"host":          {"Host", "Gwesteiwr"},
	"type":          {"Type", "Math"},
	"state":         {"State", "Cyflwr"},
	"last_seen":     {"Last seen", "Gwelwyd ddiwethaf"},
	"month_events":  {"Events this month", "Digwyddiadau'r mis"},
	"state.ok":      {"Healthy", "Iach"},
	"state.silent":  {"Silent", "Tawel"},
	"state.dropped": {"Dropped sharply", "Wedi gostwng yn sydyn"},
	"state.waiting": {"Not connected yet", "Heb ei gysylltu eto"},
	"type.unknown":  {"unknown", "anhysbys"},

	"rule.health.silence": {"Log source silent", "Ffynhonnell logiau yn dawel"},
	"rule.health.drop":    {"Log source rate dropped", "Cyfradd y ffynhonnell logiau wedi gostwng"},
	// The intel producers' titles (indicators.Service): "<what>: <observable>".
	"rule.intel":             {"Threat intelligence:", "Cudd-wybodaeth am fygythiadau:"},
	"rule.intel.pattern":     {"Threat intelligence: pattern", "Cudd-wybodaeth am fygythiadau: patrwm"},
	"rule.retrohunt":         {"Retro-hunt:", "Helfa ôl-weithredol:"},
	"rule.retrohunt.pattern": {"Retro-hunt: pattern", "Helfa ôl-weithredol: patrwm"},
	"no_sources":             {"No log sources reported.", "Ni adroddwyd am unrhyw ffynhonnell logiau."},

	"advisories":    {"Advisories", "Cynghorion"},
	"advisory":      {"Advisory", "Cyngor"},
	"published":     {"Published", "Cyhoeddwyd"},
	"acknowledged":  {"Acknowledged", "Cydnabuwyd"},
	"not_acked":     {"Not acknowledged", "Heb ei gydnabod"},
	"no_advisories": {"No advisories were addressed to the member this month.", "Ni chyfeiriwyd unrhyw gyngor at yr aelod y mis hwn."},

	"campaigns":     {"Campaigns", "Ymgyrchoedd"},
	"campaign":      {"Campaign", "Ymgyrch"},
	"observable":    {"Observable", "Arsylwadwy"},
	"first_seen":    {"First seen", "Gwelwyd gyntaf"},
	"own_alerts":    {"Your alerts", "Eich rhybuddion"},
	"other_members": {"Other members", "Aelodau eraill"},
	"few_members":   {"fewer than %d", "llai na %d"},
	// A campaign's observable kind (the indicator types; the console's
	// intel.type.* words).
	"kind.cidr":          {"Address range", "Ystod cyfeiriadau"},
	"kind.domain":        {"Domain", "Parth"},
	"kind.email":         {"E-mail address", "Cyfeiriad e-bost"},
	"kind.email-subject": {"E-mail subject", "Pwnc e-bost"},
	"kind.filename":      {"File name", "Enw ffeil"},
	"kind.ipv4":          {"IPv4 address", "Cyfeiriad IPv4"},
	"kind.ipv6":          {"IPv6 address", "Cyfeiriad IPv6"},
	"kind.md5":           {"MD5 hash", "Stwnsh MD5"},
	"kind.sha1":          {"SHA-1 hash", "Stwnsh SHA-1"},
	"kind.sha256":        {"SHA-256 hash", "Stwnsh SHA-256"},
	"kind.url":           {"URL", "URL"},
	"campaigns_note":     {"The same external observable seen in alerts at several members. Other members are never named, and counted only when there are at least %d.", "Yr un arsylwadwy allanol mewn rhybuddion gan sawl aelod. Nid enwir aelodau eraill byth, a dim ond pan fo o leiaf %d ohonynt y cânt eu cyfrif."},
	"no_campaigns":       {"None of the member's alerts this month was part of a campaign.", "Nid oedd yr un o rybuddion yr aelod y mis hwn yn rhan o ymgyrch."},

	"no_target": {"none", "dim"},
	"unit.d":    {"d", "diwrnod"},
	"unit.h":    {"h", "awr"},
	"unit.min":  {"min", "mun"},
	"unit.s":    {"s", "eil"},

	"month.1":  {"January", "Ionawr"},
	"month.2":  {"February", "Chwefror"},
	"month.3":  {"March", "Mawrth"},
	"month.4":  {"April", "Ebrill"},
	"month.5":  {"May", "Mai"},
	"month.6":  {"June", "Mehefin"},
	"month.7":  {"July", "Gorffennaf"},
	"month.8":  {"August", "Awst"},
	"month.9":  {"September", "Medi"},
	"month.10": {"October", "Hydref"},
	"month.11": {"November", "Tachwedd"},
	"month.12": {"December", "Rhagfyr"},

	"mail_subject": {"Tarian monthly report: %s, %s", "Adroddiad misol Tarian: %s, %s"},
	"mail_body":    {"The monthly report of %s for %s is attached (PDF).\n\nThis message was sent by Tarian.", "Mae adroddiad misol %s ar gyfer %s ynghlwm (PDF).\n\nAnfonwyd y neges hon gan Tarian."},
}

// Catalogue returns every string in l, by key (for tests and
// translators).
func Catalogue(l Lang) map[string]string {
	out := make(map[string]string, len(catalogue))
	for k := range catalogue {
		out[k] = l.T(k)
	}
	return out
}

// T returns key in l; a missing key is a bug the catalogue test catches.
func (l Lang) T(key string) string {
	t, ok := catalogue[key]
	if !ok {
		return key
	}
	if l == Welsh {
		return t.cy
	}
	return t.en
}

// Month names m's month and year: "November 2026", "Tachwedd 2026".
func (l Lang) Month(m time.Time) string {
	return l.T("month."+strconv.Itoa(int(m.Month()))) + " " + strconv.Itoa(m.Year())
}

// Date is a day in words: "3 November 2026".
func (l Lang) Date(t time.Time) string {
	t = t.UTC()
	return strconv.Itoa(t.Day()) + " " + l.Month(t)
}

// Stamp is a time to the minute, language-neutral: "2026-11-03 14:05".
func Stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// Duration shows d in its largest unit and the next one: "2 d 3 h",
// "3 awr 15 mun", "45 s"; under half a second is "0 s".
func (l Lang) Duration(d time.Duration) string {
	d = max(d, 0).Round(time.Second)
	units := []struct {
		name string
		size time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"min", time.Minute}, {"s", time.Second}}
	i := 0
	for i < len(units)-1 && d < units[i].size {
		i++
	}
	n := d / units[i].size
	out := strconv.FormatInt(int64(n), 10) + " " + l.T("unit."+units[i].name)
	if i+1 < len(units) {
		if m := (d - n*units[i].size) / units[i+1].size; m > 0 {
			out += " " + strconv.FormatInt(int64(m), 10) + " " + l.T("unit."+units[i+1].name)
		}
	}
	return out
}

// Mean shows a mean, or "—" when no alert counts.
func (l Lang) Mean(m Mean) string {
	if m.Count == 0 {
		return "—"
	}
	return l.Duration(m.Value)
}

// Target shows a service-level time ("none" when 0).
func (l Lang) Target(d time.Duration) string {
	if d <= 0 {
		return l.T("no_target")
	}
	return l.Duration(d)
}

// healthRules are the rule IDs of Tarian's own health alerts (their
// titles are "<what>: <source>"), with the key of <what> in the language.
var healthRules = [...]struct{ prefix, key string }{
	{health.RuleSilence, "rule.health.silence"},
	{health.RuleDrop, "rule.health.drop"},
}

// intelRule is the rule ID prefix of indicator matches and retro-hunts.
const intelRule = "intel:"

// intelTitles are the English openings of the titles Tarian gives its
// indicator matches and retro-hunts ("Threat intelligence: domain
// evil.example", "Retro-hunt: pattern [...]"), most specific first, with
// the key of each in the catalogue.
var intelTitles = [...]struct{ prefix, key string }{
	{"Threat intelligence: pattern ", "rule.intel.pattern"},
	{"Threat intelligence: ", "rule.intel"},
	{"Retro-hunt: pattern ", "rule.retrohunt.pattern"},
	{"Retro-hunt: ", "rule.retrohunt"},
}

// RuleTitle is a rule's title. Tarian's own health alerts have one rule
// per receiver and type over every host: their title is made from the
// rule ID in the report's language ("Log source silent: syslog/fortigate").
// Tarian's own words opening an indicator match's or retro-hunt's title
// are put in the report's language; the rest (the observable, the
// indicator's name) is data. Other rules' titles are their authors'.
func (l Lang) RuleTitle(r RuleCount) string {
	for _, h := range healthRules {
		if rest, ok := strings.CutPrefix(r.RuleID, h.prefix); ok {
			receiver, typ, _ := strings.Cut(rest, "/")
			return l.T(h.key) + ": " + receiver + "/" + l.SourceType(SourceHealth{Type: typ})
		}
	}
	if strings.HasPrefix(r.RuleID, intelRule) {
		for _, it := range intelTitles {
			if rest, ok := strings.CutPrefix(r.Title, it.prefix); ok {
				return l.T(it.key) + " " + rest
			}
		}
	}
	return r.Title
}

// Kind names a campaign's observable kind ("domain") in the language; a
// kind the catalogue lacks is shown as it is.
func (l Lang) Kind(kind string) string {
	if _, ok := catalogue["kind."+kind]; ok {
		return l.T("kind." + kind)
	}
	return kind
}

// SourceType is a source's parser, or "unknown" in the language.
func (l Lang) SourceType(s SourceHealth) string {
	if s.Type == "" || s.Type == health.TypeUnknown {
		return l.T("type.unknown")
	}
	return s.Type
}
