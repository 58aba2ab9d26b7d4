// Package listener is the part the TCP-style receivers (syslog, Lumberjack,
// Forward) share: one listener's configuration (protocol, address, and the
// rule that gives its senders a tenant), its validation, and the
// authentication of each accepted connection.
//
// A sender's tenant comes from exactly one of: the listener's own tenant,
// an allow-list of source addresses and CIDRs (the most specific prefix
// wins), or, for TLS, the identity of its verified client certificate (a
// DNS SAN or the subject CN). A sender that maps to no tenant is refused
// with a *RefusedError the receiver counts and logs.
//
// An address with an empty host binds on 127.0.0.1, never on every
// interface.
package listener
