// Package mail parses the logs of mail servers and gateways into email.*,
// source.*, destination.* and the vendor's native fields, one parser per
// log-source type:
//
//   - TypePostfix ("postfix"): Postfix's syslog lines — smtpd and
//     postscreen connections and rejections (NOQUEUE reject: RCPT from
//     ...; from=<> to=<> proto= helo=<>), cleanup's message-id, qmgr's
//     from=/size=/nrcpt=, the delivery agents' to=/relay=/delay=/dsn=/status=,
//     pickup, bounce, SASL failures — into postfix.* and ECS.
//   - TypeFortiMail ("fortimail"): FortiMail key=value logs (space- or
//     comma-separated), mapped as Elastic's fortinet_fortimail integration
//     does (fortinet_fortimail.log.*, observer.*, email.*).
//   - TypeMailScanner ("mailscanner"): MailScanner's spam and virus verdicts.
//   - TypeExchange ("exchange"): Exchange Server CSV logs — message tracking,
//     the HTTP proxy logs and the ECP server log — mapped as Elastic's
//     microsoft_exchange_server integration names them (microsoft.exchange.*).
//
// Syslog-borne formats accept a whole line (any header parse/syslogheader
// reads) or the message of a record whose header the envelope already read
// (host and program then come from log.syslog.*).
package mail
