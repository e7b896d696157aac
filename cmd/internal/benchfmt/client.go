package benchfmt

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strconv"
)

// Client speaks JSON-RPC to a server, one message a line: over a
// process's stdin and stdout, or anything else that carries lines (a
// benchmark's WebSocket frames).
type Client struct {
	W      *bufio.Writer
	R      *bufio.Reader
	NextID int
	Stderr fmt.Stringer // the server's stderr tail, for error messages
}

// Call sends a request, flushed, and reads its response.
func (c *Client) Call(method, params string) (*Message, error) {
	id := c.NextID
	c.NextID++
	if _, err := fmt.Fprintf(c.W, `{"id":%d,"method":%q,"params":%s}`+"\n", id, method, params); err != nil {
		return nil, err
	}
	if err := c.W.Flush(); err != nil {
		return nil, err
	}
	return c.ReadResponse(id)
}

// ReadResponse reads messages until the response to id, skipping
// notifications and server requests.
func (c *Client) ReadResponse(id int) (*Message, error) {
	want := strconv.Itoa(id)
	for {
		line, err := c.R.ReadSlice('\n')
		if err != nil {
			return nil, fmt.Errorf("reading the response to %d: %w; stderr tail:\n%s", id, err, c.Stderr)
		}
		var m Message
		if err := json.Unmarshal(line, &m); err != nil {
			return nil, fmt.Errorf("bad line from the server: %v: %q", err, line)
		}
		if m.Method != "" || m.ID == nil {
			continue // a notification or a server request
		}
		if string(m.ID) != want {
			return nil, fmt.Errorf("response to %s while waiting for %s", m.ID, want)
		}
		return &m, nil
	}
}

// Initialize performs the handshake as client name (initialize, then the
// initialized notification) and returns the server's user agent.
func (c *Client) Initialize(name string) (string, error) {
	m, err := c.Call("initialize", fmt.Sprintf(`{"clientInfo":{"name":%q,"title":%[1]q,"version":"1.0.0"}}`, name))
	if err != nil {
		return "", err
	}
	if m.Error != nil {
		return "", fmt.Errorf("initialize: error %d %s", m.Error.Code, m.Error.Message)
	}
	var res struct {
		UserAgent string `json:"userAgent"`
	}
	if err := json.Unmarshal(m.Result, &res); err != nil {
		return "", fmt.Errorf("initialize result: %v", err)
	}
	if _, err := c.W.WriteString(`{"method":"initialized"}` + "\n"); err != nil {
		return "", err
	}
	return res.UserAgent, c.W.Flush()
}
