// Package zeek reads the logs of the Zeek network security monitor written
// as JSON, one record a line (LogAscii::use_json, the json-streaming-logs
// package, Corelight sensors), into events with the names of Elastic's
// Zeek integration: event.dataset zeek.<log>, the connection's endpoints
// as source.* and destination.*, the values ECS names (the DNS question,
// the HTTP request, TLS server names, file hashes, mail senders) under
// those names, and every other key under zeek.<log>.<key> as Zeek writes
// it. Each value is stored once. See README.md.
package zeek
