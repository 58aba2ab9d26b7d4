package stixpattern

import "golang.org/x/text/unicode/norm"

// nfc normalizes s to Unicode Normalization Form C, as the specification
// asks for LIKE and MATCHES.
func nfc(s string) string { return norm.NFC.String(s) }
