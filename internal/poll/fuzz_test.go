package poll

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzDecoders feeds arbitrary bytes to what reads the APIs' answers: a
// record's id and time, an error body, a Retry-After value. None may panic.
func FuzzDecoders(f *testing.F) {
	f.Add([]byte(`{"id":"a","createdDateTime":"2026-03-10T12:00:00Z"}`), "7")
	f.Add([]byte(`{"error":{"code":"AF20024","message":"already enabled"}}`), "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add([]byte(`{"error":"invalid_client"}`), "-1")
	f.Add([]byte(`[1,2`), "")
	f.Fuzz(func(t *testing.T, body []byte, ra string) {
		recordKey(body, "id", "createdDateTime")
		req := httptest.NewRequest(http.MethodGet, "http://x/y?z=1", nil)
		apiError(req, &http.Response{StatusCode: 400}, body)
		if d, ok := retryAfter(ra, time.Unix(0, 0)); ok && d < 0 {
			t.Errorf("negative wait %v for %q", d, ra)
		}
	})
}
