// Package netlog parses three plain-text network logs that hosts, proxies
// and web servers write.
//
// Type "iptables": the kernel's netfilter packet log (iptables and
// nftables LOG/NFLOG targets, UFW, ulogd, OpenWrt, Ubiquiti EdgeOS):
//
//	Feb  4 23:33:37 fw kernel: [ 3529.289825] [UFW BLOCK] IN=eth0 OUT= MAC=00:11:...:08:00 SRC=198.51.100.7 DST=10.0.0.5 LEN=52 TOS=0x00 PREC=0x00 TTL=64 ID=0 DF PROTO=TCP SPT=41234 DPT=22 WINDOW=8192 RES=0x00 SYN URGP=0
//
// Fields as Elastic's iptables integration names them: iptables.* (input
// and output device, length, TOS, TTL, id, fragment flags, TCP
// sequence/window/flags, UDP length, ICMP type/code/id/seq, ether type),
// source/destination ip, port and MAC, network.transport, iana_number
// and type, observer.* (the host that logged, its interfaces), the log
// prefix and the verdict it names (event.action, event.type
// denied/allowed), Ubiquiti's [RULESET-NUMBER-ACTION] as rule and zones.
//
// Type "squid": Squid's access.log, in the native format
//
//	1140701044.525   1231 192.168.1.201 TCP_DENIED/407 1785 GET http://www.example.com/ alice NONE/- text/html
//
// and the "common" and "combined" logformats (Apache-style, with Squid's
// result and hierarchy codes appended). Fields: squid.* (result code,
// hierarchy code, peer), http.request.method, http.response.status_code,
// bytes and MIME type, url.* and the URL's parts, source.ip, user.name,
// destination (the peer or the CONNECT target), event.duration,
// @timestamp, observer.* (product Squid, type proxy).
//
// Type "web-access": web server access logs, Apache and nginx in the
// common, combined and vhost_combined layouts
//
//	203.0.113.9 - - [07/Dec/2026:10:00:02 +0000] "GET /wp-login.php HTTP/1.1" 404 153 "-" "Mozilla/5.0"
//
// and IIS W3C lines of the default fields (or of every field)
//
//	2026-12-07 10:00:02 192.0.2.5 GET /owa/auth/logon.aspx replaceCurrent=1 443 - 198.51.100.7 Mozilla/5.0+(Windows+NT+10.0) 200 0 0 15
//
// Fields as Elastic's Apache, nginx and IIS integrations name them:
// http.*, url.* (url.original the request target, path and query),
// source.*, user.name, user_agent.original, destination.* (the virtual
// host, the IIS server), event.duration, iis.access.*.
//
// All three read a line bare or behind a syslog header.
package netlog
