package web_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tarian-soc/tarian/internal/taxii"
	"github.com/tarian-soc/tarian/internal/web"
)

// taxiiFixture adds a new STIX indicator to member ten's TAXII collection
// as token, and returns its id and the status resource's. (The TAXII
// server's own tests are in internal/taxii.)
func taxiiFixture(t *testing.T, base, token, ten string) (objectID, statusID string) {
	t.Helper()
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6], u[8] = u[6]&0x0f|0x40, u[8]&0x3f|0x80
	objectID = fmt.Sprintf("indicator--%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
	body, _ := json.Marshal(map[string]any{"objects": []map[string]any{{
		"type": "indicator", "spec_version": "2.1", "id": objectID, "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
		"name": "route matrix", "pattern": "[domain-name:value = 'matrix.example']", "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z",
	}}})
	req, err := http.NewRequest("POST", base+"/taxii2/tarian/collections/"+ten+"/objects/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", taxii.MediaType)
	req.Header.Set("Content-Type", taxii.MediaType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		t.Fatalf("TAXII is not mounted (the server must set web.Deps.TAXII): %s", b)
	}
	var st taxii.Status
	if err := json.Unmarshal(b, &st); err != nil || resp.StatusCode != http.StatusAccepted || st.SuccessCount != 1 {
		t.Fatalf("add TAXII fixture to %s: %d %s", ten, resp.StatusCode, b)
	}
	return objectID, st.ID
}

// TestTAXIIUnmounted: without a TAXII server every TAXII path is not
// found, in TAXII's error message.
func TestTAXIIUnmounted(t *testing.T) {
	api := web.New(web.DefaultConfig(), web.Deps{Log: slog.New(slog.DiscardHandler)})
	for _, path := range []string{"/taxii2/", "/taxii2/tarian/collections/", "/taxii2/x/y/"} {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		var e taxii.ErrorBody
		if rec.Code != 404 || rec.Header().Get("Content-Type") != taxii.MediaType || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.HTTPStatus != "404" {
			t.Errorf("GET %s: %d %s %s", path, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
	}
}
