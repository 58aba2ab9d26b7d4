// Package sophos parses the firewall logs of Sophos XG and Sophos Firewall
// (SFOS): key=value pairs, values optionally in double quotes,
//
//	device="SFW" date=2019-10-09 time=17:19:06 timezone="+08" device_name="XG210" device_id=C01001K234 log_id=010101600001 log_type="Firewall" log_component="Firewall Rule" log_subtype="Allowed" status="Allow" ... src_ip=10.0.0.5 dst_ip=198.51.100.7 protocol="TCP" src_port=52667 dst_port=443 ...
//
// and the SFOS 19+ form with timestamp="2023-06-28T14:03:43+0530" and
// device_serial_id. Type "sophos-xg" reads a record bare or behind a
// syslog header; pairs are read with the kv package's scanner (runs of
// spaces, quoted values with spaces and '=' inside, a value whose closing
// quote is missing taken to the end).
//
// Fields: every pair under sophos.xg.<key> (values without their quotes;
// "", "-" and "N/A" dropped, as Elastic does), and the Elastic Common
// Schema fields Elastic's sophos integration (xg data stream) derives:
// @timestamp from date/time in the record's time zone, event.code (log_id),
// event.severity and log.level (its 7th digit), sophos.xg.message_id,
// event.kind/category/type/action/outcome by log type, source and
// destination ip, port, NAT, MAC, bytes and packets, user, rule,
// network.*, observer.* (vendor Sophos, product XG, serial number, device
// name, interfaces and zones), url.*, related.*.
package sophos
