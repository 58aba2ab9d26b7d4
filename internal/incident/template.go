package incident

import (
	"errors"
	"fmt"
	"strings"
)

// Template is a kind of case and the tasks its response takes: a case
// opened with it starts with them (cases.templates in the configuration;
// DefaultTemplates otherwise).
type Template struct {
	Name  string   `yaml:"name" json:"name"`
	Tasks []string `yaml:"tasks" json:"tasks"`
}

// maxTemplateTasks bounds a template's tasks.
const maxTemplateTasks = 50

// DefaultTemplates are this team's response checklists for the incidents
// a council's SOC meets most.
func DefaultTemplates() []Template {
	return []Template{
		{Name: "Phishing", Tasks: []string{
			"Find every recipient of the message in the mail gateway's logs and remove it from their mailboxes",
			"Block the sender, its domain, and the message's links and attachment hashes at the mail gateway and web proxy",
			"Find who opened the attachment or followed a link",
			"Reset the password of anyone who entered it, and end their sessions",
			"Review those users' sign-ins and mailbox rules since the message arrived",
			"Share the observables with the other members (resolve the alerts as true positives)",
			"Tell the member's staff what to look out for",
		}},
		{Name: "Ransomware", Tasks: []string{
			"Isolate the affected hosts from the network, keeping them powered on",
			"Find how the intruder got in and which accounts it used",
			"Disable or reset the accounts it used, administrators first",
			"Check the backups are intact and out of the intruder's reach",
			"Hunt for its tools and persistence on every other host",
			"Preserve evidence: memory, disk images and logs of the affected hosts",
			"Report to the NCSC, and to the ICO within 72 hours if personal data is affected",
			"Restore from known-good backups and watch for the intruder's return",
		}},
		{Name: "Account compromise", Tasks: []string{
			"Reset the account's password and end its sessions and tokens",
			"Remove any MFA method the user did not add",
			"Review its sign-ins: where from, and to which applications",
			"Review the mailbox rules, forwarding and delegated access it set up",
			"Find what it read or changed while compromised",
			"Find how its credentials were obtained (phishing, reuse, spraying)",
		}},
		{Name: "Malware on a host", Tasks: []string{
			"Isolate the host",
			"Keep the sample and its hashes, and look them up in threat intelligence",
			"Find how it arrived, and hunt for its hashes and command lines on other hosts",
			"Rebuild the host from a known-good image, or remove the malware",
			"Reset the credentials used on the host since it was infected",
		}},
	}
}

// checkTemplates reports the first bad template: a name empty or used
// twice (whatever its case), no tasks or too many, a task empty or too
// long.
func checkTemplates(ts []Template) error {
	seen := map[string]bool{}
	for i, t := range ts {
		name := strings.TrimSpace(t.Name)
		switch {
		case name == "":
			return fmt.Errorf("templates[%d]: a name is required", i)
		case len(name) > maxName:
			return fmt.Errorf("templates[%d]: %q: name longer than %d bytes", i, name, maxName)
		case seen[strings.ToLower(name)]:
			return fmt.Errorf("templates[%d]: %q: the name is used twice", i, name)
		case len(t.Tasks) == 0 || len(t.Tasks) > maxTemplateTasks:
			return fmt.Errorf("templates[%d]: %q: want 1 to %d tasks", i, name, maxTemplateTasks)
		}
		seen[strings.ToLower(name)] = true
		for j, task := range t.Tasks {
			if strings.TrimSpace(task) == "" || len(task) > maxTitle {
				return fmt.Errorf("templates[%d]: %q: task %d: want 1 to %d bytes", i, name, j+1, maxTitle)
			}
		}
	}
	return nil
}

// errNoTemplate is a Draft's template the configuration lacks.
var errNoTemplate = errors.New("no such case template")

// template returns the template named name (any case).
func (s *Service) template(name string) (Template, error) {
	for _, t := range s.cfg.Templates {
		if strings.EqualFold(strings.TrimSpace(t.Name), strings.TrimSpace(name)) {
			return t, nil
		}
	}
	return Template{}, fmt.Errorf("%w: %w %q", ErrInvalid, errNoTemplate, name)
}

// Templates returns the case templates, in the configuration's order.
func (s *Service) Templates() []Template { return s.cfg.Templates }
