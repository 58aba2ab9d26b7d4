// Package hec is the Splunk HTTP Event Collector receiver: the endpoints
// Splunk's forwarders, logging libraries, the OpenTelemetry Collector's
// splunk_hec exporter and Fluent Bit's splunk output send to, answered with
// HEC's own status codes and texts.
//
// It frames and authenticates, nothing more. The token (Authorization:
// Splunk, Basic with the token as password, or ?token=) is a Tarian ingest
// token and the only source of the tenant. Each event becomes an event.Raw
// with Source "hec" whose Data is one JSON object in the HEC event
// envelope shape ({"event":…,"time":…,"host":…,"source":…,
// "sourcetype":…,"index":…,"fields":…}): on /event the envelope exactly as
// the client sent it, on /raw one built per line. The parser after the bus
// maps it; nothing is parsed here beyond validation.
//
// A request is all or nothing, as in Splunk: every event of it is written
// to the sink in one call, which returns once they are durable, before the
// 200; a malformed event rejects the whole request with its
// invalid-event-number, and the body is dead-lettered with the reason.
// Because 200 already means durable, indexer acknowledgement is immediate:
// every ackId issued on a channel is true.
package hec
