package indicators

import (
	"crypto/sha1"
	"fmt"
)

// tarianNamespace is the UUID namespace of the ids Tarian derives.
var tarianNamespace = [16]byte{0x6f, 0x1c, 0x2a, 0x51, 0x8e, 0x3b, 0x4d, 0x2f, 0x9a, 0x0e, 0x55, 0x7c, 0x31, 0xd4, 0xa8, 0x02}

// uuid5 is a STIX id "typ--<UUIDv5 of name>": the same name, the same id.
func uuid5(typ, name string) string {
	h := sha1.New()
	h.Write(tarianNamespace[:])
	h.Write([]byte(name))
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%s--%x-%x-%x-%x-%x", typ, b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
