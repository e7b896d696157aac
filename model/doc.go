// Package model talks to model providers over the OpenAI Responses API
// (MODEL.md): the Codex configuration keys that name a model and its
// provider (Config, Provider), and a Client that streams one response,
// POST {base_url}/responses, retrying 429, 5xx and dropped streams with
// backoff and reporting each retry.
//
// The package knows nothing of threads or the app-server protocol: the
// caller passes the whole conversation as Responses input items and gets
// the streamed events and the output items back. It is a leaf: it imports
// the standard library and the OpenAI Go SDK's server-sent events decoder
// (github.com/openai/openai-go/v3/packages/ssestream). The request is
// built with net/http and the events are read into this package's own
// structs rather than through the SDK's responses package: that package
// (its thousands of types, the unions it registers by reflection when the
// process starts) is linked into and initialized by every server process,
// and it cost 2.3 MiB of resident memory at startup, model used or not
// (docs/BENCHMARKS.md).
package model
