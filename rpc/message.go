package rpc

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
	"unicode/utf8"

	"app-server/protocol"
)

// envelope is one input message decoded once: the JSON-RPC members, kept raw.
// A member that is absent stays nil; one that is null holds "null". Any
// "jsonrpc" member is accepted and ignored.
type envelope struct {
	ID     json.RawMessage `json:"id"`
	Method json.RawMessage `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

// messageKind says what an input message is.
type messageKind int

const (
	kindInvalid      messageKind = iota // answered with rejection.err when rejection.reply
	kindRequest                         // method and an id to echo
	kindNotification                    // method, no id
	kindResponse                        // an answer to one of our calls: id is ours
)

// message is a classified input message.
type message struct {
	kind      messageKind
	id        json.RawMessage // request: echoed byte for byte in the reply
	callID    int64           // response: the id of our call
	method    string
	rawMethod json.RawMessage // request: the method member as written
	params    json.RawMessage
	result    json.RawMessage // response: "null" when the member was null
	err       *protocol.Error // response: the client's error reply
	reject    *protocol.Error // invalid: the reply to send, nil to only log it
	reason    string          // invalid: why, for the log
}

// Rejection messages.
const (
	msgLineTooLong = "Invalid request: line too long"
	msgBadID       = "Invalid request: id must be a string or a non-negative integer"
)

// utf8BOM is the UTF-8 byte-order mark.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// decodeMessage decodes and classifies one input message, with the checks
// JSON-RPC 2.0 asks for and no more: invalid JSON (invalid UTF-8 and a
// byte-order mark included) is -32700; JSON that is not a request gets
// -32600, echoing the id when it is a string or number and null otherwise.
// Responses are never answered, whatever is wrong with them.
func decodeMessage(b []byte) message {
	var env envelope
	if !utf8.Valid(b) {
		return parseError("invalid UTF-8")
	}
	if bytes.HasPrefix(b, utf8BOM) {
		// JSON text must not start with one (RFC 8259 section 8.1); say so
		// rather than let the decoder complain about an invalid character.
		return parseError("byte-order mark (U+FEFF) before the JSON text")
	}
	if err := json.Unmarshal(b, &env); err != nil {
		if !json.Valid(b) {
			return parseError(err.Error())
		}
		if b[0] == '[' {
			return invalid(nil, "batch (JSON array) not supported")
		}
		return invalid(nil, "not a JSON object")
	}
	isRequest := env.Method != nil && !isNull(env.Method)
	isResponse := env.Result != nil || env.Error != nil
	switch {
	case isRequest && isResponse:
		return invalid(echoable(env.ID), "both a request and a response")
	case isResponse:
		return decodeResponse(env)
	case !isRequest:
		return invalid(echoable(env.ID), "not a JSON-RPC message (no method, result or error)")
	}
	method, ok := jsonString(env.Method)
	if !ok {
		return invalid(echoable(env.ID), "method is not a string")
	}
	m := message{kind: kindRequest, id: env.ID, method: method, rawMethod: env.Method, params: env.Params}
	switch {
	case env.ID == nil:
		m.kind = kindNotification
	case env.ID[0] == '"':
	case !isPlainInt(env.ID):
		// null, true, an object, a negative or fractional number: an id we
		// cannot take. Numbers are echoed as sent; the rest cannot be.
		m = invalid(echoable(env.ID), "request id is not a string or a non-negative integer")
		m.reject.Message = msgBadID
	}
	return m
}

func decodeResponse(env envelope) message {
	id, ok := plainInt(env.ID)
	if !ok {
		// Our ids are non-negative integers, so this answers nothing we sent.
		return message{kind: kindInvalid, reason: "response without a usable id"}
	}
	m := message{kind: kindResponse, callID: id, result: env.Result}
	if env.Error != nil && !isNull(env.Error) {
		m.err = new(protocol.Error)
		if err := json.Unmarshal(env.Error, m.err); err != nil {
			return message{kind: kindInvalid, reason: "response error does not decode: " + err.Error()}
		}
	} else if env.Result == nil {
		return message{kind: kindInvalid, reason: "response with error null and no result"}
	}
	return m
}

func parseError(reason string) message {
	return message{kind: kindInvalid, reason: reason,
		reject: protocol.Errorf(protocol.ErrParse, "Parse error: %s", reason)}
}

// invalid is a -32600 answered with id (nil: null).
func invalid(id json.RawMessage, reason string) message {
	return message{kind: kindInvalid, id: id, reason: reason,
		reject: protocol.Errorf(protocol.ErrInvalidRequest, "Invalid request: %s", reason)}
}

// echoable returns id when a reply can carry it as sent (a string or a
// number), else nil.
func echoable(id json.RawMessage) json.RawMessage {
	if len(id) > 0 && (id[0] == '"' || id[0] == '-' || isDigit(id[0])) {
		return id
	}
	return nil
}

// plainInt parses an id written as a non-negative int64 without sign,
// fraction or exponent: the ids we take, echo and send.
func plainInt(id json.RawMessage) (int64, bool) {
	if len(id) == 0 || !isDigit(id[0]) {
		return 0, false
	}
	n, err := strconv.ParseInt(string(id), 10, 64)
	return n, err == nil
}

func isPlainInt(id json.RawMessage) bool { _, ok := plainInt(id); return ok }

// jsonString decodes a raw JSON string, without a decoder call when it has
// no escapes (method names never do).
func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err == nil
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// prefixID looks for the id among the complete members at the start of a
// truncated message, for the reply to an over-long one. isResponse is set
// when a "result" or "error" key was seen, even with its value cut off:
// responses are never answered.
func prefixID(prefix []byte) (id json.RawMessage, isResponse bool) {
	dec := json.NewDecoder(bytes.NewReader(prefix))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	for {
		t, err := dec.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			break
		}
		isResponse = isResponse || key == "result" || key == "error"
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			break
		}
		if key == "id" {
			id = v
		}
	}
	if !utf8.Valid(id) {
		return nil, isResponse
	}
	return echoable(id), isResponse
}

// marshal is json.Marshal without HTML escaping, for everything the server
// writes: <, > and & stay as they are, as the reference server writes
// them, instead of growing sixfold (\u003c); a command output of '<' would
// otherwise make a notification six times its size. Nothing reads the
// wire as HTML.
func marshal(v any) ([]byte, error) {
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	out := bytes.Clone(bytes.TrimSuffix(e.buf.Bytes(), []byte{'\n'}))
	if e.buf.Cap() > keepLineBytes {
		e.buf = bytes.Buffer{} // one big message does not pin its buffer
		e.enc = newEncoder(&e.buf)
	}
	return out, nil
}

// encoder is a reusable json.Encoder writing to buf.
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var encoders = sync.Pool{New: func() any {
	e := new(encoder)
	e.enc = newEncoder(&e.buf)
	return e
}}

func newEncoder(b *bytes.Buffer) *json.Encoder {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	return enc
}

// The output envelope. Members come in a fixed order: "id" first, then
// "emittedAtMs" (notifications), "method", "params", and "result" or
// "error"; "jsonrpc" is omitted, as the reference server does.

// appendRequest appends a server-to-client request.
func appendRequest(b []byte, id int64, method string, params json.RawMessage) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, id, 10)
	return appendMethod(append(b, ','), method, params)
}

// appendNotification appends a notification stamped with emittedAtMs.
func appendNotification(b []byte, emittedAtMs int64, method string, params json.RawMessage) []byte {
	b = append(b, `{"emittedAtMs":`...)
	b = strconv.AppendInt(b, emittedAtMs, 10)
	return appendMethod(append(b, ','), method, params)
}

func appendMethod(b []byte, method string, params json.RawMessage) []byte {
	b = append(b, `"method":`...)
	b = strconv.AppendQuote(b, method) // method names are ASCII from the protocol table
	if params != nil {
		b = append(append(b, `,"params":`...), params...)
	}
	return append(b, '}')
}

// appendResult appends a successful response.
func appendResult(b []byte, id, result json.RawMessage) []byte {
	b = appendID(b, id)
	return append(append(append(b, `,"result":`...), result...), '}')
}

// appendError appends an error response; a nil id is written as null.
func appendError(b []byte, id json.RawMessage, e *protocol.Error) []byte {
	enc, err := marshal(e)
	if err != nil { // only Data can fail; drop it rather than the reply
		enc, _ = marshal(&protocol.Error{Code: e.Code, Message: e.Message})
	}
	b = appendID(b, id)
	return append(append(append(b, `,"error":`...), enc...), '}')
}

func appendID(b []byte, id json.RawMessage) []byte {
	if id == nil {
		id = json.RawMessage("null")
	}
	return append(append(b, `{"id":`...), id...)
}
