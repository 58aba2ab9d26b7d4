// Package microsoft parses Microsoft cloud records: Entra ID (Azure AD)
// sign-in and audit logs, the Microsoft 365 unified audit log, Microsoft
// 365 Defender advanced-hunting rows and Graph security alerts, the Azure
// Activity log, and Microsoft Sentinel (Log Analytics) table rows.
//
// Each log-source type has a parser with the format-parser contract of
// internal/parse (Parse appends fields to an event; the zero value is
// ready; not safe for concurrent use) and a Sniff function for detection:
//
//	entra-signin   SignIn    SniffSignIn    azure.signinlogs.* + ECS, as Elastic's azure integration
//	entra-audit    Audit     SniffAudit     azure.auditlogs.* + ECS, as Elastic's azure integration
//	m365-audit     M365      SniffM365      o365.audit.* + ECS, as Elastic's o365 integration
//	m365-defender  Defender  SniffDefender  m365_defender.event.* / .alert.* + ECS
//	azure-activity Activity  SniffActivity  azure.activitylogs.* + ECS, as Elastic's azure integration
//	sentinel       Sentinel  SniffSentinel  any of the above by the row's Type; Windows rows
//
// Every record arrives in one of several shapes (the Azure Monitor
// diagnostic form from Event Hub or a storage account, the Microsoft Graph
// resource a poller fetches, a Sentinel export row, a Wazuh-wrapped
// record); each parser turns the others into the shape Elastic's pipeline
// reads and then emits the same fields for all of them.
//
// Payloads often hold many records (Event Hub's {"records":[...]}, a
// Management Activity API content blob, a Graph page). Split cuts them
// into records; the pipeline calls it before Parse.
//
// Values copied from a payload are gathered in one buffer per event that
// becomes a single string, and field names come from a cache, so a parsed
// event costs a handful of allocations whatever its size.
package microsoft
