// Package model talks to model providers over the OpenAI Responses API
// (MODEL.md): the Codex configuration keys that name a model and its
// provider (Config, Provider), and a Client that streams one response,
// POST {base_url}/responses, retrying 429, 5xx and dropped streams with
// backoff and reporting each retry.
//
// The package knows nothing of threads or the app-server protocol: the
// caller passes the whole conversation as Responses input items and gets
// the streamed events and the output items back. It is a leaf: it imports
// the standard library and the OpenAI Go SDK (github.com/openai/openai-go),
// which builds the HTTP request and decodes the server-sent events.
package model
