package mail

import (
	"bytes"
	"strings"

	"github.com/tarian-soc/tarian/internal/event"
)

// SniffMailScanner reports whether payload looks like a MailScanner log
// line (its tag is MailScanner). It does not allocate.
func SniffMailScanner(payload []byte) bool {
	return bytes.Contains(payload, []byte(" MailScanner[")) || bytes.Contains(payload, []byte(" MailScanner:"))
}

// MailScannerParser parses MailScanner's syslog lines: spam and virus
// verdicts per message, and its batch and update notices. The zero value
// is ready; it is not safe for concurrent use.
type MailScannerParser struct {
	o out
}

// Parse reads one MailScanner line, or the message of one whose syslog
// header the envelope read, and appends its mailscanner.* and ECS fields.
func (p *MailScannerParser) Parse(payload []byte, dst *event.Event) error {
	s := strings.TrimRight(string(payload), "\r\n")
	if strings.TrimSpace(s) == "" {
		return ErrEmpty
	}
	l := splitSyslog(s, dst, false)
	if !l.hasHdr && l.app == "" && l.host == "" && !strings.HasPrefix(s, "Message ") {
		return ErrNotMailScanner
	}
	o := &p.o
	o.reset(dst)
	o.module, o.dataset = "mailscanner", "mailscanner.log"
	o.mailscanner(strings.TrimSpace(l.msg))
	o.header(&l)
	o.add(event.FieldMessage, l.msg)
	o.finish()
	return nil
}

// mailscanner reads a MailScanner message.
func (o *out) mailscanner(m string) {
	o.set(catEmail, typeInfo)
	switch {
	case strings.HasPrefix(m, "Message ") && strings.Contains(m, " from "):
		// "Message QID from IP (sender) to domain is spam, SpamAssassin (score=12.3, required 5, ...)"
		rest := m[len("Message "):]
		qid, rest := cutWord(rest)
		o.add("mailscanner.message_id", qid)
		_, rest, _ = strings.Cut(rest, "from ")
		ip, rest := cutWord(rest)
		o.endpoint(&sourceNames, ip, "")
		if strings.HasPrefix(rest, "(") {
			if end := strings.IndexByte(rest, ')'); end > 0 {
				if from := rest[1:end]; from != "" {
					o.add("email.from.address", from)
					o.relUser(from)
				}
				rest = strings.TrimLeft(rest[end+1:], " ")
			}
		}
		if strings.HasPrefix(rest, "to ") {
			var to string
			to, rest = cutWord(rest[len("to "):])
			o.add("mailscanner.to_domain", strings.TrimSuffix(to, ","))
		}
		verdict := strings.TrimSpace(strings.TrimPrefix(rest, "is "))
		switch {
		case strings.HasPrefix(verdict, "not spam"):
			o.action = "not-spam"
		case strings.HasPrefix(verdict, "spam"):
			o.action = "spam"
		case strings.HasPrefix(verdict, "too big"):
			o.action = "too-big"
		}
		if o.action != "" {
			o.add("mailscanner.verdict", o.action)
		}
		if i := strings.Index(rest, "score="); i >= 0 {
			score, _, _ := strings.Cut(rest[i+len("score="):], ",")
			o.add("mailscanner.score", strings.TrimSuffix(score, ")"))
		}
	case strings.HasPrefix(m, "Infected message ") && strings.Contains(m, " came from "):
		qid, _ := cutWord(m[len("Infected message "):])
		o.add("mailscanner.message_id", qid)
		ip, _ := cutWord(m[strings.Index(m, " came from ")+len(" came from "):])
		o.endpoint(&sourceNames, ip, "")
		o.set(catEmailMalware, typeInfo)
		o.action = "virus"
	case strings.HasPrefix(m, ">>> Virus ") || strings.Contains(m, "Virus Scanning: Found"):
		if a, b := strings.IndexByte(m, '\''), strings.LastIndexByte(m, '\''); a >= 0 && b > a {
			o.add("mailscanner.virus", m[a+1:b])
		}
		o.set(catEmailMalware, typeInfo)
		o.action = "virus"
	case strings.HasPrefix(m, "Requeue: "):
		o.action = "requeue"
	case strings.HasPrefix(m, "Spam Checks: Found "):
		o.action = "spam-checks"
	case strings.HasPrefix(m, "Delivered ") || strings.HasPrefix(m, "Uninfected: Delivered "):
		o.action = "delivered"
	}
}
