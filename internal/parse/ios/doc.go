// Package ios parses the syslog messages of Cisco IOS, IOS XE and NX-OS
// switches and routers (type "cisco-ios"):
//
//	<189>31: core-sw1: *Mar  1 00:02:37.315: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (192.0.2.10)
//	<190>1234: Dec  7 10:00:00.123 UTC: %SEC-6-IPACCESSLOGP: list 101 denied tcp 198.51.100.5(51234) -> 192.0.2.1(22), 1 packet
//
// Before the %FACILITY-SEVERITY-MNEMONIC tag a message may carry, each
// optional, a syslog header, a sequence number, the host name (logging
// origin-id) and the device's time stamp; the time stamp is the event's
// time unless its clock was never set ('*') or its zone cannot be named.
//
// Fields as Elastic's cisco_ios integration names them: cisco.ios.facility
// and sequence, event.code (the mnemonic), event.severity, log.level,
// cisco.ios.access_list with source/destination ip and port,
// network.transport and packets for access list matches; and for the
// messages a SOC reads: logins (SEC_LOGIN, SSH2_USERAUTH: user.name,
// source.ip, event.outcome), configuration changes (SYS CONFIG_I and
// CONFIG_P: user.name, source.ip) and the configuration commands the
// archive logger records (PARSER CFGLOG_LOGGEDCMD: cisco.ios.command). The
// message keeps the whole text, tag included, for keyword rules.
package ios
