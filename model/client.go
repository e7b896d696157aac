package model

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/openai/openai-go/v3/packages/ssestream"
)

// Client calls one provider. It is safe for concurrent use.
type Client struct {
	p    Provider
	http *http.Client
	// backoff is the delay before retry n (1-based); a field so that tests
	// can shorten it.
	backoff func(n int) time.Duration
}

// NewClient returns a client of p. httpClient nil means a client of its
// own (no overall timeout: a stream lasts as long as the response).
func NewClient(p Provider, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	return &Client{p: p, http: httpClient, backoff: defaultBackoff}
}

// Provider returns the client's provider.
func (c *Client) Provider() Provider { return c.p }

// defaultBackoff is Codex's: 200 ms doubling per retry, ±10 % jitter.
func defaultBackoff(n int) time.Duration {
	d := 200 * time.Millisecond << min(n-1, 10)
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}

// Handler receives a response's events as they arrive, on the goroutine
// that called Stream. A retry starts the response over: the items of the
// broken attempt are never completed, and Retrying says so first.
type Handler interface {
	// ItemAdded: the model began an output item.
	ItemAdded(item Item)
	// TextDelta: text of a message item.
	TextDelta(itemID, delta string)
	// ReasoningSummaryPart: a reasoning item starts summary part index.
	ReasoningSummaryPart(itemID string, index int64)
	// ReasoningSummaryDelta: text of a reasoning summary part.
	ReasoningSummaryDelta(itemID string, index int64, delta string)
	// ReasoningTextDelta: raw reasoning text of content part index.
	ReasoningTextDelta(itemID string, index int64, delta string)
	// ItemDone: an output item is complete.
	ItemDone(item Item)
	// Retrying: the call failed with err and is tried again after delay;
	// attempt counts the retries (1 for the first), of at most max.
	Retrying(err *Error, attempt, max int, delay time.Duration)
}

// Result is a completed response.
type Result struct {
	// Output is every output item, in order.
	Output []Item
	Usage  Usage
}

// Usage is the token count of one response.
type Usage struct {
	InputTokens, CachedInputTokens, OutputTokens, ReasoningOutputTokens, TotalTokens int64
}

// Stream sends req and streams the response to h, retrying as the
// provider's configuration allows. It returns when response.completed
// arrives (without waiting for the connection to close), or with an
// *Error, or with ctx's error once ctx is done (the request is aborted at
// once).
func (c *Client) Stream(ctx context.Context, req *Request, h Handler) (*Result, error) {
	key := ""
	if c.p.EnvKey != "" {
		if key = os.Getenv(c.p.EnvKey); key == "" {
			msg := fmt.Sprintf("Missing environment variable: `%s` (the API key of model provider %s).", c.p.EnvKey, c.p.ID)
			if c.p.EnvKeyInstructions != "" {
				msg += " " + c.p.EnvKeyInstructions
			}
			return nil, &Error{Kind: ErrMissingKey, Message: msg, Attempts: 0}
		}
	} else {
		key = c.p.ExperimentalBearerToken
	}
	body, err := req.body()
	if err != nil {
		return nil, err
	}
	endpoint, err := c.endpoint()
	if err != nil {
		return nil, err
	}
	header := c.header(key)
	requestRetries, streamRetries := 0, 0
	for attempt := 1; ; attempt++ {
		res, err := c.attempt(ctx, endpoint, header, body, h)
		if err == nil {
			return res, nil
		}
		var merr *Error
		if ctx.Err() != nil || !errors.As(err, &merr) {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
		merr.Attempts = attempt
		if !merr.Retryable {
			return nil, merr
		}
		var n, max int
		if merr.Kind == ErrStreamDropped {
			streamRetries++
			n, max = streamRetries, c.p.streamRetries()
		} else {
			requestRetries++
			n, max = requestRetries, c.p.requestRetries()
		}
		if n > max {
			return nil, merr
		}
		delay := c.backoff(n)
		h.Retrying(merr, n, max, delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// endpoint is POST {base_url}/responses with the provider's query
// parameters.
func (c *Client) endpoint() (string, error) {
	u, err := url.Parse(c.p.BaseURL)
	if err != nil {
		return "", fmt.Errorf("model provider %s: base_url %q: %v", c.p.ID, c.p.BaseURL, err)
	}
	u = u.JoinPath("responses")
	if len(c.p.QueryParams) > 0 {
		q := u.Query()
		for k, v := range c.p.QueryParams {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// header is the header of every request: the key as a bearer token, the
// provider's headers, then those taken from the environment (which win).
func (c *Client) header(key string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "text/event-stream")
	if key != "" {
		h.Set("Authorization", "Bearer "+key)
	}
	for _, k := range sortedKeys(c.p.HTTPHeaders) {
		h.Set(k, c.p.HTTPHeaders[k])
	}
	for _, k := range sortedKeys(c.p.EnvHTTPHeaders) {
		if v := os.Getenv(c.p.EnvHTTPHeaders[k]); v != "" {
			h.Set(k, v)
		}
	}
	return h
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// errIdle is the cause of an attempt cancelled by the idle timeout.
var errIdle = errors.New("stream idle timeout")

// attempt makes one request and reads its stream.
func (c *Client) attempt(ctx context.Context, endpoint string, header http.Header, body []byte, h Handler) (*Result, error) {
	// The request's context follows ctx (an interrupt aborts the request at
	// once) until the response is complete; then it is detached, so that
	// the rest of the body can be drained and the connection reused.
	actx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stopFollowing := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	idle := c.p.idleTimeout()
	timer := time.AfterFunc(idle, func() { cancel(errIdle) })

	stream := ssestream.NewStream[json.RawMessage](c.post(actx, endpoint, header, body))
	var st streamState
	for stream.Next() {
		timer.Reset(idle)
		done, err := st.event(&c.p, stream.Current(), h)
		if err == nil && !done {
			continue
		}
		if done && stopFollowing() && timer.Stop() {
			go drain(stream, cancel)
			return &st.result, nil
		}
		stopFollowing()
		timer.Stop()
		stream.Close()
		cancel(nil)
		if err != nil {
			return nil, err
		}
		return &st.result, nil
	}
	stopFollowing()
	timer.Stop()
	stream.Close()
	defer cancel(nil)
	err := stream.Err()
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case context.Cause(actx) == errIdle:
		return nil, &Error{Kind: ErrStreamDropped, Retryable: true,
			Message: fmt.Sprintf("model provider %s sent nothing for %s: stream idle timeout", c.p.ID, idle)}
	case err == nil:
		return nil, &Error{Kind: ErrStreamDropped, Retryable: true,
			Message: fmt.Sprintf("stream from model provider %s closed before response.completed", c.p.ID)}
	}
	return nil, c.classify(err, st.events > 0)
}

// post sends the request and returns the decoder of its event stream, or
// why there is none: the transport's error or, for an HTTP error status,
// a *statusErr.
func (c *Client) post(ctx context.Context, endpoint string, header http.Header, body []byte) (ssestream.Decoder, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = header.Clone()
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode >= 400 {
		defer res.Body.Close()
		b, err := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
		if err != nil {
			return nil, err
		}
		return nil, &statusErr{status: res.StatusCode, body: b}
	}
	return ssestream.NewDecoder(res), nil
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// statusErr is an HTTP error status and the body that came with it.
type statusErr struct {
	status int
	body   []byte
}

func (e *statusErr) Error() string { return fmt.Sprintf("HTTP %d", e.status) }

// apiError is the error object of a Responses error answer:
// {"error": {"message": ..., "code": ...}}.
type apiError struct {
	Error struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	} `json:"error"`
}

// drainTimeout bounds how long a completed response's connection is read
// for the end of its body.
const drainTimeout = time.Second

// drain reads what follows response.completed (usually only the end of
// the chunked body), so that the connection goes back to the pool instead
// of being closed, then releases the request. It ends within drainTimeout.
func drain(stream interface {
	Next() bool
	Close() error
}, cancel context.CancelCauseFunc) {
	t := time.AfterFunc(drainTimeout, func() { cancel(nil) })
	for stream.Next() {
	}
	t.Stop()
	stream.Close()
	cancel(nil)
}

// classify turns an SDK or transport error into an *Error.
func (c *Client) classify(err error, streaming bool) *Error {
	var se *statusErr
	if errors.As(err, &se) {
		// The message of the error object; else the body as it is (a
		// proxy's HTML page, a local server's plain text).
		var ae apiError
		_ = json.Unmarshal(se.body, &ae)
		msg := ae.Error.Message
		if msg == "" {
			msg = strings.TrimSpace(string(se.body))
		}
		e := statusError(&c.p, se.status, msg)
		e.Code = ae.Error.Code
		return e
	}
	var streamErr *ssestream.StreamError
	if errors.As(err, &streamErr) {
		// An event whose data has an "error" member: the provider reports
		// a failure in the stream.
		return &Error{Kind: ErrResponseFailed, Message: fmt.Sprintf("model provider %s: %s", c.p.ID, streamErr.Message)}
	}
	var netErr net.Error
	transport := errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
	switch {
	case transport && streaming:
		return &Error{Kind: ErrStreamDropped, Retryable: true, Message: fmt.Sprintf("stream from model provider %s broke: %v", c.p.ID, err)}
	case transport:
		return &Error{Kind: ErrConnection, Retryable: true, Message: fmt.Sprintf("cannot reach model provider %s at %s: %v", c.p.ID, c.p.BaseURL, err)}
	}
	return &Error{Kind: ErrMalformed, Message: fmt.Sprintf("malformed response stream from model provider %s: %v", c.p.ID, err)}
}

// streamState follows one response's events.
type streamState struct {
	events int
	result Result
}

// streamEvent is the part of a Responses stream event this package reads.
type streamEvent struct {
	Type         string          `json:"type"`
	ItemID       string          `json:"item_id"`
	Delta        string          `json:"delta"`
	SummaryIndex int64           `json:"summary_index"`
	ContentIndex int64           `json:"content_index"`
	Item         json.RawMessage `json:"item"`
	// Code and Message: an "error" event.
	Code     string `json:"code"`
	Message  string `json:"message"`
	Response struct {
		Usage struct {
			InputTokens        int64 `json:"input_tokens"`
			InputTokensDetails struct {
				CachedTokens int64 `json:"cached_tokens"`
			} `json:"input_tokens_details"`
			OutputTokens        int64 `json:"output_tokens"`
			OutputTokensDetails struct {
				ReasoningTokens int64 `json:"reasoning_tokens"`
			} `json:"output_tokens_details"`
			TotalTokens int64 `json:"total_tokens"`
		} `json:"usage"`
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		IncompleteDetails struct {
			Reason string `json:"reason"`
		} `json:"incomplete_details"`
	} `json:"response"`
}

// event handles one event; done reports response.completed.
func (s *streamState) event(p *Provider, raw json.RawMessage, h Handler) (bool, error) {
	s.events++
	var ev streamEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return false, &Error{Kind: ErrMalformed, Message: fmt.Sprintf("malformed response stream from model provider %s: %v: %.200s", p.ID, err, raw)}
	}
	switch ev.Type {
	case "response.output_item.added":
		item, err := itemOf(ev.Item)
		if err != nil {
			return false, &Error{Kind: ErrMalformed, Message: fmt.Sprintf("malformed response stream from model provider %s: %v", p.ID, err)}
		}
		h.ItemAdded(item)
	case "response.output_text.delta":
		h.TextDelta(ev.ItemID, ev.Delta)
	case "response.reasoning_summary_part.added":
		h.ReasoningSummaryPart(ev.ItemID, ev.SummaryIndex)
	case "response.reasoning_summary_text.delta":
		h.ReasoningSummaryDelta(ev.ItemID, ev.SummaryIndex, ev.Delta)
	case "response.reasoning_text.delta":
		h.ReasoningTextDelta(ev.ItemID, ev.ContentIndex, ev.Delta)
	case "response.output_item.done":
		item, err := itemOf(ev.Item)
		if err != nil {
			return false, &Error{Kind: ErrMalformed, Message: fmt.Sprintf("malformed response stream from model provider %s: %v", p.ID, err)}
		}
		s.result.Output = append(s.result.Output, item)
		h.ItemDone(item)
	case "response.completed":
		u := ev.Response.Usage
		s.result.Usage = Usage{
			InputTokens: u.InputTokens, CachedInputTokens: u.InputTokensDetails.CachedTokens,
			OutputTokens: u.OutputTokens, ReasoningOutputTokens: u.OutputTokensDetails.ReasoningTokens,
			TotalTokens: u.TotalTokens,
		}
		return true, nil
	case "response.failed", "response.incomplete":
		e := &Error{Kind: ErrResponseFailed, Code: ev.Response.Error.Code}
		switch msg := ev.Response.Error.Message; {
		case msg != "":
			e.Message = fmt.Sprintf("model provider %s: response failed: %s", p.ID, msg)
		case ev.Response.IncompleteDetails.Reason != "":
			e.Message = fmt.Sprintf("model provider %s: response incomplete: %s", p.ID, ev.Response.IncompleteDetails.Reason)
		default:
			e.Message = fmt.Sprintf("model provider %s: %s", p.ID, ev.Type)
		}
		// A server error or rate limit inside the stream is worth another try.
		e.Retryable = e.Code == "server_error" || e.Code == "rate_limit_exceeded"
		if e.Retryable {
			e.Kind = ErrStreamDropped
		}
		return false, e
	case "error":
		return false, &Error{Kind: ErrResponseFailed, Code: ev.Code, Message: fmt.Sprintf("model provider %s: error: %s", p.ID, ev.Message)}
	case "":
		return false, &Error{Kind: ErrMalformed, Message: fmt.Sprintf("malformed response stream from model provider %s: an event without a type: %.200s", p.ID, raw)}
	}
	return false, nil
}

// Item is an output item of the model.
type Item struct {
	// Type is the Responses item type: "message", "reasoning",
	// "function_call", "custom_tool_call", or another the caller ignores.
	Type string
	ID   string
	// Text is a message's output text.
	Text string
	// Summary are a reasoning item's summary texts; Content its raw
	// reasoning texts when the provider sends them.
	Summary, Content []string
	// CallID, Name: a function or custom tool call. Arguments is a
	// function call's JSON arguments, Input a custom tool call's input.
	CallID, Name, Arguments, Input string
	// Replay is what the item becomes in the next request's input (nil for
	// an item that is not sent back, such as reasoning without encrypted
	// content).
	Replay json.RawMessage
}

// rawItem is the part of an output item this package reads.
type rawItem struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Role    string `json:"role"`
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	Summary []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"summary"`
	EncryptedContent *string `json:"encrypted_content"`
	CallID           string  `json:"call_id"`
	Name             string  `json:"name"`
	Arguments        string  `json:"arguments"`
	Input            string  `json:"input"`
}

// itemOf reads an output item and builds its replay: the item as input,
// without the server-side id (nothing is stored at the provider).
func itemOf(raw json.RawMessage) (Item, error) {
	var r rawItem
	if err := json.Unmarshal(raw, &r); err != nil {
		return Item{}, fmt.Errorf("output item: %v", err)
	}
	if r.Type == "" {
		return Item{}, fmt.Errorf("output item without a type: %.200s", raw)
	}
	it := Item{Type: r.Type, ID: r.ID, CallID: r.CallID, Name: r.Name, Arguments: r.Arguments, Input: r.Input}
	switch r.Type {
	case "message":
		var b strings.Builder
		content := []map[string]string{}
		for _, c := range r.Content {
			if c.Type == "output_text" {
				b.WriteString(c.Text)
				content = append(content, map[string]string{"type": "output_text", "text": c.Text})
			}
		}
		it.Text = b.String()
		role := r.Role
		if role == "" {
			role = "assistant"
		}
		it.Replay = mustJSON(map[string]any{"type": "message", "role": role, "content": content})
	case "reasoning":
		summary := []map[string]string{}
		for _, s := range r.Summary {
			it.Summary = append(it.Summary, s.Text)
			summary = append(summary, map[string]string{"type": "summary_text", "text": s.Text})
		}
		for _, c := range r.Content {
			it.Content = append(it.Content, c.Text)
		}
		if r.EncryptedContent != nil {
			it.Replay = mustJSON(map[string]any{"type": "reasoning", "summary": summary, "encrypted_content": *r.EncryptedContent})
		}
	case "function_call":
		it.Replay = mustJSON(map[string]string{"type": "function_call", "call_id": r.CallID, "name": r.Name, "arguments": r.Arguments})
	case "custom_tool_call":
		it.Replay = mustJSON(map[string]string{"type": "custom_tool_call", "call_id": r.CallID, "name": r.Name, "input": r.Input})
	}
	return it, nil
}
