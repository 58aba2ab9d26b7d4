// Package leef parses IBM QRadar's Log Event Extended Format, versions
// 1.0 and 2.0:
//
//	LEEF:1.0|Vendor|Product|Version|EventID|key=value<TAB>key=value...
//	LEEF:2.0|Vendor|Product|Version|EventID|Delimiter|key=value<D>key=value...
//
// The type name is "leef". A message may come bare, after a syslog header
// (anything before "LEEF:"), or as the "message" of a JSON record.
//
// LEEF 2.0's delimiter is one character ("^") or its code in hex ("x09",
// "0x5E"); an empty or missing delimiter field means a tab. A LEEF 1.0
// message that holds no tab is split at spaces, a value then running until
// the next space followed by "key=" (devices that write LEEF 1.0 with
// spaces exist). A value may hold '='; '|' and '\' are escaped in the
// header ("\|", "\\").
//
// Fields:
//
//   - native: leef.version, leef.device.{vendor,product,version},
//     leef.event_id, leef.delimiter (2.0), and leef.attributes.<key> for
//     every attribute with a value;
//   - ECS, from the predefined attributes: source.*/destination.* (src,
//     dst, srcPort, dstPort, the pre- and post-NAT addresses and ports,
//     srcMAC, dstMAC, srcBytes, dstBytes, srcPackets, dstPackets),
//     network.{transport,iana_number,bytes,packets} (proto,
//     totalPackets), user.name and source.user.name (usrName, else
//     accountName), user.domain, user.group.name, user.roles, host.*
//     (identHostName, identSrc, identMAC), url.original, rule.name
//     (policy), event.severity (sev), event.outcome (cat
//     Success/Failed), event.code (EventID), observer.* (header),
//     related.*, and event.kind/category/type.
//
// @timestamp is devTime, read with devTimeFormat (a Java date pattern)
// when given, else as epoch milliseconds or "MMM dd yyyy HH:mm:ss"; else
// the syslog header's time.
package leef
