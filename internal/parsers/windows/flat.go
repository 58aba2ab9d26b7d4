package windows

import (
	"github.com/valyala/fastjson"
)

// flatKeys maps the header keys of flat records (NXLog im_msvistalog, the
// OTRF/Mordor datasets, Sentinel's WindowsEvent exports) to header slots.
var flatKeys = map[string]int{
	"EventID":            hEventID,
	"EventId":            hEventID,
	"Qualifiers":         hQualifiers,
	"Version":            hVersion,
	"Level":              hLevel,
	"Task":               hTask,
	"OpcodeValue":        hOpcode,
	"Keywords":           hKeywords,
	"TimeCreated":        hTime,
	"RecordNumber":       hRecordID,
	"EventRecordID":      hRecordID,
	"EventRecordId":      hRecordID,
	"ActivityID":         hActivityID,
	"RelatedActivityID":  hRelatedActivityID,
	"ExecutionProcessID": hPID,
	"ThreadID":           hTID,
	"ExecutionThreadID":  hTID,
	"Channel":            hChannel,
	"Hostname":           hComputer,
	"Computer":           hComputer,
	"ComputerName":       hComputer,
	"UserID":             hUserID,
	"SourceName":         hProvider,
	"Provider_Name":      hProvider,
	"ProviderGuid":       hProviderGUID,
	"Provider_Guid":      hProviderGUID,
	"EventSourceName":    hEventSource,
}

// flatRendered maps flat keys holding rendered text or shipper metadata.
var flatRendered = map[string]int{
	"Message":    rMessage,
	"Category":   rTask,
	"@timestamp": rFallbackTime,
}

// nxlogUser maps the keys NXLog adds for the account of the event's
// Security UserID. They are event data in records from other shippers
// (4778's AccountName is).
var nxlogUser = map[string]int{
	"AccountName": rUserName,
	"Domain":      rUserDomain,
	"AccountType": rUserType,
}

// flatMeta are keys a shipper adds that are not event data.
var flatMeta = map[string]bool{
	"EventTime": true, "EventReceivedTime": true, "SourceModuleName": true, "SourceModuleType": true,
	"@version": true, "host": true, "port": true, "tags": true, "Severity": true, "SeverityValue": true,
	"EventTypeOrignal": true, "Opcode": true, "type": true, "TenantId": true, "TimeGenerated": true,
}

// nxlogEventTypes are the values NXLog writes to EventType; a Sysmon
// registry event's own EventType (CreateKey, SetValue ...) is event data.
var nxlogEventTypes = map[string]bool{
	"INFO": true, "WARNING": true, "ERROR": true, "CRITICAL": true, "VERBOSE": true, "DEBUG": true,
	"AUDIT_SUCCESS": true, "AUDIT_FAILURE": true,
}

// nxlogSeverity maps NXLog's SeverityValue back to the Windows level.
var nxlogSeverity = map[string]string{"1": "5", "2": "4", "3": "3", "4": "2", "5": "1"}

// decodeFlat reads a flat record: header and event data side by side at
// the top level under the names Sigma rules use. Every key is kept as it
// stands (these are the native fields); header keys named otherwise
// (SourceName, Hostname, RecordNumber ...) also fill the native names.
func (p *Parser) decodeFlat(o *fastjson.Object) error {
	var severity span
	haveSeverity := false
	nxlog := o.Get("SourceModuleType") != nil || o.Get("SourceModuleName") != nil
	o.Visit(func(key []byte, v *fastjson.Value) {
		p.flattenValue("", key, v)
		if v.Type() == fastjson.TypeNull || v.Type() == fastjson.TypeObject {
			return
		}
		k := string(key)
		if slot, ok := flatKeys[k]; ok {
			if slot == hLevel && v.Type() == fastjson.TypeString && !isDigits(v.GetStringBytes()) {
				p.raw.setRend(rLevel, p.putText(v))
				return
			}
			p.raw.setHdr(slot, p.putText(v))
			if hdrNames[slot] == k {
				p.raw.verbatim |= 1 << slot
			}
			return
		}
		if slot, ok := flatRendered[k]; ok {
			p.raw.setRend(slot, p.putText(v))
			return
		}
		if slot, ok := nxlogUser[k]; ok && nxlog {
			p.raw.setRend(slot, p.putText(v))
			return
		}
		switch k {
		case "Opcode":
			if v.Type() == fastjson.TypeNumber || isDigits(v.GetStringBytes()) {
				p.raw.setHdr(hOpcode, p.putText(v))
				p.raw.verbatim |= 1 << hOpcode
			} else {
				p.raw.setRend(rOpcode, p.putText(v))
			}
			return
		case "SeverityValue":
			severity, haveSeverity = p.putText(v), true
			return
		case "EventType":
			if v.Type() == fastjson.TypeString && nxlogEventTypes[string(v.GetStringBytes())] {
				return
			}
		}
		if flatMeta[k] {
			return
		}
		p.raw.data = append(p.raw.data, pair{p.put(key), p.putText(v)})
	})
	if p.raw.hdrSet&(1<<hLevel) == 0 && haveSeverity {
		if l, ok := nxlogSeverity[string(p.buf[severity.off:severity.end])]; ok {
			p.raw.setHdr(hLevel, p.putString(l))
		}
	}
	return nil
}

func isDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
