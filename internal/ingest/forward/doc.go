// Package forward is the Fluent Forward protocol receiver (Forward
// Protocol Specification v1): what Fluent Bit's and Fluentd's "forward"
// outputs, the Docker fluentd log driver and the fluent-logger libraries
// send, over TCP or TLS.
//
// Every mode is accepted: Message [tag, time, record, option?], Forward
// [tag, [[time, record], ...], option?], PackedForward [tag, bin, option?]
// and CompressedPackedForward (option compressed: "gzip"). Time is integer
// seconds, a float, an EventTime (extension type 0) or Fluent Bit's
// [EventTime, metadata]. The MessagePack decoder is this package's own: a
// resumable scanner frames each message and checks every length against
// the limits before anything is buffered for it.
//
// Each record becomes one event.Raw with Source "forward" and Data one JSON
// object: the record's keys, plus "@timestamp" (the event time, RFC 3339
// UTC) and "fluent.tag" (and "fluent.metadata" when Fluent Bit sends
// some), unless the record has a key of that name itself. A record that
// cannot become JSON (not a map, a NaN, an unknown extension type, over
// MaxRecordBytes) is dead-lettered with the reason; input that is not the
// Forward protocol closes the connection, counted, and is dead-lettered as
// far as it was read.
//
// A sender's tenant comes only from configuration, as for syslog: the
// listener's own tenant, the verified TLS client certificate's identity, or
// the sender's allow-listed address; anyone else is refused and counted.
// A listener may also require the Forward handshake with a shared key, an
// extra check that never decides the tenant.
//
// A connection reads a batch, writes it to the sink, which returns once
// the records are durable, stores its dead letters, and only then answers
// {"ack": chunk} for every message that carried a chunk option. A slow or
// refusing sink stops the reads (TCP back-pressure) and is retried; nothing
// unwritten is ever acknowledged.
package forward
