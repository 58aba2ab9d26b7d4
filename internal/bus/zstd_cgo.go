//go:build cgo

package bus

import vmzstd "github.com/VictoriaMetrics/VictoriaMetrics/lib/encoding/zstd"

// cZstd says bus messages are compressed by the C zstd library, linked
// already for the event store's own compression (with cgo): at its level
// 3 it takes less CPU than the Go encoder's fastest level on log records
// (2.2 against 2.8 µs a record) and leaves them smaller (163 against 180
// bytes an event; bench/README.md). Either writes standard zstd frames,
// which the Go decoder reads.
const cZstd = true

// cLevel is the C library's compression level for bus messages.
const cLevel = 3

// compressC appends src compressed to dst.
func compressC(dst, src []byte) []byte {
	return vmzstd.CompressLevel(dst, src, cLevel)
}
