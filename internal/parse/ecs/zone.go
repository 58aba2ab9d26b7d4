package ecs

import "time"

// Zone returns the UTC offset, in seconds, of a time zone abbreviation as
// devices write one after a time ("Nov 07 2026 11:02:36 CET"). Go's time
// package knows an abbreviation only in a location that uses it, and
// parses any other as UTC; the formats whose times carry one (Cisco ASA,
// CEF rt, LEEF devTime) read it here instead. The table holds the
// abbreviations of North America, Europe, Australia, New Zealand and East
// Asia that name one offset; an ambiguous one (IST: India, Ireland or
// Israel) is not in it, so a time that carries it is not taken as UTC but
// left unread. CST and AST are the North American ones, as Cisco and
// Elastic read them.
func Zone(abbr string) (offset int, ok bool) {
	const h = 3600
	switch abbr {
	case "UTC", "GMT", "UT", "Z", "WET":
		return 0, true
	case "WEST", "BST", "CET", "MET":
		return 1 * h, true
	case "CEST", "MEST", "EET":
		return 2 * h, true
	case "EEST", "MSK":
		return 3 * h, true
	case "AST", "EDT":
		return -4 * h, true
	case "ADT":
		return -3 * h, true
	case "EST", "CDT":
		return -5 * h, true
	case "CST", "MDT":
		return -6 * h, true
	case "MST", "PDT":
		return -7 * h, true
	case "PST", "AKDT":
		return -8 * h, true
	case "AKST":
		return -9 * h, true
	case "HST":
		return -10 * h, true
	case "NST":
		return -(3*h + 30*60), true
	case "NDT":
		return -(2*h + 30*60), true
	case "HKT", "SGT", "AWST":
		return 8 * h, true
	case "JST", "KST":
		return 9 * h, true
	case "ACST":
		return 9*h + 30*60, true
	case "AEST":
		return 10 * h, true
	case "ACDT":
		return 10*h + 30*60, true
	case "AEDT":
		return 11 * h, true
	case "NZST":
		return 12 * h, true
	case "NZDT":
		return 13 * h, true
	}
	return 0, false
}

// FixZone corrects a time that time.Parse read with a zone abbreviation
// (an "MST" layout element): an abbreviation its location did not know
// was given offset zero, so the wall clock is put at Zone's offset
// instead; the result is in UTC. ok is false for an abbreviation Zone does not know either: the
// time's offset is unknown, and a caller must not take it as UTC.
func FixZone(t time.Time) (time.Time, bool) {
	name, off := t.Zone()
	if off != 0 || name == "" || name == "UTC" {
		return t, true // a numeric offset, or one the location knew
	}
	o, ok := Zone(name)
	if !ok {
		return t, false
	}
	if o == 0 {
		return t, true
	}
	y, mo, d := t.Date()
	hh, mm, ss := t.Clock()
	// In UTC, offset applied: no Location to allocate.
	return time.Date(y, mo, d, hh, mm, ss, t.Nanosecond(), time.UTC).Add(-time.Duration(o) * time.Second), true
}
