// Package auditd parses Linux audit records as auditd writes them
// (/var/log/audit/audit.log), as audisp's syslog plugin forwards them (a
// syslog header in front), and as the kernel prints them ("audit: type=1400
// audit(...): ..."):
//
//	node=web1 type=SYSCALL msg=audit(1605000000.123:456): arch=c000003e syscall=59 success=yes ... comm="id" exe="/usr/bin/id" key="exec"
//	type=EXECVE msg=audit(1605000000.123:456): argc=2 a0="id" a1=2D61
//	type=USER_CMD msg=audit(1605000000.200:457): pid=7 uid=0 auid=1000 ses=3 msg='cwd="/" cmd=6C73202D6C terminal=pts/0 res=success'
//
// Each line is one event. Its pairs become auditd.log.* as Elastic's
// auditd integration names them, with the ECS renames of that pipeline
// (uid → user.id, auid → user.audit.id, comm → process.name, exe →
// process.executable, pid, ppid, exit, cwd, terminal, acct → user.name,
// addr/src → source.*, res → event.outcome, arch → host.architecture) and
// its classification of record types and system calls (event.action,
// category, type, and the subject copies for user and credential records).
// Hex-encoded values are decoded; EXECVE arguments (long ones in chunks)
// become process.args and process.command_line, PROCTITLE becomes
// process.command_line. A line holding several records of one event (as
// some forwarders join them) is read as one event: the first record's type
// leads, CWD, PATH and PROCTITLE add the working directory, file.path and
// command line.
//
// Pairs are read in one pass by a scanner that knows auditd's quoting
// ("double", 'nested msg', bare, hex) and the ENRICHED format's 0x1d
// separator.
package auditd
