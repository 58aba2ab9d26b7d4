package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

// StoredDetection is the part of a detection that comes from an event
// read back from the event store (a retro-hunt's, a scheduled search's):
// where it is on the bus, when it happened and was received, what it is
// about, and the same EventHash as the real-time path gives it, so an
// event matched live and again later counts once in an alert.
func StoredDetection(at time.Time, fields []event.Field) Detection {
	d := Detection{EventTime: at, Entities: Entities(fields)}
	var seq, idx, hash, ingested string
	for _, f := range fields {
		switch f.Name {
		case event.FieldSeq:
			seq = f.Value
		case event.FieldIdx:
			idx = f.Value
		case event.FieldHash:
			hash = f.Value
		case event.FieldIngested:
			ingested = f.Value
		}
	}
	if seq != "" {
		d.EventRef = seq + ":" + idx
	}
	if t, err := time.Parse(time.RFC3339Nano, ingested); err == nil {
		d.Received = t
	}
	sub := "0"
	if _, s, ok := strings.Cut(idx, "."); ok {
		sub = s
	}
	sum := sha256.Sum256([]byte(hash + "/" + sub))
	d.EventHash = hex.EncodeToString(sum[:16])
	return d
}
