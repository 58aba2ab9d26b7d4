package ingest

import "context"

// writeKey is the context key of a write's idempotency key.
type writeKey struct{}

// WithWriteKey returns ctx naming the records its Sink.Write gets with
// key: a Write of the same tenant and key (a shipper's retry of a request
// whose answer it lost) stores each record at most once while the sink
// remembers the key (the bus: 2 minutes). The caller makes keys unique
// per write: AcceptNDJSON derives one per chunk from its request's.
func WithWriteKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, writeKey{}, key)
}

// WriteKey returns the key WithWriteKey gave ctx, or "".
func WriteKey(ctx context.Context) string {
	k, _ := ctx.Value(writeKey{}).(string)
	return k
}
