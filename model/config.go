package model

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Config holds the model keys of a Codex config.toml. The toml tags are
// Codex's key names, so a user's Codex configuration works as it is.
type Config struct {
	// Model is the model new threads use ("" runs them with the shell
	// agent unless a thread asks for a model).
	Model string `toml:"model"`
	// ModelProvider is the id of the provider: a key of ModelProviders or
	// a built-in (openai, ollama, lmstudio). Default "openai".
	ModelProvider string `toml:"model_provider"`
	// ModelReasoningEffort is sent as reasoning.effort when set:
	// minimal | low | medium | high (other values are passed on).
	ModelReasoningEffort string `toml:"model_reasoning_effort"`
	// ModelReasoningSummary is sent as reasoning.summary when set:
	// auto | concise | detailed | none.
	ModelReasoningSummary string `toml:"model_reasoning_summary"`
	// ModelProviders are the configured providers by id; an entry with a
	// built-in's id replaces the built-in.
	ModelProviders map[string]ProviderConfig `toml:"model_providers"`
	// OpenAIBaseURL replaces the base URL of the built-in openai provider
	// (a gateway or proxy in front of OpenAI).
	OpenAIBaseURL string `toml:"openai_base_url"`
}

// ProviderConfig is one [model_providers.<id>] table.
type ProviderConfig struct {
	// Name is shown to people.
	Name string `toml:"name"`
	// BaseURL is the API root; requests go to BaseURL + "/responses".
	BaseURL string `toml:"base_url"`
	// EnvKey names the environment variable holding the API key, sent as
	// "Authorization: Bearer <key>". Empty: no key is sent.
	EnvKey string `toml:"env_key"`
	// EnvKeyInstructions tells people how to get a key; it ends the error
	// of a missing key.
	EnvKeyInstructions string `toml:"env_key_instructions"`
	// ExperimentalBearerToken is the API key itself, for a provider without
	// EnvKey (Codex's key; with EnvKey set, Codex 0.169.0 uses the
	// variable and so does this server).
	ExperimentalBearerToken string `toml:"experimental_bearer_token"`
	// WireAPI must be "responses" (the default).
	WireAPI string `toml:"wire_api"`
	// HTTPHeaders are sent with every request.
	HTTPHeaders map[string]string `toml:"http_headers"`
	// EnvHTTPHeaders are headers whose values come from environment
	// variables (header -> variable); unset variables send nothing.
	EnvHTTPHeaders map[string]string `toml:"env_http_headers"`
	// QueryParams are added to the request URL.
	QueryParams map[string]string `toml:"query_params"`
	// RequestMaxRetries bounds the retries of a request that failed before
	// its stream began (connection error, 429, 5xx). Default 4.
	RequestMaxRetries *int64 `toml:"request_max_retries"`
	// StreamMaxRetries bounds the retries of a stream that broke off
	// before response.completed. Default 5.
	StreamMaxRetries *int64 `toml:"stream_max_retries"`
	// StreamIdleTimeoutMs is how long a stream may stay silent before it
	// counts as dropped. Default 300000.
	StreamIdleTimeoutMs *int64 `toml:"stream_idle_timeout_ms"`
	// RequiresOpenAIAuth is accepted for compatibility with Codex files;
	// this server has no ChatGPT login and uses EnvKey only.
	RequiresOpenAIAuth bool `toml:"requires_openai_auth"`
}

// Defaults of the retry and idle settings (Codex's).
const (
	DefaultRequestMaxRetries = 4
	DefaultStreamMaxRetries  = 5
	DefaultStreamIdleTimeout = 300 * time.Second
	// maxRetriesCap bounds configured retry counts, as Codex does.
	maxRetriesCap = 100
)

// DefaultProvider is the provider of a config that names none.
const DefaultProvider = "openai"

// builtinProviders are the providers every config has.
var builtinProviders = map[string]ProviderConfig{
	"openai":   {Name: "OpenAI", BaseURL: "https://api.openai.com/v1", EnvKey: "OPENAI_API_KEY", WireAPI: wireResponses},
	"ollama":   {Name: "Ollama", BaseURL: "http://localhost:11434/v1", WireAPI: wireResponses},
	"lmstudio": {Name: "LM Studio", BaseURL: "http://localhost:1234/v1", WireAPI: wireResponses},
}

const wireResponses = "responses"

// Provider is a resolved provider: its id and configuration with the
// defaults filled in.
type Provider struct {
	ID string
	ProviderConfig
}

// ProviderIDs lists the built-in and configured provider ids, sorted.
func (c *Config) ProviderIDs() []string {
	ids := slices.Collect(maps.Keys(builtinProviders))
	for id := range c.ModelProviders {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// DefaultProviderID is the model_provider key, or openai.
func (c *Config) DefaultProviderID() string {
	if c.ModelProvider == "" {
		return DefaultProvider
	}
	return c.ModelProvider
}

// Provider resolves a provider id ("" means the configured default).
func (c *Config) Provider(id string) (Provider, error) {
	if id == "" {
		id = c.DefaultProviderID()
	}
	pc, ok := c.ModelProviders[id]
	if !ok {
		if pc, ok = builtinProviders[id]; !ok {
			return Provider{}, fmt.Errorf("unknown model provider %q: configure [model_providers.%s] or use one of %s", id, id, strings.Join(c.ProviderIDs(), ", "))
		}
		if id == DefaultProvider && c.OpenAIBaseURL != "" {
			pc.BaseURL = c.OpenAIBaseURL
		}
	}
	p := Provider{ID: id, ProviderConfig: pc}
	if p.Name == "" {
		p.Name = id
	}
	if p.WireAPI == "" {
		p.WireAPI = wireResponses
	}
	return p, nil
}

// Validate checks what the TOML types do not. Errors name the key.
func (c *Config) Validate() error {
	if _, err := c.Provider(c.ModelProvider); err != nil {
		return fmt.Errorf("model_provider: %w", err)
	}
	if s := c.ModelReasoningSummary; s != "" && !slices.Contains([]string{"auto", "concise", "detailed", "none"}, s) {
		return fmt.Errorf("model_reasoning_summary = %q: want auto, concise, detailed or none", s)
	}
	if c.OpenAIBaseURL != "" && !isHTTPURL(c.OpenAIBaseURL) {
		return fmt.Errorf("openai_base_url = %q: want an http:// or https:// URL", c.OpenAIBaseURL)
	}
	for _, id := range slices.Sorted(maps.Keys(c.ModelProviders)) {
		p := c.ModelProviders[id]
		key := "model_providers." + id
		if p.BaseURL == "" {
			return fmt.Errorf("%s.base_url is missing", key)
		}
		if !isHTTPURL(p.BaseURL) {
			return fmt.Errorf("%s.base_url = %q: want an http:// or https:// URL", key, p.BaseURL)
		}
		if p.WireAPI != "" && p.WireAPI != wireResponses {
			return fmt.Errorf("%s.wire_api = %q: only \"responses\" is supported", key, p.WireAPI)
		}
		for name, v := range map[string]*int64{"request_max_retries": p.RequestMaxRetries, "stream_max_retries": p.StreamMaxRetries, "stream_idle_timeout_ms": p.StreamIdleTimeoutMs} {
			if v != nil && *v < 0 {
				return fmt.Errorf("%s.%s = %d: must not be negative", key, name, *v)
			}
		}
	}
	return nil
}

// isHTTPURL reports whether s is an http or https URL with a host.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func (p *Provider) requestRetries() int {
	return retries(p.RequestMaxRetries, DefaultRequestMaxRetries)
}
func (p *Provider) streamRetries() int { return retries(p.StreamMaxRetries, DefaultStreamMaxRetries) }

func retries(v *int64, def int) int {
	if v == nil {
		return def
	}
	return int(min(*v, maxRetriesCap))
}

func (p *Provider) idleTimeout() time.Duration {
	if p.StreamIdleTimeoutMs == nil || *p.StreamIdleTimeoutMs == 0 {
		return DefaultStreamIdleTimeout
	}
	return time.Duration(*p.StreamIdleTimeoutMs) * time.Millisecond
}
