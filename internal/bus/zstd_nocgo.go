//go:build !cgo

package bus

// cZstd: without cgo, bus messages are compressed by the Go encoder
// (zstd_cgo.go).
const cZstd = false

func compressC(dst, src []byte) []byte {
	panic("BUG: no C zstd library without cgo")
}
