// Package kv reads key=value text, the shape of FortiGate, Sophos, Cisco
// and many other firewall logs:
//
//	date=2026-04-02 time=17:31:09 devname="FW 1" msg="said \"hi\"" n=1
//
// Scanner walks such text in one pass without allocating: pairs are
// separated by runs of a separator byte (a space by default), a key ends at
// the first assignment byte ('=' by default) that is not inside quotes, and
// a quote byte ('"') toggles a quoted stretch in which separators and
// assignments are plain text. An escape byte ('\\') makes the byte after it
// plain, so an escaped quote neither opens nor closes a quoted stretch.
// Words that hold no assignment (a syslog header in front of the pairs,
// stray text) are skipped.
//
// The scanner returns values raw, quotes and escapes kept: Unquote strips
// the quotes around a value and AppendUnescaped removes escapes, so that a
// format parser decides how faithful to the device it wants to be (the
// FortiGate parser keeps escapes, as Elastic's pipeline does).
//
// The syslog header that relays and files put in front of the pairs is
// read by parse/syslogheader.
package kv
