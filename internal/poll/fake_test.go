package poll_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// fakeClock advances only when a poller sleeps.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	return nil
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// memSink records what the pollers write.
type memSink struct {
	mu   sync.Mutex
	recs map[tenant.ID][]event.Raw
}

func (s *memSink) Write(_ context.Context, t tenant.ID, recs []event.Raw) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recs == nil {
		s.recs = map[tenant.ID][]event.Raw{}
	}
	for _, r := range recs {
		r.Data = append([]byte(nil), r.Data...)
		s.recs[t] = append(s.recs[t], r)
	}
	return nil
}

func (s *memSink) all(t tenant.ID) []event.Raw {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event.Raw(nil), s.recs[t]...)
}

// record is one served log record: its id, time and exact bytes.
type record struct {
	id   string
	at   time.Time
	data []byte
}

type blob struct {
	id      string
	ct      string
	created time.Time
	recs    []record
}

type request struct {
	at     time.Time
	method string
	path   string
	query  url.Values
}

// msServer serves the documented shapes of the Microsoft identity
// platform's token endpoint, Graph's audit logs and the Office 365
// Management Activity API, with their paging.
type msServer struct {
	t     *testing.T
	srv   *httptest.Server
	clock *fakeClock

	dirTenant, clientID, secret string

	mu        sync.Mutex
	signIns   []record
	audits    []record
	blobs     []blob
	enabled   map[string]bool
	reqs      []request
	throttle  map[string][]int // path prefix → statuses to answer first
	retryAfer string
	// hook runs after each API request is answered (not token requests).
	hook       func(path string, n int)
	blobPage   int
	tokenCalls int
}

func newMSServer(t *testing.T, clock *fakeClock) *msServer {
	m := &msServer{t: t, clock: clock, dirTenant: "11111111-2222-3333-4444-555555555555", clientID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
		secret: "s3cret~Value.Never-Shown", enabled: map[string]bool{}, throttle: map[string][]int{}, blobPage: 2}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *msServer) requests(prefix string) []request {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []request
	for _, r := range m.reqs {
		if strings.HasPrefix(r.path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

func msError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`, code, msg)
}

func (m *msServer) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.reqs = append(m.reqs, request{m.clock.Now(), r.Method, r.URL.Path, r.URL.Query()})
	n := len(m.reqs)
	for prefix, statuses := range m.throttle {
		if strings.HasPrefix(r.URL.Path, prefix) && len(statuses) > 0 {
			m.throttle[prefix] = statuses[1:]
			m.mu.Unlock()
			w.Header().Set("Retry-After", m.retryAfer)
			msError(w, statuses[0], "TooManyRequests", "Too many requests.")
			return
		}
	}
	m.mu.Unlock()
	if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
		m.token(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer token-for-graph" && r.Header.Get("Authorization") != "Bearer token-for-manage" {
		msError(w, 401, "InvalidAuthenticationToken", "Access token is empty.")
		return
	}
	switch {
	case r.URL.Path == "/v1.0/auditLogs/signIns":
		m.graph(w, r, m.signIns, "createdDateTime", "graph")
	case r.URL.Path == "/v1.0/auditLogs/directoryAudits":
		m.graph(w, r, m.audits, "activityDateTime", "graph")
	case strings.HasPrefix(r.URL.Path, "/api/v1.0/"+m.dirTenant+"/activity/feed/"):
		if r.Header.Get("Authorization") != "Bearer token-for-manage" {
			msError(w, 401, "AF10001", "The permission set () sent in the request does not include the expected permission.")
			return
		}
		m.manage(w, r, strings.TrimPrefix(r.URL.Path, "/api/v1.0/"+m.dirTenant+"/activity/feed/"))
	default:
		msError(w, 404, "NotFound", "no such path "+r.URL.Path)
	}
	m.mu.Lock()
	hook := m.hook
	m.mu.Unlock()
	if hook != nil {
		hook(r.URL.Path, n)
	}
}

func (m *msServer) token(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.tokenCalls++
	m.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if err := r.ParseForm(); err != nil || r.URL.Path != "/"+m.dirTenant+"/oauth2/v2.0/token" {
		w.WriteHeader(400)
		fmt.Fprint(w, `{"error":"invalid_request","error_description":"AADSTS900144: The request body must contain the following parameter: 'grant_type'.\r\nTrace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333","error_codes":[900144]}`)
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != m.clientID {
		w.WriteHeader(400)
		fmt.Fprint(w, `{"error":"unauthorized_client","error_description":"AADSTS700016: Application not found in the directory.\r\nTrace ID: x","error_codes":[700016]}`)
		return
	}
	if r.PostForm.Get("client_secret") != m.secret {
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app.\r\nTrace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333\r\nCorrelation ID: aaaa0000-bb11-2222-33cc-444444dddddd\r\nTimestamp: 2026-03-10 12:00:00Z","error_codes":[7000222],"timestamp":"2026-03-10 12:00:00Z","trace_id":"0000aaaa-11bb-cccc-dd22-eeeeee333333","correlation_id":"aaaa0000-bb11-2222-33cc-444444dddddd"}`, m.clientID)
		return
	}
	var tok string
	switch r.PostForm.Get("scope") {
	case "https://graph.microsoft.com/.default":
		tok = "token-for-graph"
	case "https://manage.office.com/.default":
		tok = "token-for-manage"
	default:
		w.WriteHeader(400)
		fmt.Fprint(w, `{"error":"invalid_scope","error_description":"AADSTS70011: The provided value for the input parameter 'scope' isn't valid.","error_codes":[70011]}`)
		return
	}
	fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":%q}`, tok)
}

// graph answers a list request: $filter "<f> ge <t> and <f> le <t>",
// $orderby "<f> asc", $top, paging by @odata.nextLink with $skiptoken.
func (m *msServer) graph(w http.ResponseWriter, r *http.Request, all []record, field, _ string) {
	q := r.URL.Query()
	var lo, hi time.Time
	for _, cond := range strings.Split(q.Get("$filter"), " and ") {
		parts := strings.Fields(cond)
		if len(parts) != 3 || parts[0] != field {
			msError(w, 400, "BadRequest", "Invalid filter clause: "+cond)
			return
		}
		ts, err := time.Parse(time.RFC3339Nano, parts[2])
		if err != nil {
			msError(w, 400, "BadRequest", "Invalid DateTimeOffset "+parts[2])
			return
		}
		switch parts[1] {
		case "ge":
			lo = ts
		case "le":
			hi = ts
		default:
			msError(w, 400, "BadRequest", "operator "+parts[1])
			return
		}
	}
	if q.Get("$orderby") != field+" asc" {
		msError(w, 400, "BadRequest", "test server expects ascending order")
		return
	}
	top, _ := strconv.Atoi(q.Get("$top"))
	skip, _ := strconv.Atoi(q.Get("$skiptoken"))
	m.mu.Lock()
	var match []record
	for _, rec := range all {
		if !rec.at.Before(lo) && !rec.at.After(hi) {
			match = append(match, rec)
		}
	}
	m.mu.Unlock()
	sort.SliceStable(match, func(i, j int) bool { return match[i].at.Before(match[j].at) })
	end := min(skip+top, len(match))
	var b strings.Builder
	fmt.Fprintf(&b, `{"@odata.context":"%s/v1.0/$metadata#auditLogs/signIns","value":[`, m.srv.URL)
	for i, rec := range match[skip:end] {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(rec.data)
	}
	b.WriteByte(']')
	if end < len(match) {
		q.Set("$skiptoken", strconv.Itoa(end))
		fmt.Fprintf(&b, `,"@odata.nextLink":%q`, m.srv.URL+r.URL.Path+"?"+q.Encode())
	}
	b.WriteByte('}')
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, b.String())
}

func (m *msServer) manage(w http.ResponseWriter, r *http.Request, op string) {
	q := r.URL.Query()
	if q.Get("PublisherIdentifier") != m.dirTenant {
		msError(w, 400, "AF20010", "test server expects PublisherIdentifier")
		return
	}
	ct := q.Get("contentType")
	switch {
	case op == "subscriptions/start" && r.Method == http.MethodPost:
		m.mu.Lock()
		was := m.enabled[ct]
		m.enabled[ct] = true
		m.mu.Unlock()
		if was {
			msError(w, 400, "AF20024", "The subscription is already enabled. No property change.")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"contentType":%q,"status":"enabled","webhook":null}`, ct)
	case op == "subscriptions/content" && r.Method == http.MethodGet:
		m.mu.Lock()
		enabled := m.enabled[ct]
		m.mu.Unlock()
		if !enabled {
			msError(w, 400, "AF20022", "No subscription found for the specified content type")
			return
		}
		start, err1 := time.Parse("2006-01-02T15:04:05", q.Get("startTime"))
		end, err2 := time.Parse("2006-01-02T15:04:05", q.Get("endTime"))
		now := m.clock.Now()
		switch {
		case err1 != nil || err2 != nil:
			msError(w, 400, "AF20055", "Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart.")
			return
		case !end.After(start) || end.Sub(start) > 24*time.Hour:
			msError(w, 400, "AF20055", "Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time prior to end time.")
			return
		case start.Before(now.Add(-7 * 24 * time.Hour)):
			msError(w, 400, "AF20056", "Start time cannot be more than 7 days in the past.")
			return
		}
		skip, _ := strconv.Atoi(q.Get("nextPage"))
		m.mu.Lock()
		var match []blob
		for _, b := range m.blobs {
			if b.ct == ct && !b.created.Before(start) && b.created.Before(end) {
				match = append(match, b)
			}
		}
		page := m.blobPage
		m.mu.Unlock()
		stop := min(skip+page, len(match))
		type entry struct {
			ContentType       string `json:"contentType"`
			ContentID         string `json:"contentId"`
			ContentURI        string `json:"contentUri"`
			ContentCreated    string `json:"contentCreated"`
			ContentExpiration string `json:"contentExpiration"`
		}
		out := []entry{}
		for _, b := range match[skip:stop] {
			out = append(out, entry{ct, b.id, m.srv.URL + "/api/v1.0/" + m.dirTenant + "/activity/feed/audit/" + b.id,
				b.created.Format("2006-01-02T15:04:05.000Z"), b.created.Add(7 * 24 * time.Hour).Format("2006-01-02T15:04:05.000Z")})
		}
		if stop < len(match) {
			q.Set("nextPage", strconv.Itoa(stop))
			w.Header().Set("NextPageUri", m.srv.URL+r.URL.Path+"?"+q.Encode())
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	case strings.HasPrefix(op, "audit/") && r.Method == http.MethodGet:
		id := strings.TrimPrefix(op, "audit/")
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, b := range m.blobs {
			if b.id == id {
				var sb strings.Builder
				sb.WriteByte('[')
				for i, rec := range b.recs {
					if i > 0 {
						sb.WriteByte(',')
					}
					sb.Write(rec.data)
				}
				sb.WriteByte(']')
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, sb.String())
				return
			}
		}
		msError(w, 404, "AF20051", "Content requested with the key "+id+" has already expired or does not exist.")
	default:
		msError(w, 400, "AF20001", "bad operation "+op)
	}
}

// addSignIn serves a Graph signIn record (fields from the documented
// signIn resource).
func (m *msServer) addSignIn(id string, at time.Time) record {
	rec := record{id, at, []byte(fmt.Sprintf(`{"id":%q,"createdDateTime":%q, "userDisplayName":"Megan Bowen","userPrincipalName":"MeganB@contoso.com","appDisplayName":"Office 365 Exchange Online","ipAddress":"203.0.113.7","clientAppUsed":"Browser","status":{"errorCode":0,"failureReason":"Other.","additionalDetails":null},"location":{"city":"Redmond","state":"Washington","countryOrRegion":"US"}}`,
		id, at.UTC().Format(time.RFC3339)))}
	m.mu.Lock()
	m.signIns = append(m.signIns, rec)
	m.mu.Unlock()
	return rec
}

// addAudit serves a Graph directoryAudit record.
func (m *msServer) addAudit(id string, at time.Time) record {
	rec := record{id, at, []byte(fmt.Sprintf(`{"id":%q,"category":"UserManagement","correlationId":"da159bfb-54fa-4092-8a38-6e1fa7870e30","result":"success","resultReason":"","activityDisplayName":"Update user","activityDateTime":%q,"loggedByService":"Core Directory","operationType":"Update","initiatedBy":{"app":null,"user":{"id":"728309ae-9b1f-4d8a-b9a5-9f1f2c4b5e11","userPrincipalName":"admin@contoso.com"}},"targetResources":[],"additionalDetails":[]}`,
		id, at.UTC().Format("2006-01-02T15:04:05.0000000Z")))}
	m.mu.Lock()
	m.audits = append(m.audits, rec)
	m.mu.Unlock()
	return rec
}

// addBlob serves a content blob of n unified audit records.
func (m *msServer) addBlob(ct, id string, created time.Time, n int) blob {
	b := blob{id: id, ct: ct, created: created}
	for i := range n {
		rid := fmt.Sprintf("%s-rec-%d", id, i)
		at := created.Add(-time.Duration(n-i) * time.Minute)
		b.recs = append(b.recs, record{rid, at, []byte(fmt.Sprintf(`{"CreationTime":%q,"Id":%q,"Operation":"UserLoggedIn","OrganizationId":"11111111-2222-3333-4444-555555555555","RecordType":15,"ResultStatus":"Succeeded","UserKey":"10032000A1B2C3D4","UserType":0,"Version":1,"Workload":"AzureActiveDirectory","ClientIP":"203.0.113.9","ObjectId":"Unknown","UserId":"megan@contoso.com"}`,
			at.UTC().Format("2006-01-02T15:04:05"), rid))})
	}
	m.mu.Lock()
	m.blobs = append(m.blobs, b)
	m.mu.Unlock()
	return b
}
