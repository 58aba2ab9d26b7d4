// Package poll fetches the logs no shipper can push: Microsoft Entra ID
// sign-ins and directory audits (Microsoft Graph) and the Microsoft 365
// unified audit log (Office 365 Management Activity API), per tenant, with
// the member's own app registration.
//
// Each tenant's cloud source holds a directory (Entra) tenant ID, a client ID
// and a client secret; the secret is sealed with AES-256-GCM (Box) before it
// reaches the state store and is never logged or returned. Each record
// becomes one event.Raw written to the ingest Sink with Source
// "poller/entra-signin", "poller/entra-audit" or "poller/m365-audit" and
// the record's JSON bytes unchanged.
//
// Progress is a checkpoint per (tenant, source, stream), saved after the
// records it covers are written, so a restart resumes with no gap and no
// duplicate:
//
//   - Graph streams read in ascending time order with
//     "$filter=<time> ge <checkpoint>"; the checkpoint is the newest
//     timestamp written and the ids written at exactly that timestamp, which
//     are skipped when the boundary is read again.
//   - Management API streams read availability windows of at most 24 hours;
//     the checkpoint is the window's start and the content blobs already
//     written in it.
//
// HTTP 429 and 503 are retried after Retry-After; other transient failures
// back off exponentially up to a bound. Health (last success, last error,
// records polled) is kept per stream for the API, in the state store next
// to the stream's checkpoint, so it survives a restart.
package poll
