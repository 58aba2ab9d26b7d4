// Package syslog is the syslog receiver: RFC 5424 and RFC 3164 messages
// over UDP (RFC 5426), TCP (RFC 6587, octet counting or newlines, detected
// per connection) and TLS (RFC 5425).
//
// It frames and authenticates, nothing more: each message becomes an
// event.Raw with Source "syslog" and its bytes exactly as framed (without
// the framing and one trailing LF), and envelope.Syslog parses it after
// the bus. A sender's tenant comes only from configuration: the listener's
// own tenant, the verified TLS client certificate's identity, or the
// sender's allow-listed address. A sender that matches none is refused and
// counted, never stored under a guess.
//
// A TCP or TLS connection reads a batch (BatchRecords or BatchWait), writes
// it to the sink, which returns once the records are durable, and only
// then reads on, so a slow bus slows the sender (TCP back-pressure); a
// failing write is retried with backoff. UDP cannot push back: datagrams
// the sink refuses are dropped and counted. Malformed frames (a bad octet
// count, a message over MaxMessageBytes) are dead-lettered with the
// reason; a newline stream resynchronises at the next LF, an
// octet-counted one with a bad count is closed.
package syslog
