// Package cef parses ArcSight Common Event Format messages:
//
//	CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension
//
// The type name is "cef". A message may come bare, after a syslog header
// (anything before "CEF:" is a header), or as the "message" of a JSON
// record.
//
// Header fields: '|' and '\' are escaped with a backslash ("\|", "\\");
// other backslashes are kept. Extensions: key=value pairs separated by
// spaces, where a value runs until the next white space followed by a key
// and '=' — so values may hold spaces, unescaped '|' and even '=' — and
// trailing white space is dropped; "\=", "\\", "\n" and "\r" are escapes,
// other backslashes are kept. Keys are the dictionary's short or full
// names, or a device's own (letters, digits and '_', '.', ',', '[', ']').
//
// Fields follow Elastic's decode_cef processor and cef integration:
//
//   - native: cef.version, cef.device.{vendor,product,version,event_class_id},
//     cef.name, cef.severity, and cef.extensions.<full name> for every
//     extension (short names translated through the CEF dictionary: src →
//     sourceAddress, cs1 → deviceCustomString1, ...); typed values
//     normalized as decode_cef does (integers in decimal, times in RFC 3339
//     UTC, MAC addresses lowercase with colons). A custom field whose label
//     is given (cs1Label=Rule Name cs1=x) is also cef.labels.Rule_Name.
//   - ECS: observer.{vendor,product,version,hostname,ip}, event.{code,
//     severity,action,outcome,start,end,created,id,timezone}, message,
//     source.*/destination.* (ip, port, domain, mac, nat, user, process,
//     bytes, geo.location), network.{transport,application,direction},
//     url.original, file.*, http.request.*, user_agent.original, agent.*,
//     user.name (suser, else duser), related.{ip,user,hosts,hash}, and
//     event.kind/category/type inferred where decode_cef gives none.
//
// @timestamp is rt (deviceReceiptTime), else end, else the syslog
// header's time; a time without a zone is read in dtz (deviceTimeZone).
package cef
