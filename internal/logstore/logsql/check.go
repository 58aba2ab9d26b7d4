package logsql

import (
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
)

// Check reports whether q is LogsQL the event stores can run, with the
// parser's own words when it is not (both stores parse with it before
// they search).
func Check(q string) error {
	_, err := logstorage.ParseQueryAtTimestamp(q, time.Now().UnixNano())
	return err
}
