package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"app-server/patch"
	"app-server/protocol"
)

// ApplyPatch implements Actions: an apply_patch call becomes a fileChange
// item. The patch is resolved against the files first, so a patch that
// does not apply fails its item (and tells the model why) without asking
// anyone; then the policy decides whether the client is asked; then every
// file is written atomically.
func (tu *turn) ApplyPatch(ctx context.Context, text string) PatchOutcome {
	ops, err := patch.Parse(text)
	if err != nil {
		return PatchOutcome{Status: protocol.PatchFailed, Message: "apply_patch failed: " + err.Error()}
	}
	cwd := tu.settings.cwd
	startMs := tu.t.m.nowMs()
	item := &protocol.FileChangeItem{ID: newID().String(), Status: protocol.PatchInProgress, StartedAtMs: &startMs}
	changes, planErr := patch.Plan(cwd, ops)
	if planErr != nil {
		item.Changes = opChanges(cwd, ops)
	} else {
		item.Changes = wireChanges(changes)
	}
	tu.itemStarted(protocol.ThreadItem{FileChange: ptrCopy(item)}, startMs)
	if planErr != nil {
		tu.completeFileChange(item, protocol.PatchFailed)
		return PatchOutcome{Status: protocol.PatchFailed, Message: "apply_patch failed, nothing was changed: " + planErr.Error()}
	}

	switch d, note := tu.fileChangeGate(ctx, item, changes); d {
	case protocol.FileChangeDecline:
		tu.completeFileChange(item, protocol.PatchDeclined)
		return PatchOutcome{Status: protocol.PatchDeclined, Message: "The patch was not applied: " + note + ". Do not apply it again; continue without it or ask the user."}
	case protocol.FileChangeCancel:
		tu.completeFileChange(item, protocol.PatchDeclined)
		tu.t.interrupt(tu.id)
		return PatchOutcome{Status: protocol.PatchDeclined, Message: "The patch was not applied: the user cancelled the turn."}
	}
	if err := patch.Apply(changes); err != nil {
		tu.completeFileChange(item, protocol.PatchFailed)
		return PatchOutcome{Status: protocol.PatchFailed, Message: "apply_patch failed: " + err.Error()}
	}
	tu.completeFileChange(item, protocol.PatchCompleted)
	return PatchOutcome{Status: protocol.PatchCompleted, Message: patchSummary(cwd, changes)}
}

func (tu *turn) completeFileChange(item *protocol.FileChangeItem, status protocol.PatchApplyStatus) {
	end := tu.t.m.nowMs()
	item.Status, item.CompletedAtMs = status, &end
	tu.itemCompleted(protocol.ThreadItem{FileChange: item}, end)
}

// patchSummary is the model's answer to an applied patch (Codex's words).
func patchSummary(cwd string, changes []patch.Change) string {
	var b strings.Builder
	b.WriteString("Success. Updated the following files:\n")
	for _, c := range changes {
		path := c.Path
		if c.MoveTo != "" {
			path = c.MoveTo
		}
		if rel, err := filepath.Rel(cwd, path); err == nil && !strings.HasPrefix(rel, "..") {
			path = rel
		}
		letter := map[patch.Kind]string{patch.Add: "A", patch.Delete: "D", patch.Update: "M"}[c.Kind]
		fmt.Fprintf(&b, "%s %s\n", letter, path)
	}
	return b.String()
}

// wireChanges are the item's changes.
func wireChanges(changes []patch.Change) []protocol.FileUpdateChange {
	out := make([]protocol.FileUpdateChange, 0, len(changes))
	for _, c := range changes {
		out = append(out, protocol.FileUpdateChange{Path: c.Path, Kind: changeKind(c.Kind, c.MoveTo), Diff: c.Diff})
	}
	return out
}

// opChanges are the changes of a patch that does not apply: paths and
// kinds, no diffs.
func opChanges(cwd string, ops []patch.FileOp) []protocol.FileUpdateChange {
	out := make([]protocol.FileUpdateChange, 0, len(ops))
	for _, op := range ops {
		move := ""
		if op.MoveTo != "" {
			move = filepath.Join(cwd, op.MoveTo)
			if filepath.IsAbs(op.MoveTo) {
				move = op.MoveTo
			}
		}
		path := op.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(cwd, path)
		}
		out = append(out, protocol.FileUpdateChange{Path: path, Kind: changeKind(op.Kind, move)})
	}
	return out
}

func changeKind(k patch.Kind, moveTo string) protocol.PatchChangeKind {
	switch k {
	case patch.Add:
		return protocol.PatchChangeKind{Add: &protocol.PatchAdd{}}
	case patch.Delete:
		return protocol.PatchChangeKind{Delete: &protocol.PatchDelete{}}
	}
	u := &protocol.PatchUpdate{}
	if moveTo != "" {
		u.MovePath = &moveTo
	}
	return protocol.PatchChangeKind{Update: u}
}

// touched lists every path a patch writes or removes.
func touched(changes []patch.Change) []string {
	var paths []string
	for _, c := range changes {
		paths = append(paths, c.Path)
		if c.MoveTo != "" {
			paths = append(paths, c.MoveTo)
		}
	}
	return paths
}

// fileChangeGate applies the policy to a patch, as Codex does: untrusted
// always asks; otherwise a patch inside the sandbox's writable roots (or
// anything under danger-full-access) is applied without asking; a patch
// outside them asks under on-request and is refused under never. Paths
// accepted for the session are not asked about again. It returns accept,
// decline or cancel, and a note for a refusal.
func (tu *turn) fileChangeGate(ctx context.Context, item *protocol.FileChangeItem, changes []patch.Change) (protocol.FileChangeApprovalDecision, string) {
	t := tu.t
	paths := touched(changes)
	t.mu.Lock()
	sessionOK := true
	for _, p := range paths {
		sessionOK = sessionOK && t.sessionPatchPaths[p]
	}
	t.mu.Unlock()
	if sessionOK {
		return protocol.FileChangeAccept, ""
	}
	s := tu.settings
	inRoots := s.sandbox == protocol.SandboxDangerFullAccess
	if s.sandbox == protocol.SandboxWorkspaceWrite {
		// The roots of this turn's commands ($TMPDIR is the server's, as
		// in their environment).
		roots, protected := t.m.workspaceWriteRoots(s.cwd, os.Getenv("TMPDIR"), s.extraRoots)
		inRoots = withinRoots(paths, roots) && !touchesAny(paths, protected)
	}
	var reason string
	switch {
	case s.policy == protocol.ApprovalUntrusted:
		reason = "Changing files requires approval (approval policy: untrusted)"
	case inRoots:
		return protocol.FileChangeAccept, ""
	case s.policy == protocol.ApprovalNever:
		return protocol.FileChangeDecline, fmt.Sprintf("writing outside the writable roots is not allowed (sandbox %s, approval policy never)", s.sandbox)
	default:
		reason = fmt.Sprintf("The patch writes outside the sandbox's writable roots (sandbox %s)", s.sandbox)
	}

	params := protocol.FileChangeRequestApprovalParams{
		ThreadID: t.id.String(), TurnID: tu.id.String(), ItemID: item.ID, StartedAtMs: t.m.nowMs(), Reason: &reason,
	}
	id, raw, err := t.ask(ctx, protocol.MethodFileChangeApproval, params)
	if err != nil {
		var perr *protocol.Error
		if errors.As(err, &perr) {
			return protocol.FileChangeDecline, "the approval request failed: " + perr.Message
		}
		return protocol.FileChangeDecline, "approval not given: " + err.Error()
	}
	var resp protocol.FileChangeRequestApprovalResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		return protocol.FileChangeDecline, t.badDecision(id, item.ID, raw, err).Error()
	}
	if resp.Decision == "" {
		return protocol.FileChangeDecline, t.badDecision(id, item.ID, raw, errors.New("no decision")).Error()
	}
	switch resp.Decision {
	case protocol.FileChangeAccept:
		return protocol.FileChangeAccept, ""
	case protocol.FileChangeAcceptForSession:
		t.mu.Lock()
		for _, p := range paths {
			t.sessionPatchPaths[p] = true
		}
		t.mu.Unlock()
		return protocol.FileChangeAccept, ""
	case protocol.FileChangeCancel:
		return protocol.FileChangeCancel, "cancelled by the user"
	}
	return protocol.FileChangeDecline, "the user declined the change"
}

// touchesAny reports whether a path is one of protected or under one.
func touchesAny(paths, protected []string) bool {
	for _, p := range paths {
		if withinRoots([]string{p}, protected) {
			return true
		}
	}
	return false
}

// withinRoots reports whether every path is under one of roots (after
// resolving symbolic links of the existing part of each path).
func withinRoots(paths, roots []string) bool {
	resolved := make([]string, 0, len(roots))
	for _, r := range roots {
		if rr, err := filepath.EvalSymlinks(r); err == nil {
			r = rr
		}
		resolved = append(resolved, r)
	}
	for _, p := range paths {
		p = resolveExisting(p)
		ok := false
		for _, r := range resolved {
			if rel, err := filepath.Rel(r, p); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// resolveExisting resolves the symbolic links of the longest existing
// prefix of p (the file itself may not exist yet).
func resolveExisting(p string) string {
	dir, rest := p, ""
	for {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return p
		}
		rest = filepath.Join(filepath.Base(dir), rest)
		dir = parent
	}
}
