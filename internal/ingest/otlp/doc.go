// Package otlp is the OpenTelemetry logs receiver: OTLP/HTTP (POST
// /v1/logs, protobuf or JSON, gzip) and OTLP/gRPC
// (opentelemetry.proto.collector.logs.v1.LogsService/Export), for the
// OpenTelemetry SDKs' log exporters and the OpenTelemetry Collector's
// otlphttp and otlp exporters. Requests are decoded with the Collector's
// own pdata library.
//
// It frames and authenticates, nothing more. The bearer token (HTTP
// Authorization header or gRPC "authorization" metadata; Basic with the
// token as password also works) is a Tarian ingest token and the only
// source of the tenant: a resource attribute such as tenant.id never
// chooses one (a mismatch is only counted).
//
// Each log record becomes one event.Raw with Source "otlp" whose Data is
// one flat JSON object: @timestamp, message or body, log.level,
// event.severity, trace.id, span.id, attributes, resource.attributes,
// scope.name and scope.version, and the ECS fields that OpenTelemetry
// resource conventions name directly (service.name, host.name, …; the
// README has the table). The parser after the bus flattens it like any
// JSON record.
//
// Every record of a request is written to the sink in one call, which
// returns once they are durable, before the reply. A record that cannot
// be an event (a string that is not UTF-8, an empty record, one over
// max_record_bytes) is dead-lettered with the reason and reported to the
// shipper as rejected in partial_success; a body that is not an OTLP
// request is dead-lettered whole and answered 400. Back-pressure is
// answered the way OTLP clients retry: HTTP 429 or 503 with Retry-After,
// gRPC UNAVAILABLE with RetryInfo.
package otlp
