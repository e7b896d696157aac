package session

import (
	"context"
	"errors"

	"app-server/protocol"
	"app-server/session/rollout"

	"github.com/google/uuid"
)

// StartThread creates a thread. The returned function, called by rpc right
// after the response is written, announces it with thread/started.
func (m *Manager) StartThread(_ context.Context, p *protocol.ThreadStartParams) (*protocol.ThreadStartResponse, func(), error) {
	cwd, err := requestCwd(p.Cwd)
	if err != nil {
		return nil, nil, err
	}
	s := settings{cwd: m.cfg.Cwd, policy: m.cfg.ApprovalPolicy, sandbox: m.cfg.Sandbox}.override(cwd, p.ApprovalPolicy, p.Sandbox)
	s.model, s.provider = m.defaultModel()
	if s, err = m.chooseModel(s, p.Model, p.ModelProvider); err != nil {
		return nil, nil, err
	}
	ephemeral := (p.Ephemeral != nil && *p.Ephemeral) || m.store == nil

	t := newThread(m, newID(), ephemeral, m.now().Unix(), s)
	if err := m.open(t, nil); err != nil {
		return nil, nil, err
	}
	resp := &protocol.ThreadStartResponse{Thread: t.snapshot(false), ThreadSettings: t.responseSettings()}
	announce := func() {
		m.notify(protocol.MethodThreadStarted, protocol.ThreadStartedNotification{Thread: t.snapshot(false)})
		if w := m.unenforcedWarning(s.sandbox); w != "" {
			m.warn(t.id, w)
		}
	}
	return resp, announce, nil
}

// open makes t a loaded thread: its file (created, or reopened when
// resuming), its network service, its place in the registry. On error
// nothing is left behind.
func (m *Manager) open(t *thread, resumed *rollout.LoadedThread) error {
	if !t.ephemeral {
		var err error
		if resumed == nil {
			t.rollout, err = m.createRollout(t)
		} else {
			t.rollout, err = m.store.Open(t.id)
		}
		if err != nil {
			return protocol.Errorf(protocol.ErrInternal, "persisting thread %s: %v", t.id, err)
		}
	}
	if m.net != nil {
		nt, err := m.net.OpenThread(t.id.String(), t)
		if err != nil {
			t.unload()
			return protocol.Errorf(protocol.ErrInternal, "network service for thread %s: %v", t.id, err)
		}
		t.net = nt
	}
	if err := m.addThread(t); err != nil {
		t.unload()
		return err
	}
	t.mu.Lock()
	mode := t.settings.sandbox
	t.mu.Unlock()
	m.prestartSandbox(mode)
	return nil
}

// ResumeThread loads a persisted thread (also after a restart) and applies
// the given settings to it. A thread that is already loaded is returned as
// it is, with the settings applied.
func (m *Manager) ResumeThread(_ context.Context, p *protocol.ThreadResumeParams) (*protocol.ThreadResumeResponse, error) {
	cwd, err := requestCwd(p.Cwd)
	if err != nil {
		return nil, err
	}
	t, err := m.loaded(p.ThreadID)
	if err != nil {
		if t, err = m.load(p.ThreadID); err != nil {
			return nil, err
		}
	}
	t.mu.Lock()
	next, err := m.chooseModel(t.settings.override(cwd, p.ApprovalPolicy, p.Sandbox), p.Model, p.ModelProvider)
	changed := err == nil && next != t.settings
	if changed {
		t.settings = next
	}
	t.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if changed {
		t.persistSettings()
	}
	return &protocol.ThreadResumeResponse{Thread: t.snapshot(true), ThreadSettings: t.responseSettings()}, nil
}

// stored returns the id of a persisted thread, archived or not, that the
// client named, or an error naming it.
func (m *Manager) stored(threadID string) (id uuid.UUID, archived bool, err error) {
	id, ok := parseID(threadID)
	if ok && m.store != nil {
		if archived, ok = m.store.Exists(id); ok {
			return id, archived, nil
		}
	}
	return uuid.Nil, false, invalidParams("thread not found: %s", threadID)
}

// loadStored reads a persisted thread without loading it.
func (m *Manager) loadStored(id uuid.UUID) (*rollout.LoadedThread, error) {
	lt, err := m.store.Load(id)
	if err != nil {
		return nil, protocol.Errorf(protocol.ErrInternal, "loading thread %s: %v", id, err)
	}
	return lt, nil
}

// load reads a persisted, unarchived thread and makes it loaded.
func (m *Manager) load(threadID string) (*thread, error) {
	id, archived, err := m.stored(threadID)
	if err != nil {
		return nil, err
	}
	if archived {
		return nil, invalidParams("thread %s is archived; unarchive it first", id)
	}
	lt, err := m.loadStored(id)
	if err != nil {
		return nil, err
	}
	t := threadFromLoaded(m, lt)
	if err := m.open(t, lt); err != nil {
		return nil, err
	}
	return t, nil
}

// ReadThread returns a thread, loaded or not, without loading it.
func (m *Manager) ReadThread(_ context.Context, p *protocol.ThreadReadParams) (*protocol.ThreadReadResponse, error) {
	if t, err := m.loaded(p.ThreadID); err == nil {
		return &protocol.ThreadReadResponse{Thread: t.snapshot(p.IncludeTurns)}, nil
	}
	id, _, err := m.stored(p.ThreadID)
	if err != nil {
		return nil, err
	}
	lt, err := m.loadStored(id)
	if err != nil {
		return nil, err
	}
	th := threadFromLoaded(m, lt).snapshot(p.IncludeTurns)
	th.Status = protocol.StatusNotLoaded()
	return &protocol.ThreadReadResponse{Thread: th}, nil
}

// Page sizes of the list methods.
const (
	defaultPage = 25
	maxPage     = 100
)

func pageSize(limit *uint32) int {
	if limit == nil || *limit == 0 {
		return defaultPage
	}
	return min(int(*limit), maxPage)
}

// ListThreads pages through persisted threads, newest first.
func (m *Manager) ListThreads(_ context.Context, p *protocol.ThreadListParams) (*protocol.ThreadListResponse, error) {
	resp := &protocol.ThreadListResponse{Data: []protocol.Thread{}}
	if m.store == nil {
		return resp, nil
	}
	cursor := ""
	if p.Cursor != nil {
		cursor = *p.Cursor
	}
	archived := p.Archived != nil && *p.Archived
	summaries, next, err := m.store.List(archived, cursor, pageSize(p.Limit))
	if err != nil {
		if errors.Is(err, rollout.ErrBadCursor) {
			return nil, invalidParams("%v", err)
		}
		return nil, protocol.Errorf(protocol.ErrInternal, "listing threads: %v", err)
	}
	for _, s := range summaries {
		th := m.summaryThread(s)
		if t, err := m.loaded(th.ID); err == nil {
			th = t.snapshot(false)
		}
		resp.Data = append(resp.Data, th)
	}
	if next != "" {
		resp.NextCursor = &next
	}
	return resp, nil
}

// LoadedThreads pages through the ids of loaded threads, in id order
// (which is creation order: ids are UUIDv7).
func (m *Manager) LoadedThreads(_ context.Context, p *protocol.ThreadLoadedListParams) (*protocol.ThreadLoadedListResponse, error) {
	ids := m.loadedIDs()
	start := 0
	if p.Cursor != nil {
		for start < len(ids) && ids[start] <= *p.Cursor {
			start++
		}
	}
	end := min(start+pageSize(p.Limit), len(ids))
	resp := &protocol.ThreadLoadedListResponse{Data: append([]string{}, ids[start:end]...)}
	if end < len(ids) {
		last := ids[end-1]
		resp.NextCursor = &last
	}
	return resp, nil
}

// ArchiveThread moves a thread to the archive, unloading it first.
func (m *Manager) ArchiveThread(_ context.Context, p *protocol.ThreadArchiveParams) (*protocol.ThreadArchiveResponse, error) {
	if t, err := m.loaded(p.ThreadID); err == nil {
		t.mu.Lock()
		running := t.running != nil
		t.mu.Unlock()
		if running {
			return nil, protocol.Errorf(protocol.ErrInvalidRequest, "thread %s has a running turn; interrupt it before archiving", p.ThreadID)
		}
		if t.ephemeral {
			return nil, invalidParams("thread %s is ephemeral and cannot be archived", p.ThreadID)
		}
		m.removeThread(t.id)
		t.unload()
	}
	id, _, err := m.stored(p.ThreadID)
	if err != nil {
		return nil, err
	}
	if err := m.store.Archive(id); err != nil {
		return nil, invalidParams("cannot archive thread %s: %v", p.ThreadID, err)
	}
	m.notify(protocol.MethodThreadArchived, protocol.ThreadArchivedNotification{ThreadID: p.ThreadID})
	return &protocol.ThreadArchiveResponse{}, nil
}

// UnarchiveThread moves a thread back from the archive.
func (m *Manager) UnarchiveThread(_ context.Context, p *protocol.ThreadUnarchiveParams) (*protocol.ThreadUnarchiveResponse, error) {
	id, _, err := m.stored(p.ThreadID)
	if err != nil {
		return nil, err
	}
	if err := m.store.Unarchive(id); err != nil {
		return nil, invalidParams("cannot unarchive thread %s: %v", p.ThreadID, err)
	}
	lt, err := m.loadStored(id)
	if err != nil {
		return nil, err
	}
	th := threadFromLoaded(m, lt).snapshot(false)
	th.Status = protocol.StatusNotLoaded()
	m.notify(protocol.MethodThreadUnarchived, protocol.ThreadUnarchivedNotification{ThreadID: p.ThreadID})
	return &protocol.ThreadUnarchiveResponse{Thread: th}, nil
}
