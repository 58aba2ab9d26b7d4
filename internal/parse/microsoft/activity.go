package microsoft

import (
	"errors"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/sniff"
)

// Activity parses Azure Activity log records (TypeActivity): the
// subscription's control-plane operations (a network security group
// written, a virtual machine deleted, a role assigned, a policy denied),
// in the form Azure Monitor sends them to an Event Hub or a storage
// account, into the fields Elastic's azure integration gives them (data
// stream azure.activitylogs); and Sentinel AzureActivity rows, whose
// columns stay under their own names (OperationNameValue, CategoryValue,
// ResourceProviderValue: the names Sigma rules use), with the same ECS
// fields. The zero value is ready; it keeps buffers between calls and is
// not safe for concurrent use.
type Activity struct{ base }

// activityCategories are the Activity log's categories, as records name
// them.
var activityCategories = []string{"Administrative", "Policy", "Security", "ServiceHealth", "ResourceHealth", "Alert", "Autoscale", "Recommendation"}

// SniffActivity reports whether a record looks like an Azure Activity log
// record: an operation on a resource, its correlation id and one of the
// log's categories (Entra ID's records name theirs AuditLogs or
// SignInLogs, and their sniffers come first); or a Sentinel AzureActivity
// row.
func SniffActivity(j *sniff.JSON) bool {
	if j.Has("AzureActivity") && j.Has("OperationNameValue") {
		return true
	}
	if !j.Has("operationName") || !j.Has("resourceId") || !j.Has("correlationId") {
		return false
	}
	for _, c := range activityCategories {
		if j.Has(c) {
			return true
		}
	}
	return false
}

var errNotActivity = errors.New("not an Activity log record: no operationName and resourceId (Azure Monitor) or OperationNameValue (Sentinel AzureActivity)")

// Parse reads one Activity log record.
func (a *Activity) Parse(payload []byte, dst *event.Event) error {
	n0 := len(dst.Fields)
	v, err := a.begin(payload, dst)
	if err != nil {
		return fail(dst, n0, err)
	}
	obj, _ := v.Object()
	var ac activity
	switch {
	case obj.Get("OperationNameValue") != nil:
		a.sentinelActivity(obj, &ac)
	case obj.Get("operationName") != nil && obj.Get("resourceId") != nil:
		a.monitorActivity(obj, &ac)
	default:
		return fail(dst, n0, errNotActivity)
	}
	a.emitActivity(dst, &ac)
	a.o.finish()
	return nil
}

// activity is what both forms say, for the ECS fields.
type activity struct {
	operation, status, caller, ip string
	timeV                         *fastjson.Value
}

// monitorActivity reads the Azure Monitor form: azure.activitylogs.* as
// Elastic names them.
func (a *Activity) monitorActivity(obj *fastjson.Object, ac *activity) {
	o, n := &a.o, &a.n
	const ns = "azure.activitylogs."
	obj.Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case "time":
			ac.timeV = v
		case "resourceId":
			resource(o, text(v))
		case "operationName":
			ac.operation = text(v)
			o.value(ns+"operation_name", v)
			if p, _, ok := strings.Cut(ac.operation, "/"); ok && p != "" {
				// The provider namespace, as Sentinel's
				// ResourceProviderValue gives it.
				o.addString(ns+"resource_provider_name", p)
			}
		case "resultType":
			ac.status = text(v)
			o.value(ns+"result_type", v)
		case "durationMs":
			if d, ok := intValue(v); ok {
				o.int("event.duration", d*1_000_000)
			}
		case "callerIpAddress":
			ac.ip = text(v)
		case "correlationId":
			o.value("azure.correlation_id", v)
		case "level":
			o.value("log.level", v)
		case "tenantId":
			o.value("azure.tenant_id", v)
		case "identity":
			if id, err := v.Object(); err == nil {
				a.identity(id, ac)
			}
		default:
			n.walkValue(o, n.join(ns, k, true), v, false)
		}
	})
}

// upnClaim is the claim that holds the caller's user principal name.
const upnClaim = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"

// identity reads the caller's authorization and claims.
func (a *Activity) identity(id *fastjson.Object, ac *activity) {
	o, n := &a.o, &a.n
	const ns = "azure.activitylogs.identity."
	if auth := id.Get("authorization"); auth != nil && auth.Type() == fastjson.TypeObject {
		n.walkValue(o, ns+"authorization", auth, false)
	}
	claims := id.Get("claims")
	if claims == nil || claims.Type() != fastjson.TypeObject {
		return
	}
	ac.caller = str(claims.Get(upnClaim))
	if ac.caller == "" {
		ac.caller = str(claims.Get("upn"))
	}
	for _, c := range [...]struct{ claim, name string }{
		{"name", "name"}, {"appid", "appid"}, {"ipaddr", "ipaddr"},
		{"http://schemas.microsoft.com/identity/claims/objectidentifier", "objectidentifier"},
		{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", "fullname"},
	} {
		if v := claims.Get(c.claim); v != nil {
			o.value(ns+"claims_initiated_by_user."+c.name, v)
		}
	}
	if ac.ip == "" {
		ac.ip = str(claims.Get("ipaddr"))
	}
}

// sentinelActivity reads a Sentinel AzureActivity row: every column under
// its own name, Properties (JSON text) under Properties.*.
func (a *Activity) sentinelActivity(obj *fastjson.Object, ac *activity) {
	o, n := &a.o, &a.n
	obj.Visit(func(k []byte, v *fastjson.Value) {
		if len(k) == 0 {
			return // a column needs a name (Sentinel's own rows skip it too)
		}
		switch string(k) {
		case "TimeGenerated":
			ac.timeV = v
		case "OperationNameValue":
			ac.operation = text(v)
		case "ActivityStatusValue":
			ac.status = text(v)
		case "Caller":
			ac.caller = text(v)
		case "CallerIpAddress":
			ac.ip = text(v)
		case "ResourceId", "_ResourceId":
			if string(k) == "ResourceId" || obj.Get("ResourceId") == nil {
				resource(o, text(v))
			}
		case "Properties", "Properties_d", "Authorization", "Authorization_d", "Claims", "Claims_d", "HTTPRequest":
			n.walkValue(o, n.join("", k, false), a.sub(v), false)
			return
		}
		n.walkValue(o, n.join("", k, false), v, false)
	})
}

// emitActivity writes the ECS fields both forms share.
func (a *Activity) emitActivity(dst *event.Event, ac *activity) {
	o := &a.o
	if t, ok := timeValue(ac.timeV); ok {
		dst.Time = t
	}
	if ac.operation != "" {
		o.addString("event.action", ac.operation)
	}
	if ip, ok := parseIP(ac.ip); ok {
		o.addString("source.ip", ip)
		a.ips.add(ip)
	}
	if ac.caller != "" {
		if isGUID(ac.caller) {
			o.addString("user.id", ac.caller) // an application's or managed identity's object id
		} else {
			userNames(o, "user.", ac.caller)
		}
		a.users.add(ac.caller)
	}
	a.ips.emit(o, "related.ip")
	a.users.emit(o, "related.user")
	o.lit("event.kind", "event")
	o.lit("event.category", `["configuration"]`)
	o.lit("event.type", `["change"]`)
	switch strings.ToLower(ac.status) {
	case "success", "succeeded", "accept", "accepted":
		o.lit("event.outcome", "success")
	case "failure", "failed":
		o.lit("event.outcome", "failure")
	}
	o.azure("azure.activitylogs", "Azure")
}
