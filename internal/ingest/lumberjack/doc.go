// Package lumberjack is the Lumberjack v2 receiver: the protocol of the
// Beats' "Logstash output" (Filebeat, Winlogbeat, Auditbeat, Elastic
// Agent's logstash output), over TCP or TLS.
//
// A shipper sends a window frame (2W, the number of events), then that
// many JSON data frames (2J: sequence number, length, one JSON document),
// plain or inside zlib-compressed frames (2C), and waits for an ACK frame
// (2A) with the sequence number of the last event. Each event that is a
// JSON object becomes an event.Raw with Source "lumberjack" and the
// document, byte for byte, as Data; the indexer parses it as JSON after
// the bus. A data frame that is not a JSON object, or is over
// MaxEventBytes, is dead-lettered with the reason and still acknowledged,
// so the shipper does not resend it forever.
//
// The protocol is handled here rather than by go-lumber's server (whose
// frame codes it shares): that server acknowledges batches handed to a
// channel shared by every connection, so it cannot tell which connection,
// and so which tenant, a batch came from; it keeps the whole window
// decoded into maps; and it trusts frame lengths. Here each connection is
// served by its own session: read a window (streaming, in parts of at most
// a few MiB), write its events to the sink, which returns once they are
// durable, and only then send the ACK and read on. While a write waits on
// back-pressure the session reads nothing, retries with backoff, and sends
// an empty ACK (sequence 0) every Keepalive, as Logstash and go-lumber's
// server do, so the Beat keeps waiting instead of timing out and sending
// the window again. Events are never acknowledged before they are
// written. A connection that ends inside a window has nothing of that
// window written: the shipper resends it.
//
// A malformed frame (an unknown frame type, a bad version, a corrupt zlib
// stream) ends the connection: the events before it are written and
// acknowledged, and the frame, as far as it had arrived, is dead-lettered
// with the reason and counted.
//
// A sender's tenant comes only from configuration, as for the syslog
// receiver: the listener's own tenant, the verified TLS client
// certificate's identity, or the sender's allow-listed address. A sender
// that matches none is refused and counted, never stored under a guess.
package lumberjack
