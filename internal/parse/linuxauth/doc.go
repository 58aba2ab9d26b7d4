// Package linuxauth parses the logs of Linux hosts as syslog carries them:
// the authentication log (auth.log, secure) and, as plain syslog events,
// every other program's lines.
//
// Two types are served. TypeAuth ("linux-auth") reads the messages of sshd,
// sudo, su, login, PAM modules (pam_unix and others, in the
// "pam_unix(sshd:auth): ..." and the old "su(pam_unix)[7]: ..." forms), the
// shadow utilities (useradd, usermod, groupadd, gpasswd, passwd, ...),
// systemd-logind and cron into the fields Elastic's system integration
// gives them (system.auth.ssh.*, system.auth.sudo.*, system.auth.useradd.*,
// user.*, source.*, group.*, event.category/type/action/outcome, related.*);
// a line it does not know keeps its header fields and is classified as a
// host event. TypeSyslog ("syslog") reads only the header of any line.
//
// A payload is either a whole line ("Feb  3 10:00:00 host sshd[1]: ...",
// with or without a PRI, in RFC 3164, RFC 3339, ISO 8601 or RFC 5424 form)
// or the message of a syslog record whose header the envelope already read;
// then the host, program and pid come from the envelope's log.syslog.*
// fields. The header is read by parse/syslogheader, as for the other
// parsers of syslog-borne formats.
//
// Messages are recognised by their program and a fixed set of prefixes and
// markers, in one pass over the message and without regular expressions.
package linuxauth
