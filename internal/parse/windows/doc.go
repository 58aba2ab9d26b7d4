// Package windows parses Windows event log records — Security, Sysmon,
// PowerShell, System and any other channel — in every shape shippers send
// them, detected record by record:
//
//   - evtx-style JSON, as evtx_dump and SigmaHQ's regression data write it:
//     {"Event":{"System":{"EventID":1,"Provider":{"#attributes":{"Name":...}},...},"EventData":{...}}}
//     (attributes as "#attributes" objects or "<Element>_attributes" siblings;
//     EventData as named keys, Data lists or Data items; UserData);
//   - flat JSON, as NXLog (im_msvistalog) and the OTRF/Mordor datasets ship it:
//     {"EventID":4688,"Channel":"Security","Hostname":...,"SourceName":...,"NewProcessName":...};
//   - Winlogbeat / Elastic Agent documents: winlog.event_id, winlog.channel,
//     winlog.event_data.*, with the XML rendering in event.original when kept;
//   - the Windows XML rendering (<Event xmlns=...><System>...</System><EventData>
//     <Data Name='X'>v</Data>...</EventData></Event>), read by a single-pass
//     scanner.
//
// Whatever the shape, an event gets the same three layers (the pipeline adds
// event.original and @timestamp from the time Parse sets):
//
//   - native: the names Sigma rules use and internal/detect's mapping gives
//     evtx events — EventID, Channel, Provider_Name, Provider_Guid, Computer,
//     Level, Task, Opcode, Keywords, Version, EventRecordID,
//     TimeCreated_SystemTime, Execution_ProcessID, Execution_ThreadID,
//     Security_UserID, Correlation_ActivityID, and every EventData and
//     UserData value under its own name (Image, CommandLine, TargetObject,
//     ...); unnamed Data as the list Data and as param1, param2, ...;
//   - winlog.*: as Winlogbeat names them (winlog.event_id, winlog.channel,
//     winlog.provider_name, winlog.computer_name, winlog.record_id,
//     winlog.process.pid, winlog.event_data.<Name>, winlog.user_data.*, ...);
//   - ECS: what Elastic's integration pipelines derive for the channel —
//     windows.sysmon_operational (process.*, file.*, dll.*, network,
//     source/destination, dns.*, registry.*, hashes, user.*, related.*),
//     system.security (event.action per event id, user.* and its target and
//     effective users, source.*, winlog.logon.*, group.*),
//     windows.powershell_operational and windows.powershell (powershell.*,
//     process.*), and for every channel event.kind/code/provider/created/
//     module/dataset/outcome, log.level and host.name.
//
// A JSON record's own fields are kept as they stand too (the flat shape's
// keys are its native fields).
package windows
