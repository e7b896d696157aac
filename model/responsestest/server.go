// Package responsestest is a scripted Responses API server for tests and
// benchmarks: each POST /responses gets the next Reply of the script (or
// the Responder's answer), and every request is recorded with its body,
// headers and arrival time. It imports only the standard library.
package responsestest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Event is one server-sent event.
type Event struct {
	Type string
	Data map[string]any // "type" is added
}

// Reply is the answer to one request.
type Reply struct {
	// Status, when not 0 or 200, is sent with Body and nothing else.
	Status int
	Body   string
	// Events are written in order as "event: T\ndata: {...}\n\n", each
	// flushed.
	Events []Event
	// Raw is written after the events, as is (malformed streams).
	Raw string
	// Hang keeps the response open after the events until the client goes
	// away (an interrupted turn), which Recorded.ClientGone then reports.
	Hang bool
	// Abort breaks the connection after the events (a dropped stream).
	Abort bool
}

// Recorded is one request the server received.
type Recorded struct {
	Header http.Header
	Query  string
	Body   []byte
	// At is when the request's body was read; ReplyDone when the last
	// byte of its reply was flushed.
	At, ReplyDone time.Time
	// ClientGone is closed when a Hang reply saw the client leave.
	ClientGone chan struct{}
}

// JSON decodes the body.
func (r *Recorded) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Input is the body's "input" array.
func (r *Recorded) Input() []map[string]any {
	var b struct {
		Input []map[string]any `json:"input"`
	}
	_ = json.Unmarshal(r.Body, &b)
	return b.Input
}

// Server is the mock. The zero value is not usable; call New.
type Server struct {
	*httptest.Server
	// Responder, if set, answers requests once the script is used up.
	Responder func(r *Recorded) Reply

	mu       sync.Mutex
	script   []Reply
	requests []*Recorded
	arrived  chan struct{} // signalled (non-blocking) on each request
	conns    int           // connections accepted
}

// New starts a server on 127.0.0.1. Its base URL for a provider is
// s.URL + "/v1".
func New() *Server {
	s := &Server{arrived: make(chan struct{}, 1)}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Server.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
		}
	}
	s.Start()
	return s
}

// Conns is the number of connections the server has accepted.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// BaseURL is the provider base_url of the server.
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Enqueue appends replies to the script.
func (s *Server) Enqueue(replies ...Reply) {
	s.mu.Lock()
	s.script = append(s.script, replies...)
	s.mu.Unlock()
}

// Requests returns the requests received so far.
func (s *Server) Requests() []*Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Recorded(nil), s.requests...)
}

// WaitRequests waits until n requests have arrived, or timeout.
func (s *Server) WaitRequests(n int, timeout time.Duration) ([]*Recorded, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if reqs := s.Requests(); len(reqs) >= n {
			return reqs, nil
		}
		select {
		case <-s.arrived:
		case <-deadline.C:
			return s.Requests(), fmt.Errorf("responsestest: %d requests after %s, want %d", len(s.Requests()), timeout, n)
		}
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/responses") {
		http.Error(w, "responsestest serves POST /v1/responses only", http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(r.Body)
	rec := &Recorded{Header: r.Header.Clone(), Query: r.URL.RawQuery, Body: body, At: time.Now(), ClientGone: make(chan struct{})}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	var reply Reply
	switch {
	case len(s.script) > 0:
		reply, s.script = s.script[0], s.script[1:]
	case s.Responder != nil:
		s.mu.Unlock()
		reply = s.Responder(rec)
		s.mu.Lock()
	default:
		reply = Reply{Status: http.StatusInternalServerError, Body: `{"error":{"message":"responsestest: script exhausted","type":"server_error"}}`}
	}
	s.mu.Unlock()
	select {
	case s.arrived <- struct{}{}:
	default:
	}
	s.write(w, r, rec, reply)
}

func (s *Server) write(w http.ResponseWriter, r *http.Request, rec *Recorded, reply Reply) {
	defer func() {
		s.mu.Lock()
		rec.ReplyDone = time.Now()
		s.mu.Unlock()
	}()
	if reply.Status != 0 && reply.Status != http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(reply.Status)
		io.WriteString(w, reply.Body)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	var buf strings.Builder
	for _, ev := range reply.Events {
		data := map[string]any{"type": ev.Type}
		for k, v := range ev.Data {
			data[k] = v
		}
		b, _ := json.Marshal(data)
		fmt.Fprintf(&buf, "event: %s\ndata: %s\n\n", ev.Type, b)
	}
	buf.WriteString(reply.Raw)
	io.WriteString(w, buf.String())
	if fl != nil {
		fl.Flush()
	}
	switch {
	case reply.Hang:
		<-r.Context().Done()
		close(rec.ClientGone)
	case reply.Abort:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
	}
}
