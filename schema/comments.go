package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/invopop/jsonschema"
)

// protocolImportPath is the import path of package protocol, the prefix of
// the comment keys invopop looks up ("app-server/protocol.Thread.Cwd").
const protocolImportPath = "app-server/protocol"

// protocolDir returns the source directory of package protocol: the sibling
// of this package's source directory. It exists only in a source tree, which
// is why the shipped binary embeds generated files instead of generating.
func protocolDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("schema: cannot locate the source of package schema")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "protocol")
	if _, err := os.Stat(filepath.Join(dir, "doc.go")); err != nil {
		return "", fmt.Errorf("schema: doc comments need the source of package protocol: %w", err)
	}
	return dir, nil
}

// protocolComments reads the doc comments of package protocol with invopop's
// AddGoComments and returns them keyed by fully qualified Go name
// ("app-server/protocol.Type" and "app-server/protocol.Type.Field"), with the
// text as written (line breaks kept).
func protocolComments() (map[string]string, error) {
	dir, err := protocolDir()
	if err != nil {
		return nil, err
	}
	var r jsonschema.Reflector
	// invopop keys comments by path.Join(base, directory); with an empty
	// base the key prefix is the directory itself, replaced below.
	if err := r.AddGoComments("", dir, jsonschema.WithFullComment()); err != nil {
		return nil, fmt.Errorf("schema: reading doc comments: %w", err)
	}
	prefix := filepath.ToSlash(filepath.Clean(dir)) + "."
	out := make(map[string]string, len(r.CommentMap))
	for k, v := range r.CommentMap {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok || v == "" {
			continue
		}
		out[protocolImportPath+"."+rest] = v
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("schema: no doc comments found in %s", dir)
	}
	return out, nil
}

// flowComments rewrites comments into the published description style: the
// lines of a paragraph joined by spaces, paragraphs separated by a blank
// line, indented (preformatted) blocks kept line by line.
func flowComments(comments map[string]string) map[string]string {
	out := make(map[string]string, len(comments))
	for k, v := range comments {
		out[k] = flow(v)
	}
	return out
}

func flow(text string) string {
	var paras []string
	for _, block := range strings.Split(strings.TrimSpace(text), "\n\n") {
		lines := strings.Split(strings.Trim(block, "\n"), "\n")
		pre := false
		for _, l := range lines {
			if strings.HasPrefix(l, "\t") || strings.HasPrefix(l, " ") {
				pre = true
			}
		}
		if pre {
			// A Go doc code block is indented with a tab; Markdown, which
			// clients render descriptions with, wants four spaces.
			for i, l := range lines {
				if rest, ok := strings.CutPrefix(l, "\t"); ok {
					lines[i] = "    " + rest
				}
			}
			paras = append(paras, strings.Join(lines, "\n"))
			continue
		}
		for i, l := range lines {
			lines[i] = strings.TrimSpace(l)
		}
		paras = append(paras, strings.Join(lines, " "))
	}
	return strings.Join(paras, "\n\n")
}
