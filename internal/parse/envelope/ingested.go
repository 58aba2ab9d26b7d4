package envelope

import "time"

// Ingested formats receive times as event.ingested (RFC 3339, UTC, every
// digit), remembering the last one: the records of one request or bus
// message share their receive time, so most records reuse the text (and
// its allocation) of the record before them. The zero value is ready to
// use; it is not safe for concurrent use.
type Ingested struct {
	t time.Time
	s string
}

// Text returns t as event.ingested.
func (c *Ingested) Text(t time.Time) string {
	if c.s == "" || !t.Equal(c.t) {
		c.t, c.s = t, t.UTC().Format(time.RFC3339Nano)
	}
	return c.s
}
