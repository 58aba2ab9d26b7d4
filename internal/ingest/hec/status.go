package hec

import (
	"net/http"
	"strconv"
)

// status is one of HEC's documented replies: its code, text and HTTP
// status. Clients match on the code.
type status struct {
	code int
	text string
	http int
}

// HEC's status codes (Splunk's "Troubleshoot HTTP Event Collector" table).
var (
	stSuccess       = status{0, "Success", http.StatusOK}
	stTokenRequired = status{2, "Token is required", http.StatusUnauthorized}
	stInvalidAuthz  = status{3, "Invalid authorization", http.StatusUnauthorized}
	stInvalidToken  = status{4, "Invalid token", http.StatusForbidden}
	stNoData        = status{5, "No data", http.StatusBadRequest}
	stInvalidFormat = status{6, "Invalid data format", http.StatusBadRequest}
	stInternal      = status{8, "Internal server error", http.StatusInternalServerError}
	stBusy          = status{9, "Server is busy", http.StatusServiceUnavailable}
	stNoChannel     = status{10, "Data channel is missing", http.StatusBadRequest}
	stBadChannel    = status{11, "Invalid data channel", http.StatusBadRequest}
	stEventRequired = status{12, "Event field is required", http.StatusBadRequest}
	stEventBlank    = status{13, "Event field cannot be blank", http.StatusBadRequest}
	stBadFields     = status{15, "Error in handling indexed fields", http.StatusBadRequest}
	stHealthy       = status{17, "HEC is healthy", http.StatusOK}
	// Not HEC codes: Splunk answers these with the HTTP status as the code.
	stNotFound    = status{404, "The requested URL was not found on this server.", http.StatusNotFound}
	stNotAllowed  = status{405, "Method Not Allowed", http.StatusMethodNotAllowed}
	stTooLarge    = status{413, "Content too large", http.StatusRequestEntityTooLarge}
	stBadEncoding = status{415, "Unsupported Content-Encoding", http.StatusUnsupportedMediaType}
)

// reply writes st as HEC's JSON body, with the number of the invalid event
// (0-based) when n >= 0, and an ackId when ack >= 0.
func reply(w http.ResponseWriter, st status, n int, ack int64) {
	b := make([]byte, 0, 96)
	b = append(b, `{"text":`...)
	b = strconv.AppendQuote(b, st.text) // the texts are plain ASCII: valid JSON
	b = append(b, `,"code":`...)
	b = strconv.AppendInt(b, int64(st.code), 10)
	if n >= 0 {
		b = append(b, `,"invalid-event-number":`...)
		b = strconv.AppendInt(b, int64(n), 10)
	}
	if ack >= 0 {
		b = append(b, `,"ackId":`...)
		b = strconv.AppendInt(b, ack, 10)
	}
	b = append(b, '}', '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("X-Content-Type-Options", "nosniff")
	if st.http == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
		h.Set("Retry-After", "1")
	}
	if st.http == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Splunk realm="tarian"`)
	}
	w.WriteHeader(st.http)
	_, _ = w.Write(b)
}
