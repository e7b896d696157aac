package model

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"app-server/model/responsestest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a Handler that keeps what it is told.
type recorder struct {
	events  []string
	retries []*Error
}

func (r *recorder) ItemAdded(it Item)                  { r.events = append(r.events, "added "+it.Type+" "+it.ID) }
func (r *recorder) TextDelta(id, d string)             { r.events = append(r.events, "delta "+id+" "+d) }
func (r *recorder) ReasoningSummaryPart(string, int64) {}
func (r *recorder) ReasoningSummaryDelta(id string, _ int64, d string) {
	r.events = append(r.events, "summary "+id+" "+d)
}
func (r *recorder) ReasoningTextDelta(id string, _ int64, d string) {
	r.events = append(r.events, "text "+id+" "+d)
}
func (r *recorder) ItemDone(it Item) { r.events = append(r.events, "done "+it.Type+" "+it.ID) }
func (r *recorder) Retrying(err *Error, n, max int, _ time.Duration) {
	r.retries = append(r.retries, err)
}

func newTestClient(t *testing.T, srv *responsestest.Server, mut func(*ProviderConfig)) *Client {
	t.Helper()
	zero := int64(2)
	pc := ProviderConfig{BaseURL: srv.BaseURL(), RequestMaxRetries: &zero, StreamMaxRetries: &zero,
		HTTPHeaders: map[string]string{"X-Team": "ide"}, QueryParams: map[string]string{"api-version": "7"}}
	if mut != nil {
		mut(&pc)
	}
	cfg := Config{ModelProvider: "mock", ModelProviders: map[string]ProviderConfig{"mock": pc}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := cfg.Provider("")
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(p, nil)
	c.backoff = func(int) time.Duration { return time.Millisecond }
	t.Cleanup(func() { c.http.CloseIdleConnections() })
	return c
}

func TestStreamMessageToolCallAndRequestShape(t *testing.T) {
	srv := responsestest.New()
	defer srv.Close()
	srv.Enqueue(responsestest.Response("r1",
		responsestest.Reasoning("rs1", "thinking"),
		responsestest.Message("m1", "Hel", "lo"),
		responsestest.ExecCommand("call1", "ls"),
	))
	t.Setenv("MOCK_KEY", "sekret")
	c := newTestClient(t, srv, func(p *ProviderConfig) { p.EnvKey = "MOCK_KEY" })
	var h recorder
	res, err := c.Stream(context.Background(), &Request{Model: "m", Input: []json.RawMessage{UserMessage("hi")}, Tools: Tools(), PromptCacheKey: "t1"}, &h)
	if err != nil {
		t.Fatal(err)
	}
	want := "added reasoning rs1|summary rs1 thinking|done reasoning rs1|added message m1|delta m1 Hel|delta m1 lo|done message m1|added function_call fc_call1|done function_call fc_call1"
	if got := strings.Join(h.events, "|"); got != want {
		t.Errorf("events\n got %s\nwant %s", got, want)
	}
	if len(res.Output) != 3 || res.Output[1].Text != "Hello" || res.Output[2].Arguments != `{"cmd":"ls"}` || res.Output[2].CallID != "call1" {
		t.Errorf("output = %+v", res.Output)
	}
	if res.Usage.TotalTokens != 15 || res.Usage.InputTokens != 10 {
		t.Errorf("usage = %+v", res.Usage)
	}
	if got := string(res.Output[2].Replay); got != `{"arguments":"{\"cmd\":\"ls\"}","call_id":"call1","name":"exec_command","type":"function_call"}` {
		t.Errorf("replay = %s", got)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if got := r.Header.Get("Authorization"); got != "Bearer sekret" {
		t.Errorf("Authorization = %q", got)
	}
	if got := r.Header.Get("X-Team"); got != "ide" {
		t.Errorf("X-Team = %q", got)
	}
	if r.Query != "api-version=7" {
		t.Errorf("query = %q", r.Query)
	}
	body := r.JSON()
	for k, v := range map[string]any{"model": "m", "stream": true, "store": false, "parallel_tool_calls": false, "tool_choice": "auto", "prompt_cache_key": "t1"} {
		if body[k] != v {
			t.Errorf("body[%s] = %v, want %v", k, body[k], v)
		}
	}
	if _, ok := body["previous_response_id"]; ok {
		t.Error("previous_response_id sent")
	}
}

// The key is env_key's variable when env_key is set, else
// experimental_bearer_token, else none; as Codex 0.169.0 sends it.
func TestBearerToken(t *testing.T) {
	t.Setenv("MOCK_KEY", "from-env")
	for _, tc := range []struct {
		name, envKey, token, want string
	}{
		{"env_key", "MOCK_KEY", "", "Bearer from-env"},
		{"env_key wins", "MOCK_KEY", "from-config", "Bearer from-env"},
		{"experimental_bearer_token", "", "from-config", "Bearer from-config"},
		{"none", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := responsestest.New()
			defer srv.Close()
			srv.Enqueue(responsestest.Response("r1", responsestest.Message("m1", "ok")))
			c := newTestClient(t, srv, func(p *ProviderConfig) { p.EnvKey, p.ExperimentalBearerToken = tc.envKey, tc.token })
			if _, err := c.Stream(context.Background(), &Request{Model: "m"}, &recorder{}); err != nil {
				t.Fatal(err)
			}
			if got := srv.Requests()[0].Header.Get("Authorization"); got != tc.want {
				t.Errorf("Authorization = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMissingKeyIsAnErrorOfTheCallNotOfTheConfig(t *testing.T) {
	srv := responsestest.New()
	defer srv.Close()
	c := newTestClient(t, srv, func(p *ProviderConfig) { p.EnvKey = "APP_SERVER_TEST_UNSET_KEY" })
	_, err := c.Stream(context.Background(), &Request{Model: "m"}, &recorder{})
	var merr *Error
	if !errors.As(err, &merr) || merr.Kind != ErrMissingKey || !strings.Contains(err.Error(), "APP_SERVER_TEST_UNSET_KEY") {
		t.Fatalf("err = %v", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent without a key", n)
	}
}

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		replies  []responsestest.Reply
		wantErr  ErrorKind // 0: success
		status   int
		attempts int
		retries  int
	}{
		{name: "500 then success", replies: []responsestest.Reply{{Status: 500, Body: `{"error":{"message":"boom"}}`}, responsestest.Response("r", responsestest.Message("m", "ok"))}, retries: 1},
		{name: "429 exhausts request retries", replies: []responsestest.Reply{{Status: 429}, {Status: 429}, {Status: 429}}, wantErr: ErrStatus, status: 429, attempts: 3, retries: 2},
		{name: "400 is not retried", replies: []responsestest.Reply{{Status: 400, Body: `{"error":{"message":"bad model","type":"invalid_request_error"}}`}}, wantErr: ErrStatus, status: 400, attempts: 1},
		{name: "dropped stream then success", replies: []responsestest.Reply{{Events: responsestest.Message("m", "par"), Abort: true}, responsestest.Response("r", responsestest.Message("m", "ok"))}, retries: 1},
		{name: "stream closed early", replies: []responsestest.Reply{{Events: responsestest.Message("m", "x")}, {Events: responsestest.Message("m", "x")}, {Events: responsestest.Message("m", "x")}}, wantErr: ErrStreamDropped, attempts: 3, retries: 2},
		{name: "malformed is not retried", replies: []responsestest.Reply{{Raw: "event: response.created\ndata: {not json\n\n"}}, wantErr: ErrMalformed, attempts: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := responsestest.New()
			defer srv.Close()
			srv.Enqueue(tc.replies...)
			c := newTestClient(t, srv, nil)
			var h recorder
			_, err := c.Stream(context.Background(), &Request{Model: "m"}, &h)
			if len(h.retries) != tc.retries {
				t.Errorf("%d retries announced, want %d", len(h.retries), tc.retries)
			}
			if tc.wantErr == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var merr *Error
			if !errors.As(err, &merr) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if merr.Kind != tc.wantErr || merr.StatusCode != tc.status || merr.Attempts != tc.attempts {
				t.Errorf("err = %+v, want kind %d status %d attempts %d", merr, tc.wantErr, tc.status, tc.attempts)
			}
		})
	}
}

func TestInterruptAbortsTheRequest(t *testing.T) {
	srv := responsestest.New()
	defer srv.Close()
	srv.Enqueue(responsestest.Reply{Events: responsestest.Message("m", "a"), Hang: true})
	c := newTestClient(t, srv, nil)
	ctx, cancel := context.WithCancel(context.Background())
	h := &cancelOnDelta{cancel: cancel}
	done := make(chan error, 1)
	go func() {
		_, err := c.Stream(ctx, &Request{Model: "m"}, h)
		done <- err
	}()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	reqs := srv.Requests()
	select {
	case <-reqs[0].ClientGone:
	case <-time.After(5 * time.Second):
		t.Fatal("the provider's connection stayed open after the interrupt")
	}
}

type cancelOnDelta struct {
	recorder
	cancel context.CancelFunc
}

func (c *cancelOnDelta) TextDelta(string, string) { c.cancel() }

func TestIdleTimeoutCountsAsDroppedStream(t *testing.T) {
	srv := responsestest.New()
	defer srv.Close()
	srv.Enqueue(responsestest.Reply{Events: responsestest.Message("m", "a"), Hang: true}, responsestest.Response("r", responsestest.Message("m", "ok")))
	c := newTestClient(t, srv, func(p *ProviderConfig) { ms := int64(100); p.StreamIdleTimeoutMs = &ms })
	var h recorder
	if _, err := c.Stream(context.Background(), &Request{Model: "m"}, &h); err != nil {
		t.Fatal(err)
	}
	if len(h.retries) != 1 || h.retries[0].Kind != ErrStreamDropped || !strings.Contains(h.retries[0].Message, "idle") {
		t.Errorf("retries = %+v", h.retries)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{ModelProvider: "nope"}, `unknown model provider "nope"`},
		{Config{ModelProviders: map[string]ProviderConfig{"x": {}}}, "model_providers.x.base_url is missing"},
		{Config{ModelProviders: map[string]ProviderConfig{"x": {BaseURL: "ftp://h"}}}, "want an http:// or https:// URL"},
		{Config{ModelProviders: map[string]ProviderConfig{"x": {BaseURL: "http://h", WireAPI: "chat"}}}, `only "responses"`},
		{Config{ModelReasoningSummary: "loud"}, "model_reasoning_summary"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	var c Config
	for _, id := range []string{"openai", "ollama", "lmstudio"} {
		if _, err := c.Provider(id); err != nil {
			t.Errorf("built-in %s: %v", id, err)
		}
	}
	p, _ := c.Provider("")
	if p.ID != "openai" || p.EnvKey != "OPENAI_API_KEY" {
		t.Errorf("default provider = %+v", p)
	}
}

// What local servers send: data lines without event lines, a [DONE]
// sentinel, CRLF, comments; and an error object inside the stream.
func TestLocalServerStreams(t *testing.T) {
	completed := `{"type":"response.completed","response":{"id":"r","status":"completed","output":[],"usage":{"input_tokens":1,"output_tokens":1,"total_tokens":2}}}`
	added := `{"type":"response.output_item.added","output_index":0,"item":{"type":"message","id":"m","role":"assistant","content":[]}}`
	delta := `{"type":"response.output_text.delta","item_id":"m","output_index":0,"content_index":0,"delta":"hi"}`
	done := `{"type":"response.output_item.done","output_index":0,"item":{"type":"message","id":"m","role":"assistant","content":[{"type":"output_text","text":"hi"}]}}`
	for _, tc := range []struct {
		name, raw string
		wantErr   string
	}{
		{name: "data lines only", raw: "data: " + added + "\n\ndata: " + delta + "\n\ndata: " + done + "\n\ndata: " + completed + "\n\ndata: [DONE]\n\n"},
		{name: "CRLF and comments", raw: ": keep-alive\r\n\r\nevent: response.output_item.added\r\ndata: " + added + "\r\n\r\ndata: " + delta + "\r\n\r\ndata: " + done + "\r\n\r\ndata: " + completed + "\r\n\r\n"},
		{name: "done before completed", raw: "data: " + added + "\n\ndata: [DONE]\n\n", wantErr: "closed before response.completed"},
		{name: "error object", raw: "data: {\"error\":{\"message\":\"model overloaded\"}}\n\n", wantErr: "model overloaded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := responsestest.New()
			defer srv.Close()
			zero := int64(0)
			srv.Enqueue(responsestest.Reply{Raw: tc.raw})
			c := newTestClient(t, srv, func(p *ProviderConfig) { p.StreamMaxRetries = &zero })
			var h recorder
			res, err := c.Stream(context.Background(), &Request{Model: "m"}, &h)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Output) != 1 || res.Output[0].Text != "hi" || strings.Join(h.events, "|") != "added message m|delta m hi|done message m" {
				t.Errorf("output %+v, events %v", res.Output, h.events)
			}
		})
	}
}

// An HTTP error status names the provider's message: the error object's
// when the body is one, else the body itself (a proxy's page, a local
// server's plain text).
func TestErrorStatusCarriesTheProviderMessage(t *testing.T) {
	for _, tc := range []struct {
		name, body, wantMsg, wantCode string
	}{
		{name: "error object", body: `{"error":{"message":"context too long","type":"invalid_request_error","code":"context_length_exceeded"}}`,
			wantMsg: "model provider mock answered 400 Bad Request: context too long", wantCode: "context_length_exceeded"},
		{name: "plain text", body: "404 page not found\n", wantMsg: "model provider mock answered 400 Bad Request: 404 page not found"},
		{name: "empty", wantMsg: "model provider mock answered 400 Bad Request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := responsestest.New()
			defer srv.Close()
			srv.Enqueue(responsestest.Reply{Status: 400, Body: tc.body})
			c := newTestClient(t, srv, nil)
			_, err := c.Stream(context.Background(), &Request{Model: "m"}, &recorder{})
			var merr *Error
			if !errors.As(err, &merr) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if merr.Kind != ErrStatus || merr.StatusCode != 400 || merr.Message != tc.wantMsg || merr.Code != tc.wantCode {
				t.Errorf("err = %+v, want message %q code %q", merr, tc.wantMsg, tc.wantCode)
			}
		})
	}
}

// The request goes to {base_url}/responses whether or not base_url ends
// with a slash, and asks for an event stream.
func TestRequestTarget(t *testing.T) {
	for _, suffix := range []string{"", "/"} {
		srv := responsestest.New()
		srv.Enqueue(responsestest.Response("r", responsestest.Message("m", "ok")))
		c := newTestClient(t, srv, func(p *ProviderConfig) { p.BaseURL += suffix })
		if _, err := c.Stream(context.Background(), &Request{Model: "m"}, &recorder{}); err != nil {
			t.Errorf("base_url with suffix %q: %v", suffix, err)
		} else if r := srv.Requests()[0]; r.Header.Get("Accept") != "text/event-stream" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("header %v", r.Header)
		}
		srv.Close()
	}
}
