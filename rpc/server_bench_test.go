package rpc

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"testing"

	"app-server/protocol"
)

// BenchmarkServePipelined is one stdio connection answering pipelined
// thread/loaded/list requests (an inline method), as cmd/appbench's
// pipelined figure, without the process and pipe around it: the cost of
// the read loop, the engine and the envelope per request.
func BenchmarkServePipelined(b *testing.B) {
	s := NewServer(Options{})
	s.RegisterInline(protocol.MethodThreadLoadedList, Typed(func(context.Context, *protocol.ThreadLoadedListParams) (*protocol.ThreadLoadedListResponse, error) {
		return &protocol.ThreadLoadedListResponse{Data: []string{}}, nil
	}))
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- s.Serve(context.Background(), inR, outW)
		outW.Close()
	}()
	out := bufio.NewScanner(outR)
	if _, err := io.WriteString(inW, initLine+"\n"); err != nil || !out.Scan() {
		b.Fatalf("initialize: %v", err)
	}
	wrote := make(chan error, 1)
	b.ResetTimer()
	go func() {
		w := bufio.NewWriter(inW)
		for i := range b.N {
			fmt.Fprintf(w, `{"id":%d,"method":"thread/loaded/list","params":{}}`+"\n", i)
		}
		wrote <- w.Flush()
	}()
	for range b.N {
		if !out.Scan() {
			b.Fatal("output ended")
		}
	}
	b.StopTimer()
	if err := <-wrote; err != nil {
		b.Fatal(err)
	}
	inW.Close()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
