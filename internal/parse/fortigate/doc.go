// Package fortigate parses Fortinet FortiGate (FortiOS 4 to 7) logs, the
// key=value lines a FortiGate sends over syslog:
//
//	date=2026-04-02 time=17:31:09 devname="FW1" devid="FGT60F..." tz="-0700" logid="0100032002" type="event" subtype="system" ...
//
// The type name is "fortigate". A line may come bare, with a syslog
// header in front (PRI, RFC 3164 or RFC 5424, a relay's RFC 3339 time and
// address), or as the "message" of a JSON record.
//
// The fields follow Elastic's fortinet_fortigate integration, whose
// ingest pipeline this package re-implements step for step (default,
// event, login, traffic and utm pipelines, and part of its log-ID table),
// so that events agree with Elastic's documents:
//
//   - native: every device key that no ECS field took, as
//     fortinet.firewall.<key> (keys holding anything but letters, digits
//     and '_' dropped, "N/A" values dropped, as Elastic does);
//   - ECS: @timestamp from date, time and tz; event.* (kind, category,
//     type, action, outcome, code, start, duration, timezone, reason),
//     source.* and destination.* (addresses, ports, bytes, packets, NAT,
//     users), network.*, observer.*, rule.*, url.*, dns.*, tls.*, file.*,
//     user.*, related.*, log.level and log.syslog.*.
//
// Where Elastic's pipeline leaves an event without event.category or
// event.type (system events, FortiOS 5 anomalies), the nearest ECS values
// are added; where it leaves addresses in fortinet.firewall.* (FortiOS 4
// src/dst, types no sub-pipeline handles) they are mapped too. GeoIP and
// ASN enrichment are not parsing and are not done here.
//
// Key=value scanning is package kv's Scanner, which other key=value
// formats share.
package fortigate
