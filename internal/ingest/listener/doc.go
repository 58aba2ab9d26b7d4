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
// A Group runs one receiver's listeners: it binds them, authenticates each
// connection, checks that its tenant exists (a tenant named in the
// configuration but not created yet refuses its senders, logged once a
// minute, until it is created; nothing else stops), and changes its
// listeners while it runs (Reload) without touching the connections of
// the listeners that stay.
//
// An address with an empty host binds on 127.0.0.1, never on every
// interface.
package listener
