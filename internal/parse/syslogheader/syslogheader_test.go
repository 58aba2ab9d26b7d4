package syslogheader

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSplit(t *testing.T) {
	ref := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name, in string
		want     Header
		msg      string
		ok       bool
	}{
		{"rfc3164", "Feb  3 10:00:00 web1 sshd[123]: Failed password",
			Header{Priority: -1, Time: time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC), Host: "web1", App: "sshd", ProcID: "123"}, "Failed password", true},
		{"rfc3164 two-digit day and fraction", "Nov 22 19:24:55.250 web1 cron: x",
			Header{Priority: -1, Time: time.Date(2025, 11, 22, 19, 24, 55, 250e6, time.UTC), Host: "web1", App: "cron"}, "x", true},
		{"pri", "<38>Feb  3 10:00:00 web1 su[9]: x",
			Header{Priority: 38, Time: time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC), Host: "web1", App: "su", ProcID: "9"}, "x", true},
		{"no host", "Feb  3 10:00:00 sshd[123]: x",
			Header{Priority: -1, Time: time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC), App: "sshd", ProcID: "123"}, "x", true},
		{"rfc3339 with zone", "2013-10-30T14:51:21.901728+01:00 srv sshd[12664]: x",
			Header{Priority: -1, Time: time.Date(2013, 10, 30, 13, 51, 21, 901728000, time.UTC), Host: "srv", App: "sshd", ProcID: "12664"}, "x", true},
		{"iso with space, numeric zone, two spaces", "2020-03-23 06:47:42.801612-0700  localhost sshd[3186]: x",
			Header{Priority: -1, Time: time.Date(2020, 3, 23, 13, 47, 42, 801612000, time.UTC), Host: "localhost", App: "sshd", ProcID: "3186"}, "x", true},
		{"year first", "2015 Nov 13 13:40:01 ether rsyslogd-2177: x y",
			Header{Priority: -1, Time: time.Date(2015, 11, 13, 13, 40, 1, 0, time.UTC), Host: "ether", App: "rsyslogd-2177"}, "x y", true},
		{"year after day", "Nov 13 2015 13:40:01 ether app: x",
			Header{Priority: -1, Time: time.Date(2015, 11, 13, 13, 40, 1, 0, time.UTC), Host: "ether", App: "app"}, "x", true},
		{"pam tag", "Nov 11 22:46:29 localhost su(pam_unix)[23164]: authentication failure",
			Header{Priority: -1, Time: time.Date(2025, 11, 11, 22, 46, 29, 0, time.UTC), Host: "localhost", App: "su(pam_unix)", ProcID: "23164"}, "authentication failure", true},
		{"path tag", "May  8 08:26:55 mail postfix/smtpd[22055]: connect",
			Header{Priority: -1, Time: time.Date(2026, 5, 8, 8, 26, 55, 0, time.UTC), Host: "mail", App: "postfix/smtpd", ProcID: "22055"}, "connect", true},
		{"address host", "Aug 18 07:30:25 192.168.1.5 sshd[20247]: x",
			Header{Priority: -1, Time: time.Date(2025, 8, 18, 7, 30, 25, 0, time.UTC), Host: "192.168.1.5", App: "sshd", ProcID: "20247"}, "x", true},
		{"host without tag", "Feb  3 10:00:00 web1 key=value text",
			Header{Priority: -1, Time: time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC), Host: "web1"}, "key=value text", true},
		{"rfc5424 with sd", `<86>1 2026-01-02T03:04:05.5Z h1 sshd 77 ID1 [x@1 a="b\"]"][y@2] Accepted`,
			Header{Priority: 86, Version: "1", Time: time.Date(2026, 1, 2, 3, 4, 5, 5e8, time.UTC), Host: "h1", App: "sshd", ProcID: "77", MsgID: "ID1", SD: `[x@1 a="b\"]"][y@2]`}, "Accepted", true},
		{"rfc5424 relayed from rfc3164: two spaces, the rest kept", "<13>1 2026-01-02T03:04:05Z h1 app - - -    x",
			Header{Priority: 13, Version: "1", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Host: "h1", App: "app", Relayed: true}, "  x", true},
		{"rfc5424 sd that does not close: the message", `<13>1 - h1 app - - [x a="b] m`,
			Header{Priority: 13, Version: "1", Host: "h1", App: "app"}, `[x a="b] m`, true},
		{"a tag keeps the message's own spaces", "Feb  3 10:00:00 web1 sudo:   eve : TTY=pts/0",
			Header{Priority: -1, Time: time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC), Host: "web1", App: "sudo"}, "  eve : TTY=pts/0", true},
		{"pri without a time names no host", "<13>just some text",
			Header{Priority: 13}, "just some text", true},
		{"rfc5424 nil values", "<86>1 - - - - - - msg here",
			Header{Priority: 86, Version: "1"}, "msg here", true},
		{"pri only", "<13>sshd[5]: x",
			Header{Priority: 13, App: "sshd", ProcID: "5"}, "x", true},
		{"no header", "Failed password for root from 1.2.3.4 port 22 ssh2",
			Header{Priority: -1}, "Failed password for root from 1.2.3.4 port 22 ssh2", false},
		{"bad time", "Feb 30x 10:00:00 host x", Header{Priority: -1}, "Feb 30x 10:00:00 host x", false},
		{"bad pri", "<999>Feb  3 10:00:00 h a: x", Header{Priority: -1}, "<999>Feb  3 10:00:00 h a: x", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, msg, ok := Split(c.in, ref, nil)
			if ok != c.ok || msg != c.msg {
				t.Errorf("ok, msg = %v, %q; want %v, %q", ok, msg, c.ok, c.msg)
			}
			if diff := cmp.Diff(c.want, h); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
		})
	}
}

// TestYear: a time without a year takes the latest year that does not put
// it more than two days after the reference.
func TestYear(t *testing.T) {
	for _, c := range []struct {
		ref, line string
		want      int
	}{
		{"2026-06-15T12:00:00Z", "Jun 15 11:00:00 h a: x", 2026},
		{"2026-06-15T12:00:00Z", "Jun 16 11:00:00 h a: x", 2026}, // a day ahead: clock skew
		{"2026-06-15T12:00:00Z", "Jun 20 11:00:00 h a: x", 2025}, // would be in the future
		{"2026-01-01T00:10:00Z", "Dec 31 23:59:59 h a: x", 2025},
		{"2025-12-31T23:59:00Z", "Jan  1 00:00:05 h a: x", 2026}, // the sender's clock is ahead
		{"2026-03-01T00:00:00Z", "Feb 28 10:00:00 h a: x", 2026},
	} {
		ref, err := time.Parse(time.RFC3339, c.ref)
		if err != nil {
			t.Fatal(err)
		}
		h, _, ok := Split(c.line, ref, nil)
		if !ok || h.Time.Year() != c.want {
			t.Errorf("ref %s, %q: year %d (ok %v), want %d", c.ref, c.line, h.Time.Year(), ok, c.want)
		}
	}
}

func TestSplitAllocs(t *testing.T) {
	line := "<38>2020-03-23 06:47:42.801612-0700  localhost sshd[3186]: Failed password for root"
	ref := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if n := testing.AllocsPerRun(100, func() { Split(line, ref, nil) }); n != 0 {
		t.Errorf("Split allocates %.0f times, want 0", n)
	}
}

// TestSplitPayload: a word the caller's format says is its payload is
// neither a host nor a tag, wherever it stands.
func TestSplitPayload(t *testing.T) {
	ref := time.Date(2026, 4, 3, 12, 0, 0, 0, time.UTC)
	hasEq := func(w string) bool { return strings.IndexByte(w, '=') >= 0 }
	for _, c := range []struct {
		name, in string
		want     Header
		rest     string
		ok       bool
	}{
		{"none", `date=2026-04-02 time=1`, Header{Priority: -1}, `date=2026-04-02 time=1`, false},
		{"pri only", `<189>date=2026-04-02 b=1`, Header{Priority: 189}, `date=2026-04-02 b=1`, true},
		{"rfc3339 and host", `2026-04-03T00:31:09.976660+00:00 192.168.2.1 date=x`,
			Header{Priority: -1, Time: time.Date(2026, 4, 3, 0, 31, 9, 976660000, time.UTC), Host: "192.168.2.1"}, `date=x`, true},
		{"rfc3164 no host", `Dec 23 11:13:03 date=2011-07-24 a=b`,
			Header{Priority: -1, Time: time.Date(2025, 12, 23, 11, 13, 3, 0, time.UTC)}, `date=2011-07-24 a=b`, true},
		{"rfc3164 host tag", `<13>Apr  3 10:00:01.250 fw01 fortigate[12]: a=1`,
			Header{Priority: 13, Time: time.Date(2026, 4, 3, 10, 0, 1, 250000000, time.UTC), Host: "fw01", App: "fortigate", ProcID: "12"}, `a=1`, true},
		{"year first", `2018 Apr 09 16:03:37 relay->10.0.0.1 date=2018-04-09`,
			Header{Priority: -1, Time: time.Date(2018, 4, 9, 16, 3, 37, 0, time.UTC), Host: "relay->10.0.0.1"}, `date=2018-04-09`, true},
		{"rfc5424", `<134>1 2026-04-03T10:00:00.5Z fw01 app 77 ID42 [ex@1 a="]" b="c"] a=1 b=2`,
			Header{Priority: 134, Version: "1", Time: time.Date(2026, 4, 3, 10, 0, 0, 500000000, time.UTC), Host: "fw01", App: "app", ProcID: "77", MsgID: "ID42", SD: `[ex@1 a="]" b="c"]`}, `a=1 b=2`, true},
		{"rfc5424 nil fields", `<134>1 - - - - - a=1`, Header{Priority: 134, Version: "1"}, `a=1`, true},
		{"not a time", `Syslogdate Sysloghost CEF:0|x`, Header{Priority: -1}, `Syslogdate Sysloghost CEF:0|x`, false},
		{"bad pri", `<999>a=1`, Header{Priority: -1}, `<999>a=1`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, rest, ok := Split(c.in, ref, hasEq)
			if diff := cmp.Diff(c.want, h); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if rest != c.rest || ok != c.ok {
				t.Errorf("rest, ok = %q, %v; want %q, %v", rest, ok, c.rest, c.ok)
			}
		})
	}
}

// FuzzSplit: no input panics, and the message is the end of the line.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"<13>Feb  3 10:00:00 h a[1]: x", `<134>1 - - - - - [a b="]"] m`, "2015 Nov 13 13:40:01 h x", "<1>", "Jan 1 ", "<86>1 2026-01-02T03:04:05Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		_, msg, _ := Split(in, time.Time{}, func(w string) bool { return strings.Contains(w, "=") })
		if !strings.HasSuffix(in, msg) {
			t.Fatalf("message %q is not the end of %q", msg, in)
		}
	})
}
