package microsoft

import (
	"errors"
	"fmt"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
)

// Audit parses Entra ID audit records (TypeAudit) into the fields Elastic's
// azure integration gives them (data stream azure.auditlogs), plus ECS
// user, target and category fields of our own. The zero value is ready; it
// keeps buffers between calls and is not safe for concurrent use.
type Audit struct{ base }

// Parse reads one audit record: the Azure Monitor diagnostic form
// (category AuditLogs), the Microsoft Graph directoryAudit resource, or a
// Sentinel AuditLogs row.
func (a *Audit) Parse(payload []byte, dst *event.Event) error {
	n0 := len(dst.Fields)
	v, err := a.begin(payload, dst)
	if err != nil {
		return fail(dst, n0, err)
	}
	root, err := a.auditRoot(v)
	if err != nil {
		return fail(dst, n0, err)
	}
	a.emitAudit(root, dst)
	a.o.finish()
	return nil
}

// auditRoot returns the record in its Azure Monitor shape.
func (a *Audit) auditRoot(v *fastjson.Value) (*fastjson.Object, error) {
	obj, _ := v.Object()
	props := obj.Get("properties")
	switch {
	case props != nil && props.Type() == fastjson.TypeObject:
		if cat := str(obj.Get("category")); cat != "AuditLogs" {
			return nil, fmt.Errorf("category %q is not AuditLogs", cat)
		}
		return obj, nil
	case obj.Get("TimeGenerated") != nil || obj.Get("ActivityDisplayName") != nil:
		return a.sentinelAudit(obj), nil
	case obj.Get("activityDateTime") != nil || obj.Get("activityDisplayName") != nil:
		return a.graphAudit(v), nil
	}
	return nil, errors.New("not an audit record: no properties (Azure Monitor) or activityDateTime (Microsoft Graph)")
}

// graphAudit shapes a Microsoft Graph directoryAudit as Azure Monitor
// sends it.
func (a *Audit) graphAudit(v *fastjson.Value) *fastjson.Object {
	ar := &a.arena
	root := ar.NewObject()
	ro, _ := root.Object()
	ro.Set("category", ar.NewString("AuditLogs"))
	if t := v.Get("activityDateTime"); t != nil {
		ro.Set("time", t)
	}
	if n := v.Get("activityDisplayName"); n != nil {
		ro.Set("operationName", n)
	}
	if c := v.Get("correlationId"); c != nil {
		ro.Set("correlationId", c)
	}
	ro.Set("properties", v)
	return ro
}

// sentinelAuditProps are the AuditLogs columns that are properties in the
// Azure Monitor form, by their name there.
var sentinelAuditProps = map[string]string{
	"Id":                  "id",
	"Category":            "category",
	"Result":              "result",
	"ResultReason":        "resultReason",
	"ActivityDisplayName": "activityDisplayName",
	"ActivityDateTime":    "activityDateTime",
	"LoggedByService":     "loggedByService",
	"AADOperationType":    "operationType",
	"InitiatedBy":         "initiatedBy",
	"TargetResources":     "targetResources",
	"AdditionalDetails":   "additionalDetails",
	"UserAgent":           "userAgent",
}

// sentinelAudit shapes a Sentinel AuditLogs row as Azure Monitor sends it.
// Columns of neither form (those an analytics rule added) stay at the top
// under their own names.
func (a *Audit) sentinelAudit(obj *fastjson.Object) *fastjson.Object {
	ar := &a.arena
	root := ar.NewObject()
	ro, _ := root.Object()
	pv := ar.NewObject()
	po, _ := pv.Object()
	ro.Set("category", ar.NewString("AuditLogs"))
	obj.Visit(func(k []byte, v *fastjson.Value) {
		key := string(k)
		if p, ok := sentinelAuditProps[key]; ok {
			po.Set(p, a.sub(v))
			return
		}
		switch key {
		case "TimeGenerated":
			ro.Set("time", v)
		case "ResourceId":
			ro.Set("resourceId", v)
		case "OperationName":
			ro.Set("operationName", v)
		case "OperationVersion":
			ro.Set("operationVersion", v)
		case "ResultSignature":
			ro.Set("resultSignature", v)
		case "ResultDescription":
			ro.Set("resultDescription", v)
		case "DurationMs":
			ro.Set("durationMs", v)
		case "Identity":
			ro.Set("identity", v)
		case "Level":
			ro.Set("Level", v)
		case "AADTenantId":
			ro.Set("tenantId", v)
		case "CorrelationId":
			ro.Set("correlationId", v)
			po.Set("correlationId", v)
		case "TenantId", "SourceSystem", "Type", "Resource", "ResourceGroup", "_ResourceId":
		default:
			ro.Set(key, a.sub(v))
		}
	})
	ro.Set("properties", pv)
	return ro
}

// audit is what the ECS fields are built from.
type audit struct {
	timeV, activity *fastjson.Value
	caller          string
	opType          string
	result          string
	initiatedBy     *fastjson.Value
	targets         *fastjson.Value
	userAgent       string
	tenant          string
}

// emitAudit adds the fields of Elastic's auditlogs pipeline and ours.
func (a *Audit) emitAudit(root *fastjson.Object, dst *event.Event) {
	o, n := &a.o, &a.n
	var au audit
	const ns = "azure.auditlogs."
	var props *fastjson.Object
	root.Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case "properties":
			if v.Type() == fastjson.TypeObject {
				props, _ = v.Object()
				return
			}
		case "time":
			au.timeV = v
			return
		case "resourceId":
			resource(o, text(v))
			return
		case "durationMs":
			if d, ok := intValue(v); ok {
				o.int("event.duration", d*1_000_000)
			}
			return
		case "level":
			o.value("log.level", v)
			return
		case "Level":
			o.value(ns+"level", v)
			return
		case "operationName":
			o.value(ns+"operation_name", v)
			o.value("event.action", v)
			return
		case "resultSignature":
			o.value(ns+"result_signature", v)
			return
		case "resultDescription":
			o.value(ns+"result_description", v)
			return
		case "operationVersion":
			o.value(ns+"operation_version", v)
			return
		case "tenantId":
			au.tenant = text(v)
			o.value("azure.tenant_id", v)
			return
		case "correlationId":
			o.value("azure.correlation_id", v)
			return
		case "callerIpAddress":
			au.caller = text(v)
			return
		}
		n.walkValue(o, n.join(ns, k, false), v, false)
	})
	if props != nil {
		a.auditProperties(props, &au)
	}

	for _, tv := range []*fastjson.Value{au.timeV, au.activity} {
		if t, ok := timeValue(tv); ok {
			dst.Time = t
			break
		}
	}
	if au.tenant != "" {
		o.addString("cloud.account.id", au.tenant)
	}

	// The actor: a user or an application.
	user := au.initiatedBy.Get("user")
	app := au.initiatedBy.Get("app")
	if user != nil && user.Type() == fastjson.TypeObject {
		id, upn := str(user.Get("id")), str(user.Get("userPrincipalName"))
		if id != "" {
			o.addString("user.id", id)
			a.ents.add(id)
		}
		userNames(o, "user.", upn)
		a.users.add(upn)
		if d := str(user.Get("displayName")); d != "" {
			o.addString("user.full_name", d)
		}
		if au.caller == "" {
			au.caller = str(user.Get("ipAddress"))
		}
	}
	if app != nil && app.Type() == fastjson.TypeObject {
		if d := str(app.Get("displayName")); d != "" {
			o.addString("service.name", d)
		}
		a.ents.add(str(app.Get("appId")))
		a.ents.add(str(app.Get("servicePrincipalId")))
	}

	// The first user the activity acted on.
	types := eventTypes(au.opType)
	targetUser := false
	for _, t := range au.targets.GetArray() {
		a.ents.add(str(t.Get("id")))
		switch str(t.Get("type")) {
		case "User":
			if !targetUser {
				targetUser = true
				types = appendType(types, "user")
				if id := str(t.Get("id")); id != "" {
					o.addString("user.target.id", id)
				}
				upn := str(t.Get("userPrincipalName"))
				userNames(o, "user.target.", upn)
				a.users.add(upn)
				if d := str(t.Get("displayName")); d != "" {
					o.addString("user.target.full_name", d)
				}
			}
		case "Group":
			types = appendType(types, "group")
		}
	}

	if au.caller != "" {
		if ip, ok := parseIP(au.caller); ok {
			o.addString("source.ip", ip)
			o.addString("client.ip", ip)
			a.ips.add(ip)
		} else {
			o.addString("source.address", au.caller)
		}
	}
	if au.userAgent != "" {
		userAgent(o, au.userAgent)
	}
	a.ips.emit(o, "related.ip")
	a.users.emit(o, "related.user")
	a.ents.emit(o, "related.entity")

	o.lit("event.kind", "event")
	o.lit("event.category", `["iam"]`)
	o.lit("event.type", jsonArray(types...))
	if r := strings.ToLower(au.result); r == "success" || r == "failure" {
		o.lit("event.outcome", r)
	}
	o.azure("azure.auditlogs", "Entra ID")
}

// eventTypes is event.type for an Entra operation type.
func eventTypes(op string) []string {
	switch op {
	case "Add":
		return []string{"creation"}
	case "Delete":
		return []string{"deletion"}
	case "Update", "Assign", "Unassign":
		return []string{"change"}
	}
	return []string{"info"}
}

func appendType(types []string, t string) []string {
	for _, x := range types {
		if x == t {
			return types
		}
	}
	return append(types, t)
}

// userNames adds prefix+email, name and domain from a user principal
// name (the whole value as name when it has no '@').
func userNames(o *out, prefix, upn string) {
	if upn == "" {
		return
	}
	if name, domain, ok := splitUPN(upn); ok {
		o.addString(prefix+"email", upn)
		o.addString(prefix+"name", name)
		o.addString(prefix+"domain", domain)
		return
	}
	o.addString(prefix+"name", upn)
}

// auditProperties adds azure.auditlogs.properties.* as Elastic names them.
func (a *Audit) auditProperties(props *fastjson.Object, au *audit) {
	o, n := &a.o, &a.n
	const ns = "azure.auditlogs.properties."
	props.Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case "activityDisplayName":
			o.value(ns+"activity_display_name", v)
		case "activityDateTime":
			au.activity = v
			o.value(ns+"activity_datetime", v)
		case "additionalDetails":
			for _, d := range v.GetArray() {
				if str(d.Get("key")) == "User-Agent" && au.userAgent == "" {
					au.userAgent = str(d.Get("value"))
				}
			}
			n.walkValue(o, ns+"additional_details", v, false)
		case "resultReason":
			if r := text(v); r != "" {
				o.addString("event.reason", r)
			}
			o.value(ns+"result_reason", v)
		case "result":
			au.result = str(v)
			if r := strings.ToLower(au.result); r != "success" && r != "failure" {
				o.value(ns+"result", v)
			}
		case "correlationId":
			o.value(ns+"correlation_id", v)
		case "loggedByService":
			o.value(ns+"logged_by_service", v)
		case "operationType":
			au.opType = str(v)
			o.value(ns+"operation_type", v)
		case "initiatedBy":
			au.initiatedBy = v
			n.walkValue(o, ns+"initiated_by", v, false)
		case "targetResources":
			au.targets = v
			a.targetResources(ns+"target_resources.", v)
		case "userAgent":
			if s := str(v); s != "" {
				au.userAgent = s
			}
			n.walkValue(o, ns+"userAgent", v, false)
		default:
			n.walkValue(o, n.join(ns, k, false), v, false)
		}
	})
}

// targetResources adds the targets as Elastic's painless script keeps
// them: by index, with display_name, id, type, ip_address,
// user_principal_name and modified_properties.<j>.display_name /
// new_value / old_value.
func (a *Audit) targetResources(prefix string, v *fastjson.Value) {
	o, n := &a.o, &a.n
	arr, err := v.Array()
	if err != nil {
		n.walkValue(o, strings.TrimSuffix(prefix, "."), v, false)
		return
	}
	var idx [20]byte
	for i, t := range arr {
		if t.Type() != fastjson.TypeObject {
			continue
		}
		p := n.dot(n.join(prefix, itoa(idx[:0], i), false))
		for _, f := range [...]struct{ from, to string }{
			{"displayName", "display_name"}, {"id", "id"}, {"type", "type"},
			{"ipAddress", "ip_address"}, {"userPrincipalName", "user_principal_name"},
		} {
			if x := t.Get(f.from); x != nil {
				n.walkValue(o, n.join(p, []byte(f.to), false), x, false)
			}
		}
		mp := n.join(p, []byte("modified_properties."), false)
		for j, m := range t.GetArray("modifiedProperties") {
			q := n.dot(n.join(mp, itoa(idx[:0], j), false))
			for _, f := range [...]struct{ from, to string }{
				{"displayName", "display_name"}, {"newValue", "new_value"}, {"oldValue", "old_value"},
			} {
				if x := m.Get(f.from); x != nil {
					n.walkValue(o, n.join(q, []byte(f.to), false), x, false)
				}
			}
		}
	}
}

func itoa(b []byte, i int) []byte {
	if i >= 10 {
		b = itoa(b, i/10)
	}
	return append(b, byte('0'+i%10))
}
