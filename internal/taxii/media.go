package taxii

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// The media types of TAXII 2.1 and of the STIX objects it carries.
const (
	MediaType     = "application/taxii+json;version=2.1"
	STIXMediaType = "application/stix+json;version=2.1"
)

// mediaOK reports whether one media range names TAXII 2.1: the TAXII type
// with version 2.1 or no version (the latest); wildcards when any is true.
func mediaOK(v string, wildcards bool) bool {
	mt, params, err := mime.ParseMediaType(strings.TrimSpace(v))
	if err != nil {
		return false
	}
	switch mt {
	case "application/taxii+json":
		ver, ok := params["version"]
		return !ok || ver == "2.1"
	case "*/*", "application/*":
		return wildcards
	}
	return false
}

// acceptable reports whether the request's Accept header admits TAXII 2.1
// (no header admits anything).
func acceptable(r *http.Request) bool {
	vs := r.Header.Values("Accept")
	if len(vs) == 0 {
		return true
	}
	for _, v := range vs {
		for part := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			if mediaOK(part, true) && !zeroQ(part) {
				return true
			}
		}
	}
	return false
}

// zeroQ reports a media range refused with q=0.
func zeroQ(part string) bool {
	_, params, err := mime.ParseMediaType(strings.TrimSpace(part))
	if err != nil {
		return false
	}
	q, ok := params["q"]
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(q, 64)
	return err == nil && f == 0
}

// ErrorBody is TAXII 2.1's error message.
type ErrorBody struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	ErrorID     string `json:"error_id,omitempty"`
	ErrorCode   string `json:"error_code,omitempty"`
	HTTPStatus  string `json:"http_status,omitempty"`
	// ExternalDetails is a URL with more about the error.
	ExternalDetails string            `json:"external_details,omitempty"`
	Details         map[string]string `json:"details,omitempty"`
}

// WriteError answers with TAXII's error message, in TAXII's media type.
// code is a stable short code (error_code), as the rest of the API has.
func WriteError(w http.ResponseWriter, status int, code, description string) {
	if status == http.StatusUnauthorized {
		w.Header().Add("WWW-Authenticate", `Basic realm="tarian"`)
		w.Header().Add("WWW-Authenticate", `Bearer realm="tarian"`)
	}
	writeJSON(w, status, ErrorBody{Title: http.StatusText(status), Description: description, ErrorCode: code, HTTPStatus: strconv.Itoa(status)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", MediaType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
