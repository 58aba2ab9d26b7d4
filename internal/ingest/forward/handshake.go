package forward

import (
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// The Forward protocol handshake (spec v1, "Handshake Messages"), server
// side, with a shared key and no user authentication:
//
//	server → ["HELO", {"nonce": bin, "auth": "", "keepalive": true}]
//	client → ["PING", client_hostname, shared_key_salt,
//	          sha512_hex(shared_key_salt + client_hostname + nonce + shared_key),
//	          username, password_digest]
//	server → ["PONG", true, "", server_hostname,
//	          sha512_hex(shared_key_salt + server_hostname + nonce + shared_key)]
//
// or ["PONG", false, reason, server_hostname, ""] and the connection ends.

// errHandshake is a PING that fails the shared-key check.
var errHandshake = errors.New("shared key mismatch")

// handshake runs the HELO/PING/PONG exchange on st with l's shared key.
func (r *Receiver) handshake(l *socket, st *stream) error {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce) // never fails (crypto/rand)
	helo := []byte{0x92}
	helo = appendStr(helo, []byte("HELO"))
	helo = append(helo, 0x83)
	helo = appendStr(helo, []byte("nonce"))
	helo = append(helo, 0xc4, byte(len(nonce)))
	helo = append(helo, nonce...)
	helo = appendStr(helo, []byte("auth"))
	helo = append(helo, 0xc4, 0) // no user authentication: empty salt
	helo = appendStr(helo, []byte("keepalive"))
	helo = append(helo, 0xc3)
	deadline := time.Now().Add(handshakeTimeout)
	if err := st.c.SetWriteDeadline(deadline); err != nil {
		return err
	}
	if _, err := st.c.Write(helo); err != nil {
		return fmt.Errorf("HELO: %w", err)
	}
	st.sc.max = maxHandshakeBytes
	st.sc.reset()
	var ping []byte
	for ping == nil {
		var err error
		if ping, err = st.message(); err != nil {
			return fmt.Errorf("PING: %w", err)
		}
		if ping != nil {
			break
		}
		if err := st.fill(deadline); err != nil {
			return fmt.Errorf("PING: %w", err)
		}
	}
	host, salt, digest, err := parsePing(ping)
	if err != nil {
		return err
	}
	self := l.Spec.hostname()
	reason := ""
	switch {
	case host == self:
		reason = "same hostname between input and output: invalid configuration"
	case subtle.ConstantTimeCompare([]byte(digest), []byte(sharedKeyDigest(salt, host, nonce, l.Spec.SharedKey))) != 1:
		reason = errHandshake.Error()
	}
	pong := []byte{0x95}
	pong = appendStr(pong, []byte("PONG"))
	if reason != "" {
		pong = append(pong, 0xc2)
		pong = appendStr(pong, []byte(reason))
		pong = appendStr(pong, []byte(self))
		pong = appendStr(pong, nil)
	} else {
		pong = append(pong, 0xc3)
		pong = appendStr(pong, nil)
		pong = appendStr(pong, []byte(self))
		pong = appendStr(pong, []byte(sharedKeyDigest(salt, self, nonce, l.Spec.SharedKey)))
	}
	if err := st.c.SetWriteDeadline(time.Now().Add(handshakeTimeout)); err != nil {
		return err
	}
	if _, err := st.c.Write(pong); err != nil {
		return fmt.Errorf("PONG: %w", err)
	}
	if reason != "" {
		return fmt.Errorf("client %q: %s", host, reason)
	}
	return st.c.SetWriteDeadline(time.Time{})
}

// sharedKeyDigest is sha512_hex(salt + hostname + nonce + key).
func sharedKeyDigest(salt []byte, hostname string, nonce []byte, key string) string {
	h := sha512.New()
	h.Write(salt)
	h.Write([]byte(hostname))
	h.Write(nonce)
	h.Write([]byte(key))
	return hex.EncodeToString(h.Sum(nil))
}

// parsePing reads ["PING", hostname, salt, digest, username, password].
func parsePing(msg []byte) (host string, salt []byte, digest string, err error) {
	r := reader{b: msg}
	v, err := r.next()
	if err != nil {
		return "", nil, "", fmt.Errorf("PING: %w", err)
	}
	if v.kind != kArray || v.n != 6 {
		return "", nil, "", errors.New("PING expected: the listener requires the handshake (shared_key)")
	}
	var items [6][]byte
	for i := range items {
		x, err := r.next()
		if err != nil {
			return "", nil, "", fmt.Errorf("PING: %w", err)
		}
		if x.kind != kStr && x.kind != kBin {
			return "", nil, "", fmt.Errorf("PING item %d is a %s, not a string", i, x.kind)
		}
		items[i] = x.s
	}
	if string(items[0]) != "PING" {
		return "", nil, "", errors.New("PING expected: the listener requires the handshake (shared_key)")
	}
	return string(items[1]), items[2], string(items[3]), nil
}
