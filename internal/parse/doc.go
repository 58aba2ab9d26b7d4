// Package parse is the parsing pipeline between the bus and the
// consumers (the indexer, the detector, `tarian parse`): it turns one raw
// record into events in three layers — event.original (the record as it
// came), the source's native fields, and Elastic Common Schema fields.
//
// A record goes through its receiver's envelope first (envelope: a syslog
// header, an HEC envelope, a JSON document), then through its source's
// format (internal/parse/*). Which format is configuration: a Source names
// a tenant, a receiver, optionally a host or app-name glob, and a type. A
// record no source claims, or one whose source says "auto", has its format
// detected by the formats' sniffers; the type it was parsed as is kept on
// the event (tarian.source.type, with tarian.source.detected when guessed).
// A record its declared format rejects is an error, which the caller
// dead-letters with the reason; a detected format that does not hold falls
// back to the envelope's event, so detection never loses a record.
package parse
