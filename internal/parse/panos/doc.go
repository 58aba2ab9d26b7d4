// Package panos parses Palo Alto Networks PAN-OS logs in their syslog CSV
// form, the default "BSD" / IETF syslog output of a firewall or Panorama:
//
//	<14>Nov 30 16:09:08 PA-220 1,2018/11/30 16:09:07,012801096514,TRAFFIC,end,2049,2018/11/30 16:09:07,192.168.15.207,184.51.253.152,...
//
// Type "panos" reads the record bare or behind a syslog header. The first
// columns are common to every log type (FUTURE_USE, receive time, serial
// number, type, subtype, config version, generated time); the others
// depend on the type and follow the PAN-OS 10.x/11.x field tables for
// TRAFFIC, THREAT, SYSTEM, CONFIG, GLOBALPROTECT, USERID, AUTH
// (AUTHENTICATION), HIP-MATCH (HIPMATCH) and DECRYPTION. Columns are
// split in one pass: a column in double quotes may hold commas and
// doubled quotes, a brace list ("{a,b}") may hold commas. Records may be
// cut short: whatever columns are present are read.
//
// Fields: every column under panw.panos.* as Elastic's panw integration
// names them (the native layer), and the Elastic Common Schema fields that
// integration derives — @timestamp from the generated time, event.created,
// event.kind/category/type/action/outcome, source/destination ip, port,
// NAT, bytes and packets, network.*, observer.* (vendor Palo Alto
// Networks, product PAN-OS, serial number, host name, zones and
// interfaces), rule.*, user and host fields, url.*, file.*, tls.*,
// labels.* from the flags bit field, related.*.
package panos
