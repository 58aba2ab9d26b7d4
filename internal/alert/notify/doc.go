// Package notify tells people about alerts: per-tenant channels (signed
// webhooks, email over SMTP, Microsoft Teams and Slack incoming webhooks),
// each with a route that picks the alert changes it wants, delivered in the
// background with retries and a dead letter after the last try.
//
// # Routing
//
// A channel belongs to one tenant, or to the provider (tenant "*"), whose
// channels see every tenant's alerts. Its Route matches an alert change
// when all of these hold:
//
//   - the change is one of Route.Changes (default: created only);
//     "updated" (more events joined the alert) notifies at most once per
//     alert and channel per Route.UpdateInterval (default 1h), counting
//     the creation's notification;
//   - the alert's level is at least Route.MinSeverity (default: any);
//   - the alert has one of Route.Tags (default: any tags; case-insensitive,
//     a trailing "*" matches a prefix, e.g. "attack.t1059*");
//   - the change happens inside one of Route.Hours (default: always).
//     A window is "DAYS HH:MM-HH:MM ZONE", e.g. "mon-fri 18:00-08:00
//     Europe/London" or "sat,sun 00:00-24:00 Europe/London"; a window that
//     ends before it starts runs past midnight and belongs to the day it
//     starts (Friday 18:00 to Saturday 08:00 for "fri").
//
// Deduplication comes from the alert model: the pipeline reports one
// "created" change per alert, however many events join it later.
//
// # Delivery
//
// Notify is called from the alert pipeline and never blocks: it routes the
// changes against an in-memory copy of the channels and puts each match on
// a bounded queue. When the queue is full the notification is counted
// (tarian_notify_queue_overflow_total) and logged, not silently lost. Run's
// workers send; a failed try is retried after an exponential backoff
// (Config.Backoff doubled per try, capped at Config.MaxBackoff, with
// jitter, and at least a Retry-After) up to Config.Attempts tries; then,
// or at once for a permanent refusal (an HTTP 4xx other than 408 and 429,
// an SMTP 5xx, a server without STARTTLS when it is required), the
// notification becomes a dead letter in the state store: tenant, channel,
// the exact payload, the last error, the tries and the time. Notifications
// still queued when Run stops are dead-lettered too.
//
// Tenant channels may not reach loopback, private, link-local or other
// non-public addresses (checked on every connection, after DNS), unless
// Config.AllowPrivateNetworks; the provider's own channels may.
//
// # Webhook signatures
//
// A webhook POSTs the JSON payload with these headers:
//
//	X-Tarian-Event:     alert.created (alert.<change>; "test" for a test)
//	X-Tarian-Delivery:  an ID that stays the same across retries
//	X-Tarian-Timestamp: the Unix time of this try, in seconds
//	X-Tarian-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">
//
// keyed with the channel's secret. A receiver recomputes the HMAC over the
// timestamp header, a dot and the raw body, compares it in constant time,
// and refuses a timestamp more than a few minutes from its clock, so a
// captured request cannot be replayed later; Verify does all of this.
//
// # Secrets
//
// A channel's secrets (a webhook's URL and signing secret, the Teams or
// Slack URL, which embed a token, and the SMTP password) are sealed with
// poll.Box, bound to the channel's tenant, before they reach the store.
// They are opened only to send, and never returned, logged or put in an
// error: errors name a channel's redacted Target.
package notify
