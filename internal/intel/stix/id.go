package stix

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
)

// namespace is the UUIDv5 namespace of the identifiers Tarian derives
// (5f1b7e0c-6a8f-5b41-9c1e-3d2a7b9e4f60, fixed forever: changing it would
// turn every re-import into a duplicate).
var namespace = [16]byte{0x5f, 0x1b, 0x7e, 0x0c, 0x6a, 0x8f, 0x5b, 0x41, 0x9c, 0x1e, 0x3d, 0x2a, 0x7b, 0x9e, 0x4f, 0x60}

// DeterministicID returns the STIX identifier "<typ>--<uuid>" whose UUID is
// a version 5 UUID of name in Tarian's namespace: the same name always
// gives the same id, so importing a feed again updates its indicators
// instead of duplicating them.
func DeterministicID(typ, name string) string {
	return typ + "--" + uuid5(namespace, name)
}

// uuid5 is RFC 9562's name-based UUID with SHA-1.
func uuid5(ns [16]byte, name string) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// ValidID reports whether id is a STIX identifier: a type name, "--" and
// a UUID of version 1 to 5 with the RFC 4122 variant, as the 2.1 schema's
// identifier.json demands.
func ValidID(id string) bool {
	typ, u, ok := strings.Cut(id, "--")
	return ok && validType(typ) && validUUID(u)
}

// IDType is the type part of a STIX identifier ("indicator" of
// "indicator--…").
func IDType(id string) string {
	t, _, _ := strings.Cut(id, "--")
	return t
}

func validUUID(u string) bool {
	if len(u) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := u[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
			continue
		}
		if !isHex(c) {
			return false
		}
	}
	if v := u[14]; v < '1' || v > '5' {
		return false
	}
	switch u[19] {
	case '8', '9', 'a', 'b', 'A', 'B':
		return true
	}
	return false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// validType checks a STIX type name: lower-case ASCII letters, digits and
// hyphens, starting with a letter, 3 to 250 characters (core.json).
func validType(t string) bool {
	if len(t) < 3 || len(t) > 250 || t[0] < 'a' || t[0] > 'z' {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
		if c == '-' && i > 0 && t[i-1] == '-' {
			return false
		}
	}
	return true
}
