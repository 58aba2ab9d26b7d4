package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Webhook headers.
const (
	HeaderEvent     = "X-Tarian-Event"
	HeaderDelivery  = "X-Tarian-Delivery"
	HeaderTimestamp = "X-Tarian-Timestamp"
	HeaderSignature = "X-Tarian-Signature"
)

// Sign returns the X-Tarian-Signature of body sent at Unix time ts:
// "sha256=" and the hex HMAC-SHA256, keyed with secret, of the timestamp
// in decimal, a dot, and the body.
func Sign(secret []byte, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// ErrSignature is a webhook request whose signature does not verify.
var ErrSignature = errors.New("webhook signature does not verify")

// Verify checks a webhook request as a receiver should: the signature
// header against the timestamp header and the raw body, in constant time,
// and the timestamp within tolerance of now (a replay is refused).
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad %s %q", ErrSignature, HeaderTimestamp, timestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp %s is %s from now", ErrSignature, timestamp, d.Round(time.Second))
	}
	if !strings.HasPrefix(signature, "sha256=") || !hmac.Equal([]byte(signature), []byte(Sign(secret, ts, body))) {
		return ErrSignature
	}
	return nil
}
