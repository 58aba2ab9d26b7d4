// Package asa parses Cisco ASA and Firepower Threat Defense (FTD) syslog
// messages, the "EMBLEM" form every ASA speaks:
//
//	<166>Oct 10 2018 12:34:56 asa-01 : %ASA-6-302014: Teardown TCP connection 11749 for outside:192.168.211.242/80 to inside:172.31.98.44/1758 duration 0:01:07 bytes 38110 TCP Reset-I
//
// Type "cisco-asa" takes the message bare ("%ASA-6-302014: ...") or with
// whatever a device or relay puts in front of the tag: a PRI, the ASA's own
// timestamp ("Oct 10 2018 12:34:56", with or without year, weekday, zone
// abbreviation; or RFC 3339 with "logging timestamp rfc5424"), a host name,
// "host : ", a process tag ("CiscoASA[999]:"). The tag may be %ASA-, %FTD-
// or another Cisco prefix (%FWSM-, %PIX-), with an optional suffix
// (%FTD-session-6-...).
//
// Fields come in the layers of the parser contract (internal/parse):
// the native ones under cisco.asa.* (cisco.ftd.* for %FTD messages) as
// Elastic's cisco_asa integration names them, plus cisco.asa.message_id,
// and the Elastic Common Schema ones that integration derives: event.code,
// event.severity, log.level, event.action/category/type/outcome,
// source/destination address, ip, port, domain and NAT, network.*,
// observer.* (vendor Cisco, product asa, the device's host name and the
// ingress/egress interfaces), user names, url.*, related.*.
//
// Each message id that matters to a SOC has its own single-pass scanner (a
// dissect-style matcher for the fixed ones, hand-written code for those
// with optional parts); an id without one still becomes an event with
// event.code, cisco.asa.message_id, the observer fields and message.
package asa
