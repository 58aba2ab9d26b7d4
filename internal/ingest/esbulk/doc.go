// Package esbulk is the Elasticsearch bulk API emulation: Winlogbeat,
// Filebeat, Elastic Agent (standalone), Logstash, Fluent Bit, Vector and the
// official Elasticsearch clients send to Tarian as if it were an
// Elasticsearch 8 cluster.
//
// It answers what those shippers ask at start (GET / with the configured
// version, GET /_license, cluster health, nodes) and accepts and ignores
// what they try to set up (index and component templates, ILM policies,
// ingest pipelines, data streams, indices and aliases), so that none of
// them needs special configuration. Every reply carries
// X-Elastic-Product: Elasticsearch, which the clients' product check
// requires.
//
// POST|PUT /_bulk and /<index>/_bulk take NDJSON action and document
// pairs (gzip allowed). The create and index actions write their document,
// byte for byte, as an event.Raw with Source "elasticsearch"; the target
// index is not kept (the document's own data_stream.* and agent.* fields
// say what it is). delete and update get a per-item error (nothing is
// silently ignored); a document that is not a JSON object gets a per-item
// 400 and is dead-lettered with the reason. All good documents of a request
// go to the sink in one write, which returns once they are durable, before
// the reply. A sink under back-pressure makes the whole request 429 with
// every item 429 (es_rejected_execution_exception), which every shipper
// retries; a body over max_body_bytes is 413, on which Beats split the
// batch.
//
// The tenant comes only from the credential: an ingest token sent as an API
// key (Authorization: ApiKey base64(id:token), any id), as the password of
// basic auth (any user name), or as a bearer token.
package esbulk
