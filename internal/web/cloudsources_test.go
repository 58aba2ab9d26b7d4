package web_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestCloudSourcesTenantScopedAndSecretWriteOnly(t *testing.T) {
	w := newWorld(t)
	const secret = "Zq8~cloud.Secret-Never_Returned"
	body := []byte(fmt.Sprintf(`{"name":"contoso","directory_tenant":"11111111-2222-3333-4444-555555555555","client_id":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","client_secret":%q,"streams":["entra-signin"]}`, secret))
	var bodies []string
	do := func(method, path, token string, b []byte) (int, []byte) {
		status, out := w.s.Do(t, method, path, token, b)
		bodies = append(bodies, string(out))
		return status, out
	}

	status, out := do("POST", "/api/v1/cloud-sources", w.tokens["a/tenant-admin"], body)
	if status != 201 {
		t.Fatalf("tenant-admin add: %d %s", status, out)
	}
	var created struct {
		ID     int64  `json:"id"`
		Tenant string `json:"tenant"`
	}
	if err := json.Unmarshal(out, &created); err != nil || created.ID == 0 || created.Tenant != "tenant-a" {
		t.Fatalf("created %s (%v)", out, err)
	}

	refused := []struct {
		name, method, path, token string
		status                    int
	}{
		{"other tenant's admin names tenant a", "GET", "/api/v1/cloud-sources?tenant=tenant-a", w.tokens["b/tenant-admin"], 403},
		{"other tenant's admin adds to tenant a", "POST", "/api/v1/cloud-sources?tenant=tenant-a", w.tokens["b/tenant-admin"], 403},
		{"other tenant's admin deletes a's source", "DELETE", fmt.Sprintf("/api/v1/cloud-sources/%d?tenant=tenant-a", created.ID), w.tokens["b/tenant-admin"], 403},
		{"other tenant's admin deletes a's source in its own tenant", "DELETE", fmt.Sprintf("/api/v1/cloud-sources/%d", created.ID), w.tokens["b/tenant-admin"], 404},
		{"tenant analyst", "GET", "/api/v1/cloud-sources", w.tokens["a/tenant-analyst"], 403},
		{"ingest token", "POST", "/api/v1/cloud-sources", w.tokens["a/ingest"], 403},
		{"provider analyst", "GET", "/api/v1/cloud-sources?tenant=tenant-a", w.tokens["provider-analyst"], 403},
		{"provider admin without tenant", "GET", "/api/v1/cloud-sources", w.tokens["provider-admin"], 400},
		{"no token", "GET", "/api/v1/cloud-sources", "", 401},
	}
	for _, c := range refused {
		var b []byte
		if c.method == "POST" {
			b = body
		}
		status, out := do(c.method, c.path, c.token, b)
		if status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, status, out, c.status)
			continue
		}
		errorCode(t, out)
	}

	// Tenant b sees nothing; tenant a and the provider admin see the source.
	if status, out := do("GET", "/api/v1/cloud-sources", w.tokens["b/tenant-admin"], nil); status != 200 || !strings.Contains(string(out), `"cloud_sources":[]`) {
		t.Errorf("tenant b lists %d %s", status, out)
	}
	for _, path := range []struct{ token, path string }{{w.tokens["a/tenant-admin"], "/api/v1/cloud-sources"}, {w.tokens["provider-admin"], "/api/v1/cloud-sources?tenant=tenant-a"}} {
		status, out := do("GET", path.path, path.token, nil)
		if status != 200 || !strings.Contains(string(out), `"name":"contoso"`) {
			t.Errorf("list %s: %d %s", path.path, status, out)
		}
	}
	// A bad definition is refused without echoing the secret.
	bad := []byte(fmt.Sprintf(`{"name":"x","directory_tenant":"bad tenant!","client_id":"c","client_secret":%q}`, secret))
	if status, out := do("POST", "/api/v1/cloud-sources", w.tokens["a/tenant-admin"], bad); status != 400 {
		t.Errorf("bad definition: %d %s", status, out)
	}
	for _, b := range bodies {
		if strings.Contains(b, secret) || strings.Contains(b, "client_secret\":\"") {
			t.Errorf("an API answer shows the secret: %s", b)
		}
	}
	if status, _ := do("DELETE", fmt.Sprintf("/api/v1/cloud-sources/%d", created.ID), w.tokens["a/tenant-admin"], nil); status != 204 {
		t.Errorf("delete: %d", status)
	}
	if status, _ := do("DELETE", fmt.Sprintf("/api/v1/cloud-sources/%d", created.ID), w.tokens["a/tenant-admin"], nil); status != 404 {
		t.Errorf("second delete: %d, want 404", status)
	}
}

// TestCloudSourceStreamsOnceAndRemovalAudited: a stream named twice is
// refused (it would be polled twice a round and listed twice in the
// health), and the removal's audit record names the source removed.
func TestCloudSourceStreamsOnceAndRemovalAudited(t *testing.T) {
	w := newWorld(t)
	admin := w.tokens["a/tenant-admin"]
	twice := []byte(`{"name":"contoso","directory_tenant":"11111111-2222-3333-4444-555555555555","client_id":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","client_secret":"s3cret","streams":["entra-signin","entra-audit","entra-signin"]}`)
	if status, out := w.s.Do(t, "POST", "/api/v1/cloud-sources", admin, twice); status != 400 || !strings.Contains(string(out), `entra-signin`) || !strings.Contains(string(out), "twice") {
		t.Errorf("a stream twice: %d %s, want 400 naming it", status, out)
	}
	once := []byte(`{"name":"contoso","directory_tenant":"11111111-2222-3333-4444-555555555555","client_id":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","client_secret":"s3cret","streams":["entra-signin"]}`)
	status, out := w.s.Do(t, "POST", "/api/v1/cloud-sources", admin, once)
	var created struct{ ID int64 }
	if status != 201 || json.Unmarshal(out, &created) != nil {
		t.Fatalf("add: %d %s", status, out)
	}
	if status, out := w.s.Do(t, "DELETE", fmt.Sprintf("/api/v1/cloud-sources/%d", created.ID), admin, nil); status != 204 {
		t.Fatalf("delete: %d %s", status, out)
	}
	var trail struct {
		Records []struct{ Action, Detail string }
	}
	w.s.JSON(t, "GET", "/api/v1/audit", admin, nil, &trail)
	for _, r := range trail.Records {
		if r.Action == "cloud_source.remove" {
			if !strings.Contains(r.Detail, `name="contoso"`) || !strings.Contains(r.Detail, "client_id=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee") {
				t.Errorf("cloud_source.remove detail %q does not name the source", r.Detail)
			}
			return
		}
	}
	t.Error("no cloud_source.remove record")
}
