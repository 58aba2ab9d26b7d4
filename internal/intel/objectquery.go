package intel

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// ObjectQuery selects stored STIX object versions for one viewer: what a
// TAXII collection serves and what an export reads. Every query is
// filtered by the viewer's right to read (ObjectVisibleTo) before anything
// else, so no filter can widen it.
type ObjectQuery struct {
	// Viewer is the member reading; ignored when Provider is set.
	Viewer tenant.ID
	// Provider reads as the provider's staff: every object.
	Provider bool
	// Shared narrows to the shared collection: the provider's objects
	// for all members (audience nil).
	Shared bool
	// Member, when set, narrows to one member's collection: the objects
	// it owns and the provider's objects that name it in their audience.
	// Neither Shared nor Member: every object the viewer may read.
	Member tenant.ID
	// AddedAfter keeps versions stored strictly after it (TAXII
	// added_after).
	AddedAfter time.Time
	// IDs and Types keep objects with one of these ids or types.
	IDs, Types []string
	// Versions keeps, per object, "first", "last", "all" or versions
	// named by their RFC 3339 timestamp; empty is "last".
	Versions []string
	// SpecVersions keeps versions of these STIX spec versions; empty is,
	// per object, its latest spec version only (as TAXII 2.1 says).
	SpecVersions []string
	// Limit caps the versions returned (0: no limit).
	Limit int
	// Next continues a query after the last object of a page
	// (ObjectCursor).
	Next string
}

// The words of ObjectQuery.Versions.
const (
	VersionFirst = "first"
	VersionLast  = "last"
	VersionAll   = "all"
)

// Validate reports the first malformed filter.
func (q ObjectQuery) Validate() error {
	if q.Limit < 0 {
		return fmt.Errorf("limit %d: must not be negative", q.Limit)
	}
	if q.Shared && q.Member != "" {
		return fmt.Errorf("shared and member %s: a query reads one collection", q.Member)
	}
	for _, v := range q.Versions {
		switch v {
		case VersionFirst, VersionLast, VersionAll:
			continue
		}
		if _, err := ParseTimestamp(v); err != nil {
			return fmt.Errorf("version %q: want first, last, all or a timestamp", v)
		}
	}
	return nil
}

// ObjectCursor is the ObjectQuery.Next that continues after o: its
// date_added in nanoseconds, which a store keeps strictly increasing.
func ObjectCursor(o Object) string { return strconv.FormatInt(o.Added.UnixNano(), 10) }

// ParseTimestamp reads a STIX/TAXII timestamp (RFC 3339 in UTC, any
// number of fractional digits).
func ParseTimestamp(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// FormatTimestamp writes t as STIX and TAXII timestamps are written: UTC,
// "Z", with milliseconds, or microseconds or nanoseconds when t has them.
func FormatTimestamp(t time.Time) string {
	t = t.UTC()
	switch ns := t.Nanosecond(); {
	case ns%1_000_000 == 0:
		return t.Format("2006-01-02T15:04:05.000Z")
	case ns%1000 == 0:
		return t.Format("2006-01-02T15:04:05.000000Z")
	}
	return t.Format("2006-01-02T15:04:05.000000000Z")
}

// ObjectVisibleTo reports whether a member (t) may read o, by the rule of
// Indicator.AppliesTo: its own objects, and the provider's that are shared
// with all members (unless AMBER+STRICT or RED) or name it. Provider staff
// (provider true) read every object.
func ObjectVisibleTo(o Object, t tenant.ID, provider bool) bool {
	if provider {
		return true
	}
	if t == "" {
		return false
	}
	if o.Owner != "" {
		return o.Owner == t
	}
	if o.Audience == nil {
		return !o.TLP.Restricted()
	}
	return slices.Contains(o.Audience, t)
}
