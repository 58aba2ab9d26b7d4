package cef

import (
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/parse/ecs"
)

// timeLayouts are the CEF time formats ("MMM dd [yyyy] HH:mm:ss[.SSS]
// [zone]"), as decode_cef reads them.
var timeLayouts = []string{
	"Jan _2 15:04:05.000 MST",
	"Jan _2 15:04:05.000 Z0700",
	"Jan _2 15:04:05.000 Z07:00",
	"Jan _2 15:04:05.000 GMT-07:00",
	"Jan _2 15:04:05.000",
	"Jan _2 15:04:05 MST",
	"Jan _2 15:04:05 Z0700",
	"Jan _2 15:04:05 Z07:00",
	"Jan _2 15:04:05 GMT-07:00",
	"Jan _2 15:04:05",
	"Jan _2 2006 15:04:05.000 MST",
	"Jan _2 2006 15:04:05.000 Z0700",
	"Jan _2 2006 15:04:05.000 Z07:00",
	"Jan _2 2006 15:04:05.000 GMT-07:00",
	"Jan _2 2006 15:04:05.000",
	"Jan _2 2006 15:04:05 MST",
	"Jan _2 2006 15:04:05 Z0700",
	"Jan _2 2006 15:04:05 Z07:00",
	"Jan _2 2006 15:04:05 GMT-07:00",
	"Jan _2 2006 15:04:05",
	time.RFC3339Nano,
}

// parseTime reads a CEF time: milliseconds since the epoch, or one of
// timeLayouts. A time without a zone is in loc (the message's dtz, else
// UTC); one without a year takes the year of ref (or now). A zone may be
// an abbreviation ecs.Zone knows or that loc uses ("EST", "CET"), an
// offset, or an IANA name ("Europe/London"); a time with any other
// abbreviation is not read (its offset is unknown: it is not UTC), and
// keeps its text in cef.extensions.
func (p *Parser) parseTime(v string, loc *time.Location, ref time.Time) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false
	}
	if c := v[0]; c >= '0' && c <= '9' || c == '-' {
		if ms, err := strconv.ParseInt(v, 0, 64); err == nil {
			t := time.UnixMilli(ms).UTC()
			return t, t.Year() > 0 && t.Year() < 10000
		}
	}
	if i := strings.LastIndexByte(v, ' '); i > 0 && strings.IndexByte(v[i+1:], '/') > 0 {
		// "Nov 13 2026 10:00:00.123 Europe/London"
		l, ok := p.location(v[i+1:])
		if !ok {
			return time.Time{}, false
		}
		v, loc = strings.TrimRight(v[:i], " "), l
	}
	for _, layout := range timeLayouts {
		t, err := time.ParseInLocation(layout, v, loc)
		if err != nil {
			continue
		}
		if strings.HasSuffix(layout, "MST") {
			// Go reads any letters (and "+0100") as an abbreviation,
			// of offset zero when it does not know it: an offset is
			// for the next layouts, an unknown abbreviation unread.
			var ok bool
			if t, ok = ecs.FixZone(t); !ok {
				continue
			}
		}
		if t.Year() == 0 {
			if ref.IsZero() {
				ref = time.Now()
			}
			t = t.AddDate(ref.In(loc).Year(), 0, 0)
		}
		return t.UTC(), true
	}
	return time.Time{}, false
}

// formatTime writes a time as decode_cef does: RFC 3339 in UTC with
// milliseconds.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// deviceZone is the location named by the message's dtz
// (deviceTimeZone), or UTC.
func (p *Parser) deviceZone() *time.Location {
	for i := range p.exts {
		if p.exts[i].name != "deviceTimeZone" {
			continue
		}
		if l, ok := p.location(strings.TrimSpace(p.exts[i].raw)); ok {
			return l
		}
	}
	return time.UTC
}

// location returns the location of an IANA zone name, loaded once per
// parser (up to 256 names, the unknown ones included).
func (p *Parser) location(tz string) (*time.Location, bool) {
	if l, ok := p.zones[tz]; ok {
		return l, l != nil
	}
	l, err := time.LoadLocation(tz)
	if err != nil || tz == "" || tz == "Local" {
		l = nil
	}
	if p.zones == nil {
		p.zones = make(map[string]*time.Location)
	}
	if len(p.zones) < 256 {
		p.zones[strings.Clone(tz)] = l
	}
	return l, l != nil
}
