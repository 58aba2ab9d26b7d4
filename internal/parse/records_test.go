package parse_test

import (
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse"
)

// TestDetectByAppName: once the syslog envelope has taken the header off,
// an auth program's message no longer says which program wrote it ("sudo:"
// is gone); detection asks the envelope's app name.
func TestDetectByAppName(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want map[string]string
	}{
		{"<85>Nov 14 03:00:01 web-8 sudo:    SYSSUDO : TTY=pts/3 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/id",
			map[string]string{"user.name": "SYSSUDO", "system.auth.sudo.command": "/usr/bin/id", "user.effective.name": "root"}},
		{"<85>1 2026-11-14T03:00:00.000+01:00 web-7 sudo - - - mabli : TTY=pts/3 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow",
			map[string]string{"user.name": "mabli", "system.auth.sudo.command": "/usr/bin/cat /etc/shadow", "@timestamp": "2026-11-14T02:00:00.000Z"}},
		{"<86>Nov 10 04:05:10 gw-lnx-04 useradd[5001]: new user: name=backdoor, UID=0, GID=0, home=/root, shell=/bin/bash",
			map[string]string{"user.name": "backdoor", "user.id": "0", "event.category": `["iam"]`}},
		{"<86>Nov 10 04:05:11 gw-lnx-04 su[5002]: FAILED SU (to root) steffan on pts/0",
			map[string]string{"user.name": "steffan", "user.effective.name": "root", "event.outcome": "failure"}},
		{"<86>Nov 10 04:05:13 gw-lnx-04 systemd-logind[655]: New session 42 of user steffan.",
			map[string]string{"user.name": "steffan", "event.category": `["session"]`}},
		{"<78>Nov 10 04:05:14 gw-lnx-04 CRON[9001]: (root) CMD (/usr/local/bin/backup.sh)",
			map[string]string{"user.name": "root", "event.category": `["process"]`}},
		{"<78>Nov 10 04:05:14 gw-lnx-04 crond[9001]: (root) CMD (run-parts /etc/cron.hourly)",
			map[string]string{"user.name": "root"}},
		{"<86>Nov 10 04:05:15 gw-lnx-04 groupadd[9003]: group added to /etc/group: name=admins, GID=1005",
			map[string]string{"group.name": "admins", "group.id": "1005"}},
		{"<86>Nov 10 04:05:16 gw-lnx-04 /usr/sbin/sshd[40112]: Server listening on 0.0.0.0 port 22.",
			map[string]string{"event.dataset": "system.auth", "process.name": "/usr/sbin/sshd"}},
		{"<86>Nov 10 04:05:06 gw-lnx-04 sshd[40112]: Invalid user admin from 2001:db8::42 port 33221",
			map[string]string{"user.name": "admin", "source.ip": "2001:db8::42"}},
	} {
		evs, err := parseRecord(t, parse.Config{}, "cardiff", "syslog", c.raw)
		if err != nil || len(evs) != 1 {
			t.Fatalf("%s: %v, %d events", c.raw, err, len(evs))
		}
		ev := evs[0]
		if typ := get(ev, parse.FieldType); typ != "linux-auth" || get(ev, parse.FieldDetected) != "true" {
			t.Errorf("%s: type %q, want linux-auth (detected)", c.raw, typ)
			continue
		}
		for name, want := range c.want {
			if got := get(ev, name); got != want {
				t.Errorf("%s: %s = %q, want %q", c.raw, name, got, want)
			}
		}
	}
	// Another program's line is not an auth line.
	evs, _ := parseRecord(t, parse.Config{}, "cardiff", "syslog", "<14>Nov 10 04:05:16 gw-lnx-04 nginx[7]: started")
	if typ := get(evs[0], parse.FieldType); typ == "linux-auth" {
		t.Errorf("nginx line detected as %s", typ)
	}
}

// TestSyslogLineWithoutPRI: a syslog line with no PRI is kept whole by the
// envelope; the format that reads its header gives host.name as the
// envelope would have.
func TestSyslogLineWithoutPRI(t *testing.T) {
	evs, err := parseRecord(t, parse.Config{}, "cardiff", "syslog", "Nov  3 09:15:03 nopri-host sudo:    gwenllian : TTY=pts/2 ; PWD=/home/g ; USER=root ; COMMAND=/bin/ls")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"host.name": "nopri-host", "host.hostname": "nopri-host", "user.name": "gwenllian", parse.FieldType: "linux-auth"} {
		if got := get(evs[0], name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// A shipper's host.name (Filebeat's, beside the line) stays.
	evs, err = parseRecord(t, parse.Config{}, "cardiff", "elasticsearch", `{"host":{"name":"agent-1"},"message":"Nov  3 09:15:03 nopri-host sudo:    gwenllian : TTY=pts/2 ; PWD=/home/g ; USER=root ; COMMAND=/bin/ls"}`)
	if err != nil || get(evs[0], "host.name") != "agent-1" || get(evs[0], "host.hostname") != "nopri-host" {
		t.Errorf("shipper's host: %v %v", err, evs)
	}
}

// TestEventHash: every event carries its raw record's event.hash, whether
// parsed by the server (Parse) or by `tarian parse` (ParseAs), one hash for
// all the events of a batch record, a record's own event.hash replaced.
func TestEventHash(t *testing.T) {
	withFormats(t)
	p, _ := parse.New(parse.Config{})
	pp := p.NewParser()
	for _, raw := range []string{
		"<85>Nov 14 03:00:01 web-8 sudo:    SYSSUDO : TTY=pts/3 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/id",
		"<14>Nov 14 03:00:01 web-8 nothing: known",
		`{"records":[{"doc":1},{"doc":2}]}`,
		`{"event":{"hash":"forged"},"message":"hi"}`,
		"kv: a=1", // a file's line: ParseAs only
	} {
		want := event.Hash([]byte(raw))
		for _, how := range []string{"Parse", "ParseAs"} {
			if how == "Parse" && strings.HasPrefix(raw, "kv:") {
				continue
			}
			var evs []event.Event
			var err error
			r := event.Raw{Received: received, Source: "http", Data: []byte(raw)}
			if strings.HasPrefix(raw, "<") {
				r.Source = "syslog"
			}
			if how == "Parse" {
				evs, err = pp.Parse("cardiff", r, nil)
			} else {
				evs, err = pp.ParseAs(parse.Auto, r, nil)
			}
			if err != nil || len(evs) == 0 {
				t.Fatalf("%s(%s): %v, %d events", how, raw, err, len(evs))
			}
			for i, ev := range evs {
				n := 0
				for _, f := range ev.Fields {
					if f.Name == event.FieldHash {
						n++
					}
				}
				if got := get(ev, event.FieldHash); got != want || n != 1 {
					t.Errorf("%s(%s) event %d: event.hash %q (%d of them), want %q", how, raw, i, got, n, want)
				}
			}
		}
	}
}
