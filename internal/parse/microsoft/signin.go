package microsoft

import (
	"errors"
	"fmt"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
)

// SignIn parses Entra ID sign-in records (TypeSignIn) into the fields
// Elastic's azure integration gives them (data stream azure.signinlogs).
// The zero value is ready; it keeps buffers between calls and is not safe
// for concurrent use.
type SignIn struct{ base }

// Parse reads one sign-in record: the Azure Monitor diagnostic form
// (category *SignInLogs, details under properties), the Microsoft Graph
// /auditLogs/signIns resource, or a Sentinel SigninLogs / AAD*SignInLogs
// row. It appends azure.signinlogs.* and the ECS fields to dst.Fields and
// sets dst.Time.
func (s *SignIn) Parse(payload []byte, dst *event.Event) error {
	n0 := len(dst.Fields)
	v, err := s.begin(payload, dst)
	if err != nil {
		return fail(dst, n0, err)
	}
	root, err := s.signInRoot(v)
	if err != nil {
		return fail(dst, n0, err)
	}
	s.emitSignIn(root, dst)
	s.o.finish()
	return nil
}

// signInRoot returns the record in its Azure Monitor shape: top-level
// fields and a properties object.
func (s *SignIn) signInRoot(v *fastjson.Value) (*fastjson.Object, error) {
	obj, _ := v.Object()
	props := obj.Get("properties")
	cat := view(obj.Get("category"))
	if cat == "" {
		cat = view(obj.Get("Category"))
	}
	switch {
	case obj.Get("TimeGenerated") != nil || sentinelSignInTable(view(obj.Get("Type"))) != "":
		return s.sentinelSignIn(obj)
	case props != nil && props.Type() == fastjson.TypeObject || strings.HasSuffix(cat, "SignInLogs"):
		// The Azure Monitor form; some services leave out properties
		// and write the top-level names capitalised.
		if !strings.HasSuffix(cat, "SignInLogs") {
			return nil, fmt.Errorf("category %q is not a sign-in log", cat)
		}
		return obj, nil
	case obj.Get("createdDateTime") != nil && (obj.Get("userPrincipalName") != nil || obj.Get("appId") != nil || obj.Get("ipAddress") != nil):
		return s.graphSignIn(v), nil
	}
	return nil, errors.New("not a sign-in record: no properties (Azure Monitor) or createdDateTime (Microsoft Graph)")
}

// graphSignIn shapes a Microsoft Graph signIn resource as Azure Monitor
// sends it.
func (s *SignIn) graphSignIn(v *fastjson.Value) *fastjson.Object {
	a := &s.arena
	root := a.NewObject()
	ro, _ := root.Object()
	cat := "SignInLogs"
	if types := v.GetArray("signInEventTypes"); len(types) > 0 {
		switch str(types[0]) {
		case "nonInteractiveUser":
			cat = "NonInteractiveUserSignInLogs"
		case "servicePrincipal":
			cat = "ServicePrincipalSignInLogs"
		case "managedIdentity":
			cat = "ManagedIdentitySignInLogs"
		}
	}
	ro.Set("category", a.NewString(cat))
	ro.Set("operationName", a.NewString("Sign-in activity"))
	if t := v.Get("resourceTenantId"); t != nil {
		ro.Set("tenantId", t)
	}
	if c := v.Get("correlationId"); c != nil {
		ro.Set("correlationId", c)
	}
	ro.Set("properties", v)
	return ro
}

// sentinelSignInTable returns the sign-in category a Sentinel table holds.
func sentinelSignInTable(table string) string {
	switch table {
	case "SigninLogs":
		return "SignInLogs"
	case "AADNonInteractiveUserSignInLogs":
		return "NonInteractiveUserSignInLogs"
	case "AADServicePrincipalSignInLogs":
		return "ServicePrincipalSignInLogs"
	case "AADManagedIdentitySignInLogs":
		return "ManagedIdentitySignInLogs"
	case "ADFSSignInLogs":
		return "ADFSSignInLogs"
	}
	return ""
}

// sentinelSignIn shapes a Sentinel sign-in row as Azure Monitor sends it:
// the Azure Monitor columns at the top, the rest (JSON text parsed) under
// properties.
func (s *SignIn) sentinelSignIn(obj *fastjson.Object) (*fastjson.Object, error) {
	a := &s.arena
	root := a.NewObject()
	ro, _ := root.Object()
	pv := a.NewObject()
	po, _ := pv.Object()
	cat := str(obj.Get("Category"))
	if cat == "" {
		cat = sentinelSignInTable(str(obj.Get("Type")))
	}
	if !strings.HasSuffix(cat, "SignInLogs") {
		return nil, fmt.Errorf("category %q is not a sign-in log", cat)
	}
	ro.Set("category", a.NewString(cat))
	obj.Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case "TimeGenerated":
			ro.Set("time", v)
		case "ResourceId", "OperationName", "OperationVersion", "ResultType", "ResultSignature",
			"ResultDescription", "DurationMs", "Identity", "Level", "Location", "CorrelationId":
			ro.Set(string(k), v)
		case "AADTenantId":
			ro.Set("tenantId", v)
		case "Category", "TenantId", "SourceSystem", "Type", "Resource", "ResourceGroup", "ResourceProvider", "_ResourceId":
		case "LocationDetails":
			po.Set("location", s.sub(v))
		case "IPAddress":
			po.Set("ipAddress", v)
		case "ConditionalAccessPolicies":
			po.Set("appliedConditionalAccessPolicies", s.sub(v))
		case "ResourceIdentity":
			po.Set("resourceId", v)
		default:
			po.Set(string(k), s.sub(v))
		}
	})
	if c := obj.Get("CorrelationId"); c != nil {
		po.Set("correlationId", c)
	}
	ro.Set("properties", pv)
	return ro, nil
}

// signIn is what the ECS fields are built from.
type signIn struct {
	created, timeV    *fastjson.Value
	rootCreated       *fastjson.Value
	address, caller   string
	upn, display, uid string
	errorCode         *fastjson.Value
	reason, details   string
	haveCountry       bool
	country           string
}

// emitSignIn adds the fields of Elastic's signinlogs pipeline (its 2024–
// 2025 versions; see the README for the few places they differ).
func (s *SignIn) emitSignIn(root *fastjson.Object, dst *event.Event) {
	o, n := &s.o, &s.n
	var si signIn
	const ns = "azure.signinlogs."
	var props *fastjson.Object
	root.Visit(func(k []byte, v *fastjson.Value) {
		name := n.join(ns, k, true)
		switch key := name[len(ns):]; key {
		case "properties":
			if v.Type() == fastjson.TypeObject {
				props, _ = v.Object()
				return
			}
			n.walkValue(o, name, v, true)
		case "time":
			si.timeV = v
		case "created_date_time":
			si.rootCreated = v
		case "resource_id":
			resource(o, viewText(v))
		case "level":
			if t := viewText(v); t != "" {
				o.addString("log.level", t)
			}
		case "duration_ms":
			if d, ok := intValue(v); ok {
				o.int("event.duration", d*1_000_000)
			}
		case "location":
			si.haveCountry = true
			o.value("geo.country_iso_code", v)
		case "operation_name":
			o.value(name, v)
			o.value("event.action", v)
		case "tenant_id":
			o.value("azure.tenant_id", v)
		case "correlation_id":
			o.value("azure.correlation_id", v)
		case "caller_ip_address":
			si.caller = view(v)
			o.value(name, v)
		default:
			n.walkValue(o, name, v, true)
		}
	})
	if props != nil {
		s.signInProperties(props, &si)
	}

	// The event's time: properties.createdDateTime (the sign-in itself),
	// else the record's time.
	for _, tv := range []*fastjson.Value{si.created, si.timeV, si.rootCreated} {
		if t, ok := timeValue(tv); ok {
			dst.Time = t
			break
		}
	}
	if !si.haveCountry && si.country != "" {
		o.addString("geo.country_iso_code", si.country)
	}
	switch {
	case si.reason != "" && si.details != "":
		o.addString("message", si.reason+" ("+si.details+")")
	case si.reason != "":
		o.addString("message", si.reason)
	case si.details != "":
		o.addString("message", si.details)
	}

	addr := si.address
	if addr != "" {
		o.addString("source.address", addr)
	} else {
		addr = si.caller
	}
	if ip, ok := parseIP(addr); ok {
		o.addString("source.ip", ip)
		o.addString("client.ip", ip)
		s.ips.add(ip)
	}
	s.ips.emit(o, "related.ip")

	if si.upn != "" {
		o.addString("user.name", grokUserName(si.upn))
		if name, domain, ok := splitUPN(si.upn); ok {
			o.addString("user.email", si.upn)
			if d := hostnamePrefix(domain); d != "" && name != "" {
				o.addString("user.domain", d)
			}
		}
	}
	if si.display != "" {
		o.addString("user.full_name", si.display)
	}
	s.users.add(si.uid)
	s.users.add(si.upn)
	s.users.add(si.display)
	s.users.emit(o, "related.user")
	s.ents.emit(o, "related.entity")

	o.lit("event.kind", "event")
	o.lit("event.category", `["authentication"]`)
	o.lit("event.type", `["info"]`)
	if outcome := signInOutcome(si.errorCode); outcome != "" {
		o.lit("event.outcome", outcome)
	}
	o.azure("azure.signinlogs", "Entra ID")
}

// signInOutcome is success when status.errorCode is absent or 0, failure
// when it is above 0.
func signInOutcome(code *fastjson.Value) string {
	if code == nil || code.Type() == fastjson.TypeNull {
		return "success"
	}
	c, ok := intValue(code)
	switch {
	case !ok:
		return ""
	case c == 0:
		return "success"
	case c > 0:
		return "failure"
	}
	return ""
}

// signInProperties adds azure.signinlogs.properties.* and gathers what the
// ECS fields need.
func (s *SignIn) signInProperties(props *fastjson.Object, si *signIn) {
	o, n := &s.o, &s.n
	const ns = "azure.signinlogs.properties."
	props.Visit(func(k []byte, v *fastjson.Value) {
		name := n.join(ns, k, true)
		key := name[len(ns):]
		switch key {
		case "created_date_time":
			si.created = v
			o.value(ns+"created_at", v)
			return
		case "processing_time_in_milliseconds":
			o.value(ns+"processing_time_ms", v)
			return
		case "risk_level_during_sign_in":
			o.value(ns+"risk_level_during_signin", v)
			return
		case "ipaddress", "ip_address":
			if si.address == "" {
				si.address = viewText(v)
			}
			return
		case "user_agent":
			if v.Type() == fastjson.TypeString {
				userAgent(o, view(v))
				return
			}
		case "status":
			if v.Type() == fastjson.TypeObject {
				s.signInStatus(v, si)
				return
			}
		case "location":
			if v.Type() == fastjson.TypeObject {
				s.signInLocation(v, si)
				return
			}
		case "authentication_processing_details":
			if v.Type() == fastjson.TypeArray {
				s.keyValues(name+".", v)
				return
			}
		case "user_principal_name":
			si.upn = view(v)
		case "user_display_name":
			si.display = viewText(v)
		case "user_id":
			si.uid = viewText(v)
			if v.Type() != fastjson.TypeNull {
				o.value("user.id", v)
			}
			s.ents.add(si.uid)
		case "id":
			if t := viewText(v); t != "" {
				o.addString("event.id", t)
			}
		case "service_principal_name":
			if t := viewText(v); t != "" {
				o.addString("service.name", t)
			}
		case "app_id", "resource_id", "service_principal_id", "service_principal_credential_key_id":
			s.ents.add(viewText(v))
		case "device_detail":
			s.ents.add(view(v.Get("deviceId")))
		}
		n.walkValue(o, name, v, true)
	})
}

// signInStatus adds properties.status: the error code stays, the failure
// reason and additional details become the message.
func (s *SignIn) signInStatus(v *fastjson.Value, si *signIn) {
	o, n := &s.o, &s.n
	const ns = "azure.signinlogs.properties.status."
	obj, _ := v.Object()
	obj.Visit(func(k []byte, x *fastjson.Value) {
		name := n.join(ns, k, true)
		switch name[len(ns):] {
		case "error_code":
			si.errorCode = x
		case "failure_reason":
			si.reason = viewText(x)
			return
		case "additional_details":
			si.details = viewText(x)
			return
		}
		n.walkValue(o, name, x, true)
	})
}

// signInLocation moves properties.location to geo.*: city, state (as
// geo.region_name, and as geo.country_name where Elastic's pipeline
// before 2025 put it) and coordinates; the rest is dropped, as Elastic
// does, except countryOrRegion, kept for geo.country_iso_code when the
// record has no top-level location.
func (s *SignIn) signInLocation(v *fastjson.Value, si *signIn) {
	o := &s.o
	if x := v.Get("city"); x != nil && x.Type() != fastjson.TypeNull {
		o.value("geo.city_name", x)
	}
	if x := v.Get("state"); x != nil && x.Type() != fastjson.TypeNull {
		o.value("geo.region_name", x)
		o.value("geo.country_name", x)
	}
	if c := v.Get("geoCoordinates"); c != nil {
		if x := c.Get("latitude"); x != nil && x.Type() == fastjson.TypeNumber {
			o.value("geo.location.lat", x)
		}
		if x := c.Get("longitude"); x != nil && x.Type() == fastjson.TypeNumber {
			o.value("geo.location.lon", x)
		}
	}
	si.country = view(v.Get("countryOrRegion"))
}

// keyValues adds a [{"key":k,"value":v},...] list as prefix+k = v.
func (s *SignIn) keyValues(prefix string, v *fastjson.Value) {
	a, _ := v.Array()
	for _, item := range a {
		k := item.Get("key")
		if k == nil || k.Type() != fastjson.TypeString {
			continue
		}
		val := item.Get("value")
		if val == nil || val.Type() == fastjson.TypeNull {
			continue
		}
		s.n.walkValue(&s.o, s.n.join(prefix, k.GetStringBytes(), false), val, true)
	}
}

// grokUserName is user.name as Elastic's grok
// %{USERNAME:user.name}@%{HOSTNAME:user.domain} (else the whole value)
// takes it from a user principal name.
func grokUserName(upn string) string {
	at := strings.IndexByte(upn, '@')
	if at <= 0 || hostnamePrefix(upn[at+1:]) == "" {
		return upn
	}
	start := at
	for start > 0 && isUserNameChar(upn[start-1]) {
		start--
	}
	if start == at {
		return upn
	}
	return upn[start:at]
}

func isUserNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// hostnamePrefix returns the host name at the start of s (letters, digits,
// hyphens and dots).
func hostnamePrefix(s string) string {
	end := 0
	for end < len(s) {
		c := s[end]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			break
		}
		end++
	}
	if end == 0 || s[0] == '-' || s[0] == '.' {
		return ""
	}
	return s[:end]
}
