package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/sourcegraph/jsonrpc2"

	"app-server/protocol"
)

// The JSON-RPC engine of each connection is a jsonrpc2.Conn
// (github.com/sourcegraph/jsonrpc2): its read loop hands every request to
// the connection's handler, in order, and it matches the client's responses
// to the calls the server sent (DispatchCall, Waiter). engine is the
// adapter between it and our wire, and the one place that knows how the
// library works inside:
//
//   - Reading: ReadObject reads a message from the transport and decodes it
//     once into its raw members (message.go). What is not a valid message is
//     answered or logged here and never reaches the library. A request is
//     handed over as {"id","method"} only: the library decodes a request
//     through a map and re-encodes its params (key order and HTML escaping
//     change), so the params, and the id as written, stay with engine until
//     the library calls Handle with that request, on the same goroutine,
//     before it reads again.
//   - Writing: responses and notifications are written by the connection in
//     our envelope (fixed member order, no "jsonrpc", the request id byte for
//     byte); the library writes only the calls it dispatches, and for those
//     WriteObject writes the line dispatch prepared in that envelope instead
//     of the library's encoding.
//   - Call ids: the library keys its calls by jsonrpc2.ID, and takes
//     ID{Num: 0} as "no id picked" (it substitutes its own sequence number),
//     while our ids are one server-wide sequence from 0. So a call's id is
//     held in the library as its decimal string (ID{Str: "0"}), written on
//     the wire as the integer, and a response's integer id is handed back
//     as that string (libID).
//   - Errors: a client's error reply reaches the Waiter as a *jsonrpc2.Error,
//     Data included; fromLibError makes it a *protocol.Error.
//   - Close: the library closes its stream as soon as reading ends; the
//     transport stays open until the connection has answered what it queued,
//     and the connection closes it.
type engine struct {
	c *conn

	// Read side, used only on the library's read goroutine.
	req  message // the request last read, until Handle takes it
	feed []byte  // what the library decodes, reused

	next    []byte        // the call line dispatch prepared; guarded by c.sendMu
	started chan struct{} // closed once c.rpc is set: nothing is read before
	readEnd chan struct{} // closed when ReadObject has returned its final error
	readErr error         // that error; read after readEnd is closed
}

// ReadObject reads the next valid message for the library into v, answering
// or logging every invalid one on the way. It returns the transport's error
// when reading ends.
func (e *engine) ReadObject(v any) error {
	u, ok := v.(json.Unmarshaler)
	if !ok {
		return e.end(fmt.Errorf("rpc: the library reads into %T, not a json.Unmarshaler", v))
	}
	<-e.started // the library starts reading before NewConn returns
	for {
		if err := e.c.ctx.Err(); err != nil {
			return e.end(err)
		}
		b, err := e.c.t.ReadMessage()
		var tooLong *tooLongError
		switch {
		case errors.As(err, &tooLong):
			e.c.rejectTooLong(tooLong)
			continue
		case err == errBinaryFrame:
			e.c.log.Warn("rpc: skipped input message", "reason", "binary frame")
			e.c.writeError(nil, errBinaryFrame, true)
			continue
		case err != nil:
			return e.end(err)
		}
		m := decodeMessage(b)
		switch m.kind {
		case kindInvalid:
			e.c.log.Warn("rpc: skipped input message", "reason", m.reason, "bytes", len(b), "excerpt", excerpt(b))
			if m.reject != nil {
				e.c.writeError(m.id, m.reject, true)
			}
			continue
		case kindResponse:
			e.feed, err = responseFeed(e.feed[:0], &m)
		default:
			e.req = m // its members alias the read buffer, valid until the next read
			e.feed = requestFeed(e.feed[:0], &m)
		}
		if err == nil {
			err = u.UnmarshalJSON(e.feed)
		}
		if err != nil {
			// What we hand over is built from checked members; the library
			// refusing it is a bug, and its half-filled message must not be
			// read: end the connection.
			e.c.log.Error("rpc: the JSON-RPC library refused a checked message", "err", err, "message", string(e.feed))
			return e.end(err)
		}
		return nil
	}
}

func (e *engine) end(err error) error {
	e.readErr = err
	close(e.readEnd)
	return err
}

// requestFeed is a request or notification as the library gets it: its id
// (a string or a non-negative int64, as decodeMessage checked) and method.
func requestFeed(b []byte, m *message) []byte {
	b = append(append(b, `{"method":`...), m.rawMethod...)
	if m.kind == kindRequest {
		b = append(append(b, `,"id":`...), m.id...)
	}
	return append(b, '}')
}

// responseFeed is a response as the library gets it: the id of our call in
// the library's form, and the result or the decoded error re-encoded.
func responseFeed(b []byte, m *message) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = strconv.AppendQuote(b, strconv.FormatInt(m.callID, 10))
	if m.err != nil {
		enc, err := marshal(m.err)
		if err != nil {
			return nil, err
		}
		b = append(append(b, `,"error":`...), enc...)
	} else {
		b = append(append(b, `,"result":`...), m.result...)
	}
	return append(b, '}'), nil
}

// Handle is the library's dispatch of a request read by ReadObject, on the
// library's read goroutine. Gates and inline methods run here; the rest is
// queued on a lane. It never waits on the client.
func (e *engine) Handle(_ context.Context, _ *jsonrpc2.Conn, r *jsonrpc2.Request) {
	m := e.req
	e.req = message{}
	if m.method != r.Method { // cannot happen: the library hands back what ReadObject gave it
		e.c.log.Error("rpc: the library dispatched a request that was not read", "method", r.Method)
		return
	}
	if r.Notif {
		// initialized needs no action: requests are accepted from the
		// initialize response on. Unknown notifications are ignored.
		if r.Method != protocol.MethodInitialized {
			e.c.log.Debug("ignoring notification", "method", r.Method)
		}
		return
	}
	// The handlers run with the connection's context, not the library's,
	// which ends with the input: requests queued before the input ended
	// still run, and answer, as they would without the library.
	e.c.handle(e.c.ctx, &m)
}

// WriteObject writes a call the library dispatched: the line dispatch
// prepared for it in our envelope.
func (e *engine) WriteObject(any) error {
	if e.next == nil {
		return errors.New("rpc: the library wrote a message that was not dispatched")
	}
	return e.c.t.WriteMessage(e.next)
}

// Close is called by the library when reading ends. The transport belongs
// to the connection, which closes it after its last answer.
func (e *engine) Close() error { return nil }

// libID is the library's form of the id of one of our calls (see engine).
func libID(id int64) jsonrpc2.ID {
	return jsonrpc2.ID{Str: strconv.FormatInt(id, 10), IsString: true}
}

// fromLibError is a client's error reply as the server's callers get it.
func fromLibError(e *jsonrpc2.Error) *protocol.Error {
	p := &protocol.Error{Code: protocol.ErrorCode(e.Code), Message: e.Message}
	if e.Data != nil {
		p.Data = *e.Data
	}
	return p
}

// libLogger passes the library's log lines to slog: the end of a
// connection at debug level, the rest (a response to no call) as warnings.
type libLogger struct{ log *slog.Logger }

func (l libLogger) Printf(format string, args ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, args...))
	level := slog.LevelWarn
	if strings.HasPrefix(msg, "jsonrpc2: protocol error") {
		level = slog.LevelDebug
	}
	l.log.Log(context.Background(), level, msg)
}
