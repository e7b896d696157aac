package rpc

import (
	"context"
	"encoding/json"
	"net"
	"testing"

	"github.com/coder/websocket"

	"app-server/protocol"
)

// BenchmarkWebSocketRoundTrip is one request and its response over a
// loopback WebSocket, client and server in this process.
func BenchmarkWebSocketRoundTrip(b *testing.B) {
	s := NewServer(Options{})
	s.RegisterInline(protocol.MethodThreadLoadedList, func(context.Context, json.RawMessage) (any, error) {
		return map[string]any{"data": []string{}}, nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeWebSocket(ctx, ln, WebSocketOptions{}) }()
	defer func() { cancel(); <-done }()
	c, _, err := websocket.Dial(context.Background(), "ws://"+ln.Addr().String(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseNow()
	call := func(msg string) {
		if err := c.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.Read(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	call(`{"id":0,"method":"initialize","params":{"clientInfo":{"name":"b","version":"1"}}}`)
	req := `{"id":1,"method":"thread/loaded/list","params":{}}`
	b.ReportAllocs()
	for b.Loop() {
		call(req)
	}
}
