package logstoretest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

// Realistic returns n events of about 600 bytes and 12 fields, varied the
// way a shared SOC's authentication, firewall and Windows logs are, with the
// fields the pipeline adds (hash, bus position).
func Realistic(r *rand.Rand, n int, at time.Time, seq uint64) []event.Event {
	modules := []string{"sshd", "windows.security", "fortigate"}
	actions := []string{"logon-failed", "logon", "connection-denied", "connection-allowed"}
	evs := make([]event.Event, n)
	for i := range evs {
		host := fmt.Sprintf("srv-%02d.council.example", r.IntN(40))
		user := fmt.Sprintf("user%03d", r.IntN(500))
		ip := fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(256), r.IntN(256))
		action := actions[r.IntN(len(actions))]
		msg := fmt.Sprintf("%s for %s from %s port %d ssh2 session %016x", action, user, ip, 1024+r.IntN(60000), r.Uint64())
		at = at.Add(time.Duration(r.IntN(2000)) * time.Microsecond)
		evs[i] = event.Event{Time: at, Fields: []event.Field{
			{Name: "message", Value: msg},
			{Name: "event.original", Value: "<38>1 " + at.Format(time.RFC3339Nano) + " " + host + " " + msg + strings.Repeat(" ", r.IntN(40))},
			{Name: "event.module", Value: modules[r.IntN(len(modules))]},
			{Name: "event.action", Value: action},
			{Name: "event.outcome", Value: []string{"success", "failure"}[r.IntN(2)]},
			{Name: "event.ingested", Value: at.Add(time.Second).Format(time.RFC3339Nano)},
			{Name: "event.hash", Value: fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())},
			{Name: "host.name", Value: host},
			{Name: "user.name", Value: user},
			{Name: "source.ip", Value: ip},
			{Name: "source.port", Value: strconv.Itoa(1024 + r.IntN(60000))},
			{Name: event.FieldSeq, Value: strconv.FormatUint(seq+uint64(i/100), 10)},
			{Name: event.FieldIdx, Value: strconv.Itoa(i % 100)},
		}}
	}
	return evs
}
