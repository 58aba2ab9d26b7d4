// Package opencanary reads the events of the OpenCanary honeypot (its JSON
// file or syslog handler's records) into events: who touched the canary
// (source.*), which of its services (destination.*), what they tried
// (event.action from the log type, user.name, the rest of logdata), and
// the canary (observer.*). See README.md.
package opencanary
