package bus

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

// A message body is a sequence of records, each:
//
//	uvarint len(source) | source | varint received (unix ns) | uvarint len(data) | data
//
// Records are length-prefixed, so data may hold any bytes (syslog frames
// carry raw newlines).

var errCorrupt = errors.New("corrupt message body")

// encode packs records from recs into one message body of about limit bytes
// (always at least one record) and returns the body and how many it took.
func encode(recs []event.Raw, limit int) ([]byte, int) {
	size := 0
	n := 0
	for _, r := range recs {
		sz := len(r.Source) + len(r.Data) + 3*binary.MaxVarintLen64
		if n > 0 && size+sz > limit {
			break
		}
		size += sz
		n++
	}
	buf := make([]byte, 0, size)
	for _, r := range recs[:n] {
		buf = binary.AppendUvarint(buf, uint64(len(r.Source)))
		buf = append(buf, r.Source...)
		buf = binary.AppendVarint(buf, r.Received.UnixNano())
		buf = binary.AppendUvarint(buf, uint64(len(r.Data)))
		buf = append(buf, r.Data...)
	}
	return buf, n
}

// decode unpacks a message body. Record data aliases body.
func decode(body []byte) ([]event.Raw, error) {
	var recs []event.Raw
	for len(body) > 0 {
		var r event.Raw
		n, k := binary.Uvarint(body)
		if k <= 0 || uint64(len(body)-k) < n {
			return nil, errCorrupt
		}
		r.Source = string(body[k : k+int(n)])
		body = body[k+int(n):]
		ts, k := binary.Varint(body)
		if k <= 0 {
			return nil, errCorrupt
		}
		r.Received = time.Unix(0, ts).UTC()
		body = body[k:]
		n, k = binary.Uvarint(body)
		if k <= 0 || uint64(len(body)-k) < n {
			return nil, errCorrupt
		}
		r.Data = body[k : k+int(n) : k+int(n)]
		body = body[k+int(n):]
		recs = append(recs, r)
	}
	return recs, nil
}
